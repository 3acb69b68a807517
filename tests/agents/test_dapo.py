"""DAPO: its defaults switch on the shared loop's clip-higher, token-level loss, dynamic sampling and overlong
shaping (the loop's parts are tested in test_batch_shaping, test_trl_parity and test_trainer)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def test_dapo_defaults_are_the_papers():
    cfg = make_agent("dapo").config
    assert (cfg.eps_low, cfg.eps_high, cfg.aggregation) == (0.2, 0.28, "token_mean")
    assert cfg.dynamic_sampling is True and cfg.overlong_buffer == 0.2 and cfg.overlong_penalty == 1.0
    assert cfg.normalize_std is True and cfg.kl_coef == 0.0


def test_dapo_advantages_are_group_normalised():
    batch = batch_of([1, 1, 1, 1], [1.0, 0.0, 0.0, 0.0], [0, 0, 0, 0])
    adv = make_agent("dapo").credit(batch, torch.Generator()).advantages[:, 0]
    assert adv.tolist() == pytest.approx([1.5, -0.5, -0.5, -0.5], rel=1e-5)  # (R - 0.25) / 0.5 (unbiased std)
