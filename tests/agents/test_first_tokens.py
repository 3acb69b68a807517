"""The first-k-tokens control: each response's first k tokens, k from the config or HICRA's count per response."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import first_tokens as first_tokens_module
from hicra.agents import make_agent
from hicra.agents.first_tokens import first_tokens_mask

from .hand_batches import batch_of

# 3 responses of 4, 2 and 3 tokens; 4 planning tokens, none at the start of row 0: ceil(4 / 3) = 2 per response
PLANNING = torch.tensor([[0, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=torch.bool)


def _batch(planning=PLANNING):
    return batch_of([4, 2, 3], [1.0, 0.0, 0.0], [0, 0, 1], planning=planning)


def test_first_tokens_mask_takes_the_first_k_response_tokens_of_each_row():
    response = _batch().response_mask
    assert first_tokens_mask(response, 1).int().tolist() == [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    assert first_tokens_mask(response, 3).int().tolist() == [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 0]]
    assert torch.equal(first_tokens_mask(response, 99), response) and not first_tokens_mask(response, 0).any()
    for k in (-1, 1.5, True):
        with pytest.raises(ValueError, match="k: expected an int >= 0"):
            first_tokens_mask(response, k)


def test_k_from_the_config():
    credit = make_agent("first_tokens", first_k=1).credit(_batch(), torch.Generator())
    assert credit.amplified.int().tolist() == [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    # A = [.5, -.5 | 0]: the first token gets A + .2|A|, the planning tokens (2, 3 of row 0) keep A
    assert credit.advantages[0].tolist() == pytest.approx([0.6, 0.5, 0.5, 0.5])
    assert credit.advantages[1, :2].tolist() == pytest.approx([-0.4, -0.5])


def test_k_by_default_is_the_batchs_planning_tokens_per_response_rounded_up():
    agent = make_agent("first_tokens")
    assert agent.config.first_k is None and not agent.reads_entropy
    assert agent.credit(_batch(), torch.Generator()).amplified.int().tolist() == [
        [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0],
    ]  # fmt: skip
    three = PLANNING & ~torch.tensor([[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)  # 3 / 3 -> 1
    assert int(agent.credit(_batch(three), torch.Generator()).amplified.sum()) == 3
    five = PLANNING | torch.tensor([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)  # 5 / 3 -> 2
    assert int(agent.credit(_batch(five), torch.Generator()).amplified.sum()) == 6
    assert not agent.credit(_batch(torch.zeros(3, 4, dtype=torch.bool)), torch.Generator()).amplified.any()


def test_under_torchrun_k_is_the_global_batchs_average(monkeypatch):
    """Rank 0 holds rows 0-1 (3 planning tokens), rank 1 row 2 (1): globally ceil(4 / 3) = 2; alone, rank 1 would
    take ceil(1 / 1) = 1. The gather is simulated with the other rank's counts."""
    batch = _batch()
    rank1 = batch.select(torch.tensor([2]))
    monkeypatch.setattr(first_tokens_module, "gather_ranks", lambda x: ([torch.tensor([3, 2]), x], 1))
    assert make_agent("first_tokens").credit(rank1, torch.Generator()).amplified.int().tolist() == [[1, 1, 0, 0]]
    monkeypatch.setattr(first_tokens_module, "gather_ranks", lambda x: ([x], 0))
    assert make_agent("first_tokens").credit(rank1, torch.Generator()).amplified.int().tolist() == [[1, 0, 0, 0]]
