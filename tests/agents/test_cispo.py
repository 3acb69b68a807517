"""CISPO: clipped, detached importance weights; every token keeps a gradient (hand-computed)."""

from __future__ import annotations

import math

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def test_a_clipped_token_keeps_its_gradient_with_the_capped_weight():
    # token ratios 3 (A = +1, over the cap 1 + eps_high = 2) and 0.5 (A = -1; no lower bound: eps_low = 1)
    old = torch.zeros(2, 1)
    batch = batch_of([1, 1], [1.0, 0.0], [0, 0], old=old)
    logprobs = torch.tensor([[math.log(3.0)], [math.log(0.5)]], requires_grad=True)
    adv = torch.tensor([[1.0], [-1.0]])
    loss, stats = make_agent("cispo", eps_high=1.0, tis_cap=0.0).loss(batch, logprobs, adv, torch.zeros(2, 1))
    assert float(loss) == pytest.approx((-2.0 * math.log(3.0) + 0.5 * math.log(0.5)) / 2, rel=1e-6)
    loss.backward()
    assert logprobs.grad.flatten().tolist() == pytest.approx([-1.0, 0.25], rel=1e-6)  # -w A / 2 tokens
    assert stats["clip_frac"] == pytest.approx(0.5)
    # PPO's clip drops the first token's gradient: the wrong variant this test rejects
    ppo_lp = logprobs.detach().clone().requires_grad_()
    make_agent("grpo", eps_high=1.0, tis_cap=0.0).loss(batch, ppo_lp, adv, torch.zeros(2, 1))[0].backward()
    assert ppo_lp.grad[0, 0] == 0.0


def test_cispo_defaults():
    cfg = make_agent("cispo").config
    assert (cfg.surrogate, cfg.eps_low, cfg.eps_high, cfg.normalize_std) == ("cispo", 1.0, 4.0, True)
