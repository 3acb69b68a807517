"""GSPO: the sequence-level ratio (geometric mean of token ratios) clipped per sequence, hand-computed."""

from __future__ import annotations

import math

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def test_gspo_defaults_are_the_papers():
    cfg = make_agent("gspo").config
    assert (cfg.ratio_level, cfg.eps_low, cfg.eps_high, cfg.aggregation) == (
        "sequence",
        3e-4,
        4e-4,
        "seq_mean_token_mean",
    )


def test_the_ratio_and_the_clip_are_per_sequence():
    # response 0: token log-ratios 0.1, 0.3 -> s = e^0.2 = 1.2214, inside [0.75, 1.25], A = +1;
    # response 1: log-ratio -0.5 -> s = 0.6065 < 0.75 with A = -1: clipped (loss 0.75, no gradient)
    old = torch.zeros(2, 2)
    batch = batch_of([2, 1], [1.0, 0.0], [0, 1], old=old)
    logprobs = torch.tensor([[0.1, 0.3], [-0.5, 0.0]], requires_grad=True)
    adv = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
    agent = make_agent("gspo", eps_low=0.25, eps_high=0.25, tis_cap=0.0)
    loss, stats = agent.loss(batch, logprobs, adv, torch.zeros(2, 2))
    s = math.exp(0.2)
    assert float(loss.detach()) == pytest.approx((-s + 0.75) / 2, rel=1e-6)
    loss.backward()
    # d(-s)/d lp_t = -s / 2 (mean over 2 tokens), / 2 responses
    torch.testing.assert_close(logprobs.grad, torch.tensor([[-s / 4, -s / 4], [0.0, 0.0]]))
    assert stats["clip_frac"] == pytest.approx(1 / 3)  # the one token of the clipped response
    # the wrong variant, per-token ratios, clips token 2 of response 0 (e^0.3 = 1.35 > 1.25): another loss
    token = make_agent("gspo", eps_low=0.25, eps_high=0.25, tis_cap=0.0, ratio_level="token")
    wrong = float(token.loss(batch, logprobs, adv, torch.zeros(2, 2))[0].detach())
    assert wrong != pytest.approx(float(loss.detach()), rel=1e-3)
