"""High-entropy amplification that never selects a planning token."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of

# the two planning tokens (0, 0) .9 and (1, 2) .8 are the batch's most uncertain; 9.0 lies on padding
ENTROPY = torch.tensor([[0.9, 0.3, 0.7, 0.1], [0.2, 0.6, 0.8, 9.0]])
PLANNING = torch.tensor([[1, 0, 0, 0], [0, 0, 1, 0]], dtype=torch.bool)


def _batch():
    return batch_of([4, 3], [1.0, 0.0], [0, 0], planning=PLANNING, entropy=ENTROPY)


def test_matched_takes_the_highest_entropy_non_planning_tokens_as_many_as_planning_tokens():
    credit = make_agent("high_entropy_nonplanning").credit(_batch(), torch.Generator())
    assert credit.amplified.int().tolist() == [[0, 0, 1, 0], [0, 1, 0, 0]]  # .7 and .6
    assert credit.advantages[0].tolist() == pytest.approx([0.5, 0.5, 0.6, 0.5])
    assert credit.advantages[1, :3].tolist() == pytest.approx([-0.5, -0.4, -0.5])
    high = make_agent("high_entropy").credit(_batch(), torch.Generator()).amplified
    assert torch.equal(high, PLANNING)  # the plain ablation picks exactly the planning tokens here


def test_top_fraction_takes_the_top_share_of_each_responses_non_planning_tokens():
    # rho .5: row 0 has 3 non-planning tokens -> ceil(1.5) = 2 (.7, .3); row 1 has 2 -> 1 (.6)
    credit = make_agent("high_entropy_nonplanning", entropy_tokens="top_fraction", rho=0.5).credit(
        _batch(), torch.Generator()
    )
    assert credit.amplified.int().tolist() == [[0, 1, 1, 0], [0, 1, 0, 0]]


def test_it_needs_the_entropy():
    agent = make_agent("high_entropy_nonplanning")
    assert agent.reads_entropy
    with pytest.raises(ValueError, match=r"high_entropy_nonplanning needs batch\.entropy"):
        agent.credit(batch_of([2], [1.0], [0]), torch.Generator())
