"""DAPO's overlong reward shaping and dynamic sampling's group choice, against hand-computed cases of the paper's
formulas (TRL lists dynamic sampling as unsupported; its overlong reward is compared in test_trl_parity)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.batch_shaping import buffer_tokens, informative_rows, overlong_penalty, pick_groups


def test_overlong_penalty_follows_dapos_piecewise_formula():
    # L_max = 20, L_cache = 4: free up to 16 tokens, then linear down to -1 at 20 (paper, eq. 13)
    lengths = torch.tensor([0, 16, 17, 19, 20, 25])
    got = overlong_penalty(lengths, max_length=20, buffer=4, penalty=1.0)
    assert got.tolist() == pytest.approx([0.0, 0.0, -0.25, -0.75, -1.0, -1.0])
    assert overlong_penalty(lengths, max_length=20, buffer=4, penalty=0.5).tolist() == pytest.approx(
        [0.0, 0.0, -0.125, -0.375, -0.5, -0.5]
    )
    assert not overlong_penalty(lengths, max_length=20, buffer=0).any()  # 0: no shaping


def test_the_buffer_is_a_share_of_the_budget_and_bad_buffers_are_refused():
    assert buffer_tokens(0.2, 48) == 10 and buffer_tokens(0.2, 20480) == 4096 and buffer_tokens(0.0, 48) == 0
    assert buffer_tokens(0.001, 48) == 1  # a positive share shapes at least the last token
    for buffer in (-1, 21, 2.5, True):
        with pytest.raises(ValueError, match="buffer: expected an int in"):
            overlong_penalty(torch.tensor([3]), max_length=20, buffer=buffer)


def test_informative_rows_are_those_of_groups_whose_rewards_differ():
    rewards = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.5001])
    groups = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    assert informative_rows(rewards, groups).tolist() == [False, False, True, True, False, False, True, True]
    shuffled = torch.tensor([1, 0, 1, 0])  # group membership is explicit, not positional
    assert informative_rows(torch.tensor([0.0, 1.0, 1.0, 1.0]), shuffled).tolist() == [True, False, True, False]


def test_pick_groups_keeps_informative_groups_in_draw_order_and_fills_with_the_rest():
    # round 0: groups 0 (all 1), 1 (mixed); round 1: groups 4 (mixed), 5 (all 0), 6 (mixed)
    rewards = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    groups = torch.tensor([0, 0, 1, 1, 4, 4, 5, 5, 6, 6])
    rows, useful = pick_groups(rewards, groups, 2)
    assert rows.tolist() == [2, 3, 4, 5] and useful == 2  # groups 1 and 4: not 6, which came later
    rows, useful = pick_groups(rewards, groups, 4)
    assert rows.tolist() == [0, 1, 2, 3, 4, 5, 8, 9] and useful == 3  # 1, 4, 6 + the first uninformative, 0
