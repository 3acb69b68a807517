"""Credit assignment: GRPO group advantages and HICRA's planning-token amplification.

Both are pure tensor functions (see DESIGN.md, "HICRA, exactly"):

- GRPO: ``A_i = R_i - mean_{j in group(i)} R_j`` (optionally divided by the group's std);
- HICRA: ``A'_t = A_i + alpha * |A_i|`` on planning tokens, ``A_i`` elsewhere, so planning tokens get
  ``(1 + alpha) A`` in successful responses and ``(1 - alpha) A`` in failed ones.

>>> import torch
>>> group_advantages(torch.tensor([1.0, 0.0, 0.0, 1.0]), torch.tensor([0, 0, 1, 1]))
tensor([ 0.5000, -0.5000, -0.5000,  0.5000])
>>> hicra_advantages(torch.tensor([0.5, -0.5]), torch.tensor([[True, False], [True, False]]))
tensor([[ 0.6000,  0.5000],
        [-0.4000, -0.5000]])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["group_advantages", "hicra_advantages", "leave_one_out_advantages"]


def _check_vector(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 1:
        raise ValueError(f"{name}: expected a 1-D tensor [N], got shape {tuple(x.shape)}")
    return x


def group_advantages(rewards: Tensor, group_ids: Tensor, *, normalize_std: bool = False, eps: float = 1e-6) -> Tensor:
    """GRPO advantages: each reward minus the mean reward of its group.

    Args:
        rewards: Float[N], one scalar reward per response (ints/bools are cast to float32).
        group_ids: Int[N], the group (prompt) of each response; groups need not be contiguous or sorted.
        normalize_std: also divide by the group's standard deviation (unbiased, as ``torch.std``) plus
            ``eps``. Off by default, as in the paper.
        eps: added to the std when ``normalize_std`` is on.

    Returns:
        Float[N] advantages. A group whose rewards are all equal (including a group of one) gets exact
        zeros, never NaN.
    """
    rewards = _check_vector("rewards", rewards)
    group_ids = _check_vector("group_ids", group_ids)
    if rewards.shape != group_ids.shape:
        raise ValueError(
            f"rewards and group_ids must have the same length, got {rewards.shape[0]} and {group_ids.shape[0]}"
        )
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite float >= 0, got {eps!r}")
    if not rewards.is_floating_point():
        rewards = rewards.to(torch.float32)
    if rewards.numel() == 0:
        return rewards.clone()
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    n_groups = counts.shape[0]
    sums = torch.zeros(n_groups, dtype=rewards.dtype, device=rewards.device).index_add_(0, inverse, rewards)
    counts_f = counts.to(rewards.dtype)
    centred = rewards - (sums / counts_f)[inverse]
    # Exact zeros for zero-variance groups: the mean of equal floats can differ from them by rounding.
    fill = torch.full((n_groups,), float("inf"), dtype=rewards.dtype, device=rewards.device)
    g_min = fill.scatter_reduce(0, inverse, rewards, reduce="amin")
    g_max = (-fill).scatter_reduce(0, inverse, rewards, reduce="amax")
    constant = (g_max == g_min)[inverse]
    if normalize_std:
        sq = torch.zeros_like(sums).index_add_(0, inverse, centred * centred)
        std = torch.sqrt(sq / (counts_f - 1).clamp(min=1))
        centred = centred / (std[inverse] + eps)
    return torch.where(constant, torch.zeros_like(centred), centred)


def hicra_advantages(advantages: Tensor, planning_mask: Tensor, alpha: float = 0.2) -> Tensor:
    """HICRA's token advantages: ``A + alpha * |A|`` on planning tokens, ``A`` elsewhere.

    Args:
        advantages: Float[N] (one per response, broadcast over its tokens) or Float[N, T] (per token).
        planning_mask: Bool[N, T], True on planning tokens (False on padding).
        alpha: amplification factor, a float >= 0 (the paper uses 0.2).

    Returns:
        Float[N, T]: ``(1 + alpha) A`` on planning tokens of responses with A > 0, ``(1 - alpha) A`` on
        planning tokens of responses with A < 0, and A unchanged on every other token.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
        raise TypeError(f"alpha: expected a float >= 0, got {type(alpha).__name__} {alpha!r}")
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha: expected a finite float >= 0 (the paper uses 0.2), got {alpha!r}")
    if not isinstance(advantages, Tensor) or not isinstance(planning_mask, Tensor):
        raise TypeError("advantages and planning_mask must be torch.Tensor")
    if planning_mask.dim() != 2:
        raise ValueError(f"planning_mask: expected a 2-D Bool[N, T], got shape {tuple(planning_mask.shape)}")
    if planning_mask.dtype != torch.bool:
        raise TypeError(f"planning_mask: expected dtype torch.bool, got {planning_mask.dtype}; pass mask.bool()")
    if advantages.dim() == 1 and advantages.shape[0] == planning_mask.shape[0]:
        advantages = advantages.unsqueeze(1).expand(planning_mask.shape)
    elif advantages.shape != planning_mask.shape:
        raise ValueError(
            f"advantages: expected shape [N]=[{planning_mask.shape[0]}] or [N, T]={list(planning_mask.shape)} "
            f"matching planning_mask, got {list(advantages.shape)}"
        )
    return torch.where(planning_mask, advantages + alpha * advantages.abs(), advantages)


def leave_one_out_advantages(rewards: Tensor, group_ids: Tensor) -> Tensor:
    """RLOO advantages: each reward minus the mean reward of the *other* responses of its group.

    ``A_i = R_i - (sum_j R_j - R_i) / (G - 1) = G / (G - 1) * (R_i - mean_j R_j)`` (Kool et al. 2019; Ahmadian et
    al. 2024): an unbiased baseline, since it does not depend on the response it scores.

    Args:
        rewards: Float[N]; group_ids: Int[N] (groups need not be contiguous, nor of equal size).

    Returns:
        Float[N]; exact zeros in a group whose rewards are all equal, and in a group of one (no other response).

    >>> leave_one_out_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), torch.tensor([0, 0, 0, 0]))
    tensor([ 1.0000, -0.3333, -0.3333, -0.3333])
    """
    centred = group_advantages(rewards, group_ids)
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    size = counts[inverse].to(centred.dtype)
    return torch.where(size > 1, centred * size / (size - 1).clamp(min=1), torch.zeros_like(centred))
