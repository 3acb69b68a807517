"""Policy-gradient losses: PPO clipped surrogate with clip-higher, k3 KL estimate, masked aggregation.

All functions are pure; ``N`` is the number of responses and ``T`` the padded response length. Masked-out
positions may hold any value (even NaN or inf): they are selected away with ``torch.where``, never
multiplied by zero.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .config import AGGREGATIONS, Aggregation

__all__ = ["Aggregation", "aggregate", "kl_k3", "ppo_clip_loss", "truncated_is_weights"]


def _check_aggregation(aggregation: str) -> None:
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation: expected one of: {', '.join(AGGREGATIONS)}, got {aggregation!r}")


def _check_mask(values: Tensor, mask: Tensor, name: str = "values") -> None:
    if mask.dtype != torch.bool:
        raise TypeError(f"mask: expected dtype torch.bool, got {mask.dtype}; pass mask.bool()")
    if values.dim() != 2 or values.shape != mask.shape:
        raise ValueError(
            f"{name} and mask: expected the same 2-D shape [N, T], got {list(values.shape)} and {list(mask.shape)}"
        )


def aggregate(values: Tensor, mask: Tensor, aggregation: Aggregation = "token_mean") -> Tensor:
    """Reduce per-token values to a scalar over the masked (response) tokens.

    Args:
        values: Float[N, T] per-token values.
        mask: Bool[N, T], True on the tokens that count.
        aggregation: ``"token_mean"``: mean over all masked tokens of the batch (long responses weigh
            more); ``"seq_mean_token_mean"``: mean over each sequence's masked tokens, then mean over the
            sequences that have at least one masked token.

    Returns:
        Tensor[] (0-dim, differentiable). 0.0 when no token is masked.
    """
    _check_aggregation(aggregation)
    _check_mask(values, mask)
    masked = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))
    if aggregation == "token_mean":
        return masked.sum() / mask.sum().clamp(min=1).to(values.dtype)
    lengths = mask.sum(dim=1)
    per_seq = masked.sum(dim=1) / lengths.clamp(min=1).to(values.dtype)
    return per_seq.sum() / (lengths > 0).sum().clamp(min=1).to(values.dtype)


def kl_k3(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Per-token k3 estimate of KL(policy || reference) from tokens sampled by the policy.

    ``k3 = exp(ref - lp) - (ref - lp) - 1`` (Schulman's unbiased, non-negative estimator).

    Args:
        logprobs: Float[N, T] log-probs of the sampled tokens under the policy.
        ref_logprobs: Float[N, T] their log-probs under the frozen reference.

    Returns:
        Float[N, T], >= 0 everywhere (0 where the two agree).
    """
    if logprobs.shape != ref_logprobs.shape:
        raise ValueError(
            f"logprobs and ref_logprobs: expected the same shape, got {list(logprobs.shape)} "
            f"and {list(ref_logprobs.shape)}"
        )
    diff = ref_logprobs - logprobs
    return torch.exp(diff) - diff - 1.0


def truncated_is_weights(
    old_logprobs: Tensor, sampler_logprobs: Tensor, response_mask: Tensor, *, cap: float
) -> Tensor:
    """Truncated importance weights correcting for a sampler whose probabilities differ from the trainer's.

    ``w_t = min(exp(old_t - sampler_t), cap)``: the trainer's probability of the sampled token over the
    sampler's, truncated at ``cap`` (Yao et al., 2025, "truncated importance sampling"; verl and TRL apply the
    same correction to vLLM rollouts). 1 on padding.

    Args:
        old_logprobs: Float[N, T] the trainer's log-probs of the sampled tokens under the sampling weights.
        sampler_logprobs: Float[N, T] the sampler's own log-probs of them.
        response_mask: Bool[N, T]; cap: > 0.

    Returns:
        Float[N, T] in ``(0, cap]``, without grad.
    """
    _check_mask(old_logprobs, response_mask, "old_logprobs")
    if sampler_logprobs.shape != old_logprobs.shape:
        raise ValueError(
            f"sampler_logprobs: expected shape {list(old_logprobs.shape)}, got {list(sampler_logprobs.shape)}"
        )
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not (0 < cap < math.inf):
        raise ValueError(f"cap: expected a finite float > 0, got {cap!r}")
    log_w = torch.where(response_mask, old_logprobs.detach() - sampler_logprobs.detach(), 0.0)
    return torch.exp(log_w).clamp(max=cap)


