"""Policy-gradient losses: PPO clipped surrogate with clip-higher (per token or per sequence, GSPO), CISPO's clipped
importance weights, k3 KL estimate, masked aggregation.

All functions are pure; ``N`` is the number of responses and ``T`` the padded response length. Masked-out
positions may hold any value (even NaN or inf): they are selected away with ``torch.where``, never
multiplied by zero.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .config import AGGREGATIONS, Aggregation

__all__ = [
    "Aggregation", "aggregate", "cispo_loss", "importance_log_ratio", "kl_k3", "ppo_clip_loss", "truncated_is_weights",
]  # fmt: skip


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


def aggregate(
    values: Tensor, mask: Tensor, aggregation: Aggregation = "token_mean", *, norm_length: int | None = None
) -> Tensor:
    """Reduce per-token values to a scalar over the masked (response) tokens.

    Args:
        values: Float[N, T] per-token values.
        mask: Bool[N, T], True on the tokens that count.
        aggregation: ``"token_mean"``: mean over all masked tokens of the batch (long responses weigh
            more); ``"seq_mean_token_mean"``: mean over each sequence's masked tokens, then mean over the
            sequences that have at least one masked token; ``"seq_mean_token_sum_norm"``: sum over all masked tokens
            divided by ``N * norm_length``, a constant that does not depend on the responses' lengths (Dr. GRPO).
        norm_length: the constant length of ``seq_mean_token_sum_norm`` (the generation budget, ``max_new_tokens``);
            None: ``T``.

    Returns:
        Tensor[] (0-dim, differentiable). 0.0 when no token is masked.
    """
    _check_aggregation(aggregation)
    _check_mask(values, mask)
    masked = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))
    if aggregation == "token_mean":
        return masked.sum() / mask.sum().clamp(min=1).to(values.dtype)
    if aggregation == "seq_mean_token_sum_norm":
        length = values.shape[1] if norm_length is None else norm_length
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"norm_length: expected an int >= 1, got {norm_length!r}")
        return masked.sum() / max(values.shape[0] * length, 1)
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


def importance_log_ratio(logprobs: Tensor, old_logprobs: Tensor, response_mask: Tensor, level: str = "token") -> Tensor:
    """Log importance ratio of the current to the old policy, 0 on padding.

    ``level="token"``: ``lp_t - old_t`` (PPO); ``level="sequence"``: each response's mean of those over its tokens,
    broadcast to its tokens (GSPO's ``log s_i``: the ratio is the geometric mean of the token ratios, and its
    gradient reaches every token of the response).

    Args:
        logprobs: Float[N, T] (carries the gradient); old_logprobs: Float[N, T] (constants); response_mask: Bool[N, T].

    Returns:
        Float[N, T].
    """
    zero = torch.zeros((), dtype=logprobs.dtype, device=logprobs.device)
    log_ratio = torch.where(response_mask, logprobs - old_logprobs.detach(), zero)
    if level == "token":
        return log_ratio
    if level != "sequence":
        raise ValueError(f"level: expected one of: token, sequence, got {level!r}")
    lengths = response_mask.sum(dim=1, keepdim=True).clamp(min=1).to(logprobs.dtype)
    per_seq = log_ratio.sum(dim=1, keepdim=True) / lengths
    return torch.where(response_mask, per_seq.expand_as(log_ratio), zero)


def _prepare(logprobs, old_logprobs, advantages, response_mask, aggregation, eps_low, eps_high) -> Tensor:
    """Check the common arguments of the surrogates; the advantages as Float[N, T]."""
    _check_aggregation(aggregation)
    _check_eps("eps_low", eps_low)
    _check_eps("eps_high", eps_high)
    _check_mask(logprobs, response_mask, "logprobs")
    if old_logprobs.shape != logprobs.shape:
        raise ValueError(f"old_logprobs: expected shape {list(logprobs.shape)}, got {list(old_logprobs.shape)}")
    if advantages.dim() == 1 and advantages.shape[0] == logprobs.shape[0]:
        return advantages.unsqueeze(1).expand(logprobs.shape)
    if advantages.shape != logprobs.shape:
        raise ValueError(f"advantages: expected shape [N] or {list(logprobs.shape)}, got {list(advantages.shape)}")
    return advantages


def _finish(per_token, ratio, log_ratio, clipped, response_mask, *, aggregation, weights, token_mask, norm_length):
    """Weight (importance ``weights``), mask (``token_mask``: zero policy gradient elsewhere, the denominator keeps
    every response token) and aggregate per-token losses; the stats over response tokens."""
    zero = torch.zeros((), dtype=per_token.dtype, device=per_token.device)
    if weights is not None:
        if weights.shape != per_token.shape:
            raise ValueError(f"weights: expected shape {list(per_token.shape)}, got {list(weights.shape)}")
        per_token = per_token * torch.where(response_mask, weights.detach(), zero)
    if token_mask is not None:
        _check_mask(per_token, token_mask, "token_mask")
        per_token = torch.where(token_mask, per_token, zero)
    loss = aggregate(per_token, response_mask, aggregation, norm_length=norm_length)
    with torch.no_grad():
        count = max(int(response_mask.sum()), 1)

        def mean(x: Tensor) -> float:
            return float(torch.where(response_mask, x.to(per_token.dtype), zero).sum()) / count

        stats = {"clip_frac": mean(clipped), "approx_kl": mean((ratio - 1.0) - log_ratio), "ratio_mean": mean(ratio)}
    return loss, stats


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
    ratio_level: str = "token",
    token_mask: Tensor | None = None,
    norm_length: int | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """PPO clipped surrogate per token, with clip-higher (asymmetric clip range).

    Per token: ``r = exp(lp - old_lp)``, ``loss_t = -w_t min(r A, clip(r, 1 - eps_low, 1 + eps_high) A)``,
    then reduced with :func:`aggregate`; ``w_t`` are the importance ``weights`` (1 when None). With
    ``ratio_level="sequence"`` (GSPO) ``r`` is the response's sequence ratio (:func:`importance_log_ratio`), so
    a response is clipped as a whole.

    Args:
        logprobs: Float[N, T] current log-probs of the sampled tokens (carries the gradient).
        old_logprobs: Float[N, T] log-probs under the sampling policy (treated as constants).
        advantages: Float[N, T] token advantages, or Float[N] broadcast over each response's tokens.
        response_mask: Bool[N, T], True on generated tokens.
        eps_low, eps_high: clip range ``[1 - eps_low, 1 + eps_high]``; ``0 <= eps_low <= 1``, ``eps_high >= 0``.
        aggregation: see :func:`aggregate` (``norm_length`` too).
        weights: Float[N, T] per-token importance weights (see :func:`truncated_is_weights`), or None.
        ratio_level: ``"token"`` or ``"sequence"``.
        token_mask: Bool[N, T] of the tokens whose loss counts (forking tokens); the others add 0 but still count
            in the aggregation's denominator (as TRL's ``top_entropy_quantile``). None: every response token.

    Returns:
        ``(loss, stats)``: loss is Tensor[]; stats holds floats over response tokens: ``clip_frac`` (share
        of tokens where the clipped term is strictly the smaller one, i.e. clipping removes the gradient),
        ``approx_kl`` (mean of ``(r - 1) - log r``, an estimate of KL(old || new)) and ``ratio_mean``.
    """
    adv = _prepare(logprobs, old_logprobs, advantages, response_mask, aggregation, eps_low, eps_high)
    zero = torch.zeros((), dtype=logprobs.dtype, device=logprobs.device)
    log_ratio = importance_log_ratio(logprobs, old_logprobs, response_mask, ratio_level)
    adv = torch.where(response_mask, adv.detach(), zero)
    ratio = torch.exp(log_ratio)
    surrogate = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    per_token = -torch.minimum(surrogate, clipped)
    return _finish(
        per_token, ratio, log_ratio, clipped < surrogate, response_mask, aggregation=aggregation, weights=weights,
        token_mask=token_mask, norm_length=norm_length,
    )  # fmt: skip


def cispo_loss(
    logprobs: Tensor,
    old_logprobs: Tensor,
    advantages: Tensor,
    response_mask: Tensor,
    *,
    eps_low: float = 1.0,
    eps_high: float = 4.0,
    aggregation: Aggregation = "token_mean",
    weights: Tensor | None = None,
    ratio_level: str = "token",
    token_mask: Tensor | None = None,
    norm_length: int | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """CISPO (MiniMax-M1, 2025): REINFORCE with clipped, detached importance weights on every token.

    Per token: ``loss_t = -w_t sg(clip(r, 1 - eps_low, 1 + eps_high)) A lp_t``. Unlike PPO's clip, which zeroes the
    gradient of a clipped token, every token keeps a gradient ``A grad lp`` of bounded weight. ``eps_low = 1``
    leaves the weight unbounded below (the paper's choice); ``1 + eps_high`` is TRL's ``epsilon_high``.

    Arguments and returns as :func:`ppo_clip_loss`; ``clip_frac`` is the share of tokens whose weight was clipped.
    """
    adv = _prepare(logprobs, old_logprobs, advantages, response_mask, aggregation, eps_low, eps_high)
    zero = torch.zeros((), dtype=logprobs.dtype, device=logprobs.device)
    log_ratio = importance_log_ratio(logprobs, old_logprobs, response_mask, ratio_level)
    ratio = torch.exp(log_ratio)
    bounded = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high).detach()
    per_token = -bounded * torch.where(response_mask, adv.detach(), zero) * torch.where(response_mask, logprobs, zero)
    return _finish(
        per_token, ratio, log_ratio, bounded != ratio, response_mask, aggregation=aggregation, weights=weights,
        token_mask=token_mask, norm_length=norm_length,
    )  # fmt: skip
