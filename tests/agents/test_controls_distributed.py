"""The controls under torchrun (2 processes on CPU, gloo): each rank's credit mask is its rows of the selection one
process makes on the global batch. Here rank 1's rows hold no planning token, so a per-rank selection would amplify
nothing there (and rank 0 could not reach rank 1's tokens)."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from hicra.agents.entropy_masks import top_entropy_mask
from hicra.agents.first_tokens import first_tokens_mask
from hicra.agents.placebo_matched import entropy_matched_mask

from .hand_batches import batch_of
from .torchrun_launch import torchrun

WORKER = Path(__file__).with_name("controls_worker.py")
ENTROPY = torch.tensor([[0.50, 0.48, 0.02, 0.30], [0.10, 0.55, 0.09, 9.0], [0.20, 0.47, 0.05, 0.60],
                        [0.33, 0.08, 0.52, 0.13]])  # fmt: skip
PLANNING = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)


def test_two_ranks_select_the_controls_tokens_over_the_global_batch(tmp_path):
    batch = batch_of([4, 3, 4, 4], [1.0, 0.0, 1.0, 0.0], [0, 0, 1, 1], planning=PLANNING, entropy=ENTROPY)
    torch.save(batch, tmp_path / "batch.pt")
    done = torchrun(str(WORKER), str(tmp_path / "batch.pt"), str(tmp_path))
    assert done.returncode == 0, done.stdout[-4000:]
    ranks = [torch.load(tmp_path / f"rank-{r}.pt") for r in range(2)]
    got = {name: torch.cat([r[name] for r in ranks]) for name in ranks[0]}
    response, alone = batch.response_mask, lambda x: ([x], 0)
    # the keys each rank drew from its own generator (seed 100 + rank), over its [2, 4] rows
    keys = torch.cat([torch.rand(2, 4, generator=torch.Generator().manual_seed(100 + r), dtype=torch.float64)
                      for r in range(2)])  # fmt: skip
    placebo = entropy_matched_mask(ENTROPY, PLANNING, response, keys, gather=alone)
    # .55 -> .52 (3, 2) on rank 1's rows (.60 is .05 away); .50 -> .48 (0, 1); .10 -> .09 (1, 2)
    assert placebo.nonzero().tolist() == [[0, 1], [1, 2], [3, 2]]
    assert torch.equal(got["placebo_matched"], placebo)
    k = math.ceil(3 / 4)  # 3 planning tokens over 4 responses; rank 1 alone has none (k = 0)
    assert torch.equal(got["first_tokens"], first_tokens_mask(response, k)) and got["first_tokens"][2:].any()
    high = top_entropy_mask(ENTROPY, response & ~PLANNING, 3, gather=alone)  # .60, .52, .48
    assert high.nonzero().tolist() == [[0, 1], [2, 3], [3, 2]]
    assert torch.equal(got["high_entropy_nonplanning"], high)