def _check_eps(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite float >= 0, got {value!r}")
    if value < 0 or (name == "eps_low" and value > 1):
        raise ValueError(f"{name}: expected a float in [0, {'1' if name == 'eps_low' else 'inf'}), got {value!r}")


def ppo_clip_loss(
    logprobs: Tensor,
    old_logprobs: Tensor,
    advantages: Tensor,
    response_mask: Tensor,
    *,
    eps_low: float = 0.2,
    eps_high: float = 0.28,
    aggregation: Aggregation = "token_mean",
    weights: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """PPO clipped surrogate per token, with clip-higher (asymmetric clip range).

    Per token: ``r = exp(lp - old_lp)``, ``loss_t = -w_t min(r A, clip(r, 1 - eps_low, 1 + eps_high) A)``,
    then reduced with :func:`aggregate`; ``w_t`` are the importance ``weights`` (1 when None).

    Args:
        logprobs: Float[N, T] current log-probs of the sampled tokens (carries the gradient).
        old_logprobs: Float[N, T] log-probs under the sampling policy (treated as constants).
        advantages: Float[N, T] token advantages, or Float[N] broadcast over each response's tokens.
        response_mask: Bool[N, T], True on generated tokens.
        eps_low, eps_high: clip range ``[1 - eps_low, 1 + eps_high]``; ``0 <= eps_low <= 1``, ``eps_high >= 0``.
        aggregation: ``"token_mean"`` or ``"seq_mean_token_mean"`` (see :func:`aggregate`).
        weights: Float[N, T] per-token importance weights (see :func:`truncated_is_weights`), or None.

    Returns:
        ``(loss, stats)``: loss is Tensor[]; stats holds floats over response tokens: ``clip_frac`` (share
        of tokens where the clipped term is strictly the smaller one, i.e. clipping removes the gradient),
        ``approx_kl`` (mean of ``(r - 1) - log r``, an estimate of KL(old || new)) and ``ratio_mean``.
    """
    _check_aggregation(aggregation)
    _check_eps("eps_low", eps_low)
    _check_eps("eps_high", eps_high)
    _check_mask(logprobs, response_mask, "logprobs")
    if old_logprobs.shape != logprobs.shape:
        raise ValueError(f"old_logprobs: expected shape {list(logprobs.shape)}, got {list(old_logprobs.shape)}")
    if advantages.dim() == 1 and advantages.shape[0] == logprobs.shape[0]:
        advantages = advantages.unsqueeze(1).expand(logprobs.shape)
    elif advantages.shape != logprobs.shape:
        raise ValueError(f"advantages: expected shape [N] or {list(logprobs.shape)}, got {list(advantages.shape)}")
    zero = torch.zeros((), dtype=logprobs.dtype, device=logprobs.device)
    log_ratio = torch.where(response_mask, logprobs - old_logprobs.detach(), zero)
    adv = torch.where(response_mask, advantages.detach(), zero)
    ratio = torch.exp(log_ratio)
    surrogate = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    per_token = -torch.minimum(surrogate, clipped)
    if weights is not None:
        if weights.shape != logprobs.shape:
            raise ValueError(f"weights: expected shape {list(logprobs.shape)}, got {list(weights.shape)}")
        per_token = per_token * torch.where(response_mask, weights.detach(), zero)
    loss = aggregate(per_token, response_mask, aggregation)
    with torch.no_grad():
        count = max(int(response_mask.sum()), 1)

        def mean(x: Tensor) -> float:
            return float(torch.where(response_mask, x, zero).sum()) / count

        stats = {
            "clip_frac": mean((clipped < surrogate).to(logprobs.dtype)),
            "approx_kl": mean((ratio - 1.0) - log_ratio),
            "ratio_mean": mean(ratio),
        }
    return loss, stats
