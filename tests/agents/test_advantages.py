"""Hand-computed tables for GRPO group advantages and HICRA's token advantages."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.advantages import group_advantages, hicra_advantages

T = torch.tensor


def test_group_advantages_centre_non_contiguous_groups():
    # group 7: rewards 1, 1, 0 -> mean 2/3; group 3: rewards 0, 1, 0 -> mean 1/3; interleaved rows.
    rewards = T([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    groups = T([7, 3, 7, 3, 7, 3])
    expected = T([1 / 3, -1 / 3, 1 / 3, 2 / 3, -2 / 3, -1 / 3])
    torch.testing.assert_close(group_advantages(rewards, groups), expected)


def test_group_advantages_std_normalisation():
    # group 7 deviations 1/3, 1/3, -2/3: unbiased var = (1/9 + 1/9 + 4/9) / 2 = 1/3, std = 0.57735.
    rewards = T([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    groups = T([7, 3, 7, 3, 7, 3])
    out = group_advantages(rewards, groups, normalize_std=True, eps=0.0)
    expected = T([0.57735, -0.57735, 0.57735, 1.15470, -1.15470, -0.57735])
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    # eps is added to the std: 1/3 / (0.57735 + 1) = 0.211325
    out_eps = group_advantages(rewards, groups, normalize_std=True, eps=1.0)
    assert out_eps[0].item() == pytest.approx(0.211325, abs=1e-6)


@pytest.mark.parametrize("normalize_std", [False, True])
def test_zero_variance_and_singleton_groups_give_exact_zeros(normalize_std):
    # three equal rewards of 0.1 (their float mean is not exactly 0.1), one singleton, one mixed group.
    rewards = T([0.1, 0.1, 0.1, 5.0, 1.0, 0.0], dtype=torch.float64)
    groups = T([0, 0, 0, 1, 2, 2])
    out = group_advantages(rewards, groups, normalize_std=normalize_std)
    assert torch.isfinite(out).all()
    assert out[:4].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert out[4].item() == pytest.approx(0.70710 if normalize_std else 0.5, abs=1e-4)
    assert out.dtype == torch.float64


def test_group_advantages_casts_integer_rewards_and_handles_empty():
    out = group_advantages(T([1, 0]), T([0, 0]))
    assert out.dtype == torch.float32 and out.tolist() == [0.5, -0.5]
    assert group_advantages(T([]), T([], dtype=torch.long)).numel() == 0


def test_group_advantages_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same length"):
        group_advantages(T([1.0, 0.0]), T([0, 0, 1]))
    with pytest.raises(ValueError, match="1-D"):
        group_advantages(T([[1.0, 0.0]]), T([0, 0]))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        group_advantages([1.0, 0.0], T([0, 0]))


# (advantage of the response, planning?, expected token advantage) with alpha = 0.2
HICRA_TABLE = [
    (0.5, True, 0.6),  # success: (1 + alpha) A
    (0.5, False, 0.5),
    (-0.5, True, -0.4),  # failure: (1 - alpha) A, NOT (1 + alpha) A = -0.6
    (-0.5, False, -0.5),
    (0.0, True, 0.0),
]


@pytest.mark.parametrize(("adv", "planning", "expected"), HICRA_TABLE)
def test_hicra_table(adv, planning, expected):
    out = hicra_advantages(T([adv]), T([[planning, False]]), alpha=0.2)
    assert out[0, 0].item() == pytest.approx(expected)
    assert out[0, 1].item() == pytest.approx(adv)


def test_hicra_per_token_advantages_and_broadcast_agree():
    adv = T([2.0, -1.0])
    mask = T([[True, False, True], [False, True, True]])
    expected = T([[2.2, 2.0, 2.2], [-1.0, -0.9, -0.9]])
    torch.testing.assert_close(hicra_advantages(adv, mask, alpha=0.1), expected)
    per_token = adv[:, None].repeat(1, 3)
    torch.testing.assert_close(hicra_advantages(per_token, mask, alpha=0.1), expected)
    assert per_token.tolist() == [[2.0] * 3, [-1.0] * 3]  # input left untouched
    torch.testing.assert_close(hicra_advantages(adv, mask, alpha=0.0), per_token)


def test_hicra_with_grpo_advantages_end_to_end():
    # group of 4: rewards 1, 0, 0, 0 -> A = 0.75, -0.25, -0.25, -0.25; alpha 0.2 on token 0 only.
    adv = group_advantages(T([1.0, 0.0, 0.0, 0.0]), T([0, 0, 0, 0]))
    mask = T([[True, False]] * 4)
    out = hicra_advantages(adv, mask)
    torch.testing.assert_close(out[:, 0], T([0.9, -0.2, -0.2, -0.2]))
    torch.testing.assert_close(out[:, 1], T([0.75, -0.25, -0.25, -0.25]))


def test_hicra_validation():
    mask = T([[True, False]])
    with pytest.raises(ValueError, match="alpha"):
        hicra_advantages(T([1.0]), mask, alpha=-0.1)
    with pytest.raises(TypeError, match="alpha"):
        hicra_advantages(T([1.0]), mask, alpha=True)
    with pytest.raises(TypeError, match=r"mask\.bool\(\)"):
        hicra_advantages(T([1.0]), mask.float())
    with pytest.raises(ValueError, match="shape"):
        hicra_advantages(T([1.0, 2.0, 3.0]), mask)
    with pytest.raises(ValueError, match="2-D"):
        hicra_advantages(T([1.0]), T([True]))
