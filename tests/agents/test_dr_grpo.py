"""Dr. GRPO: centred (not std-divided) advantages and a constant loss normaliser, hand-computed."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def test_advantages_are_only_centred():
    batch = batch_of([1, 1, 1, 1], [1.0, 0.0, 0.0, 0.0], [0, 0, 0, 0])
    adv = make_agent("dr_grpo").credit(batch, torch.Generator()).advantages[:, 0]
    assert adv.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25])  # std-divided would be 1.5, -0.5


def test_the_loss_is_the_token_sum_over_responses_times_the_budget():
    # ratio 1, A = +1 on a 1-token response and -1 on a 3-token one: token losses -1 and +1, +1, +1; sum = 2
    old = torch.zeros(2, 3)
    batch = batch_of([1, 3], [1.0, 0.0], [0, 0], old=old, max_new_tokens=4)
    adv = torch.tensor([[1.0] * 3, [-1.0] * 3])
    loss, _ = make_agent("dr_grpo", tis_cap=0.0).loss(batch, torch.zeros(2, 3), adv, torch.zeros(2, 3))
    assert float(loss) == pytest.approx(2 / (2 * 4))  # token_mean: 2 / 4; seq_mean_token_mean: 0
    cfg = make_agent("dr_grpo").config
    assert (cfg.aggregation, cfg.normalize_std, cfg.eps_low, cfg.eps_high) == (
        "seq_mean_token_sum_norm",
        False,
        0.2,
        0.2,
    )
