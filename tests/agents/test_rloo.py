"""RLOO: the leave-one-out baseline, hand-computed (no peer runs it in this loop)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent
from hicra.agents.advantages import leave_one_out_advantages

from .hand_batches import batch_of


def test_each_response_is_scored_against_the_mean_of_the_others():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 2.0, 0.0, 5.0])
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2, 3])
    got = leave_one_out_advantages(rewards, groups).tolist()
    # group 0: 1 - 0 = 1, 0 - 1/3; group 1: all equal; group 2 (0, 2, 0): 0 - 1, 2 - 0, 0 - 1; group 3: alone
    assert got == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3, 0.0, 0.0, -1.0, 2.0, -1.0, 0.0])
    # not the group mean (GRPO's baseline): 0.75 / -0.25 in group 0
    assert got[0] != pytest.approx(0.75)


def test_the_rloo_agent_uses_it_and_ignores_normalize_std():
    batch = batch_of([2, 2, 2, 2], [1.0, 0.0, 0.0, 0.0], [0, 0, 0, 0])
    for agent in (make_agent("rloo"), make_agent("rloo", normalize_std=True)):
        adv = agent.credit(batch, torch.Generator()).advantages
        assert adv[:, 0].tolist() == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3])
