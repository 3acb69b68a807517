"""Hand-computed tables for the PPO clipped surrogate (clip-higher), k3 KL and aggregation."""

from __future__ import annotations

import math

import pytest
import torch

from hicra.agents.losses import aggregate, kl_k3, ppo_clip_loss

T = torch.tensor
NAN = float("nan")

# Ratios r and advantages A; eps_low 0.2, eps_high 0.28 -> clip range [0.8, 1.28].
#   r=1.5, A=+1: min(1.5, 1.28)   = 1.28  -> loss -1.28, clipped (no gradient)
#   r=0.5, A=+1: min(0.5, 0.8)    = 0.5   -> loss -0.5,  not clipped
#   r=1.1, A=-1: min(-1.1, -1.1)  = -1.1  -> loss  1.1,  not clipped
#   r=0.7, A=-1: min(-0.7, -0.8)  = -0.8  -> loss  0.8,  clipped (no gradient)
# Row 0 holds the first three, row 1 the last one followed by two NaN-padded positions.
RATIOS = [[1.5, 0.5, 1.1], [0.7, 1.0, 1.0]]
ADV = T([[1.0, 1.0, -1.0], [-1.0, NAN, NAN]])
MASK = T([[True, True, True], [True, False, False]])


def _inputs():
    old = T([[-1.0, -2.0, -0.5], [-1.5, NAN, NAN]])
    lp = (old + torch.log(T(RATIOS))).requires_grad_(True)
    return lp, old


def test_ppo_token_mean_values_gradients_and_stats():
    lp, old = _inputs()
    loss, stats = ppo_clip_loss(lp, old, ADV, MASK)
    assert loss.item() == pytest.approx((-1.28 - 0.5 + 1.1 + 0.8) / 4)  # 0.03
    loss.backward()
    # d/dlp of -r*A/4 = -r*A/4 on unclipped tokens, 0 on clipped ones and on padding.
    torch.testing.assert_close(lp.grad, T([[0.0, -0.125, 0.275], [0.0, 0.0, 0.0]]))
    assert stats["clip_frac"] == pytest.approx(0.5)
    assert stats["ratio_mean"] == pytest.approx((1.5 + 0.5 + 1.1 + 0.7) / 4)
    # mean of (r - 1) - log r: 0.094535, 0.193147, 0.004690, 0.056675
    assert stats["approx_kl"] == pytest.approx((0.094535 + 0.193147 + 0.004690 + 0.056675) / 4, abs=1e-6)
    assert all(isinstance(v, float) for v in stats.values())


def test_ppo_seq_mean_token_mean_with_unequal_lengths():
    lp, old = _inputs()
    loss, _ = ppo_clip_loss(lp, old, ADV, MASK, aggregation="seq_mean_token_mean")
    # row 0: (-1.28 - 0.5 + 1.1) / 3 = -0.226667; row 1: 0.8 -> mean 0.286667
    assert loss.item() == pytest.approx(((-1.28 - 0.5 + 1.1) / 3 + 0.8) / 2)


def test_clip_higher_is_asymmetric():
    old = T([[0.0, 0.0]])
    lp = torch.log(T([[1.25, 1.25]]))
    adv = T([1.0])  # broadcast over tokens
    mask = T([[True, True]])
    loss, stats = ppo_clip_loss(lp, old, adv, mask)  # 1.25 < 1.28: inside the range
    assert loss.item() == pytest.approx(-1.25) and stats["clip_frac"] == 0.0
    loss, stats = ppo_clip_loss(lp, old, adv, mask, eps_high=0.2)  # symmetric: clipped at 1.2
    assert loss.item() == pytest.approx(-1.2) and stats["clip_frac"] == 1.0


def test_ppo_at_ratio_one_is_minus_mean_advantage():
    lp = T([[-0.3, -0.7]], requires_grad=True)
    loss, stats = ppo_clip_loss(lp, lp.detach().clone(), T([[2.0, -1.0]]), T([[True, True]]))
    assert loss.item() == pytest.approx(-0.5)
    assert stats == {"clip_frac": 0.0, "approx_kl": 0.0, "ratio_mean": 1.0}


def test_ppo_validation():
    lp, old = _inputs()
    with pytest.raises(
        ValueError,
        match=(
            "aggregation: expected one of: token_mean, seq_mean_token_mean, seq_mean_token_sum_norm, got 'token-mean'"
        ),
    ):
        ppo_clip_loss(lp, old, ADV, MASK, aggregation="token-mean")
    with pytest.raises(ValueError, match="eps_low"):
        ppo_clip_loss(lp, old, ADV, MASK, eps_low=-0.1)
    with pytest.raises(ValueError, match="eps_high"):
        ppo_clip_loss(lp, old, ADV, MASK, eps_high=float("inf"))
    with pytest.raises(ValueError, match="old_logprobs"):
        ppo_clip_loss(lp, old[:, :2], ADV, MASK)
    with pytest.raises(ValueError, match="advantages"):
        ppo_clip_loss(lp, old, ADV[:, :2], MASK)
    with pytest.raises(TypeError, match="bool"):
        ppo_clip_loss(lp, old, ADV, MASK.long())


# (ref - lp, k3 = exp(d) - d - 1)
K3_TABLE = [(0.0, 0.0), (math.log(2.0), 2.0 - math.log(2.0) - 1.0), (-1.0, math.exp(-1.0)), (2.0, 4.389056)]


@pytest.mark.parametrize(("diff", "expected"), K3_TABLE)
def test_kl_k3_table(diff, expected):
    lp = T([[-1.0]])
    assert kl_k3(lp, lp + diff).item() == pytest.approx(expected, abs=1e-5)


def test_kl_k3_shape_check():
    with pytest.raises(ValueError, match="same shape"):
        kl_k3(torch.zeros(2, 3), torch.zeros(2, 2))


def test_aggregate_table():
    values = T([[1.0, 2.0, 3.0], [10.0, NAN, float("inf")], [NAN, NAN, NAN]])
    mask = T([[True, True, True], [True, False, False], [False, False, False]])
    assert aggregate(values, mask, "token_mean").item() == pytest.approx(16 / 4)
    # rows: 2.0 and 10.0; the empty third row is left out of the sequence mean
    assert aggregate(values, mask, "seq_mean_token_mean").item() == pytest.approx(6.0)
    assert aggregate(values, torch.zeros_like(mask), "token_mean").item() == 0.0
    assert aggregate(values, torch.zeros_like(mask), "seq_mean_token_mean").item() == 0.0
    with pytest.raises(ValueError, match="aggregation: expected one of: token_mean, seq_mean_token_mean"):
        aggregate(values, mask, "seq_mean_tokens_mean")
