"""Run by ``torchrun`` from tests/agents/test_controls_distributed.py (2 ranks, gloo on CPU); not a test module.

``controls_worker.py BATCH OUT``: rank r takes its half of the rows of the saved batch, assigns the credit of each
control (generator seeded ``100 + r``) and saves its credit masks to ``OUT/rank-r.pt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

torch.set_num_threads(1)

import torch.distributed as dist  # noqa: E402

from hicra.agents import make_agent  # noqa: E402

CONTROLS = ("placebo_matched", "first_tokens", "high_entropy_nonplanning")


def main() -> None:
    batch_path, out = sys.argv[1], Path(sys.argv[2])
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    batch = torch.load(batch_path, weights_only=False)
    share = len(batch) // world
    local = batch.select(torch.arange(rank * share, (rank + 1) * share))
    masks = {name: make_agent(name).credit(local, torch.Generator().manual_seed(100 + rank)).amplified
             for name in CONTROLS}  # fmt: skip
    torch.save(masks, out / f"rank-{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
