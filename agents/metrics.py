"""Training metrics as pure functions: masked means, entropy split by planning tokens, perplexity, semantic
entropy of Strategic Grams, and pass@G over groups.

Conventions: ``masked_mean`` of an empty selection is 0.0 (a neutral value for sums of logs);
``split_entropy`` and ``mean_perplexity`` return ``math.nan`` when their selection is empty, because a mean
entropy or perplexity of no token is undefined and 0.0 would read as a collapsed policy. They never return
NaN otherwise.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from .planning import StrategicGrams

__all__ = ["masked_mean", "mean_perplexity", "pass_at_group", "semantic_entropy", "split_entropy"]


def _check_pair(x: Tensor, mask: Tensor, name: str = "x") -> Tensor:
    if x.shape != mask.shape:
        raise ValueError(f"{name} and mask: expected one shape, got {list(x.shape)} and {list(mask.shape)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask: expected dtype torch.bool, got {mask.dtype}; pass mask.bool()")
    return mask


def _mean_or_nan(x: Tensor, mask: Tensor) -> float:
    count = int(mask.sum())
    if count == 0:
        return math.nan
    return float(torch.where(mask, x.detach().double(), 0.0).sum()) / count


def masked_mean(x: Tensor, mask: Tensor) -> float:
    """Mean of ``x`` over ``mask`` (any matching shapes, e.g. Float[N, T] and Bool[N, T]); 0.0 when the mask
    is empty. Values outside the mask are ignored, even NaN."""
    _check_pair(x, mask)
    value = _mean_or_nan(x, mask)
    return 0.0 if math.isnan(value) and not bool(mask.any()) else value


def split_entropy(entropy: Tensor, planning_mask: Tensor, response_mask: Tensor) -> tuple[float, float]:
    """Mean token entropy of planning tokens and of execution tokens (the other response tokens).

    Args:
        entropy: Float[N, T] entropy of the full next-token distribution at each response position.
        planning_mask: Bool[N, T]; response_mask: Bool[N, T].

    Returns:
        ``(planning_mean, execution_mean)`` floats; a split with no token is ``math.nan``.
    """
    _check_pair(entropy, planning_mask, "entropy")
    _check_pair(entropy, response_mask, "entropy")
    planning = planning_mask & response_mask
    return _mean_or_nan(entropy, planning), _mean_or_nan(entropy, response_mask & ~planning)


def mean_perplexity(logprobs: Tensor, mask: Tensor) -> float:
    """``exp(-mean token log-prob)`` over the masked tokens (Float[N, T], Bool[N, T]); ``math.nan`` when
    the mask is empty. Used on execution tokens, relative to step 0."""
    _check_pair(logprobs, mask, "logprobs")
    mean = _mean_or_nan(logprobs, mask)
    return math.nan if math.isnan(mean) else math.exp(-mean)


def semantic_entropy(texts: Iterable[str], grams: StrategicGrams, base: float = 2.0) -> float:
    """Shannon entropy of the Strategic Gram occurrence distribution over one step's responses.

    Bins are the distinct grams of the lexicon; the count of a bin is its number of occurrences
    (``StrategicGrams.find``, nested grams not double-counted) summed over all ``texts``. The result is
    ``-sum_g p_g log(p_g) / log(base)``: in bits for the default ``base=2``. 0.0 when no gram occurs.
    """
    if isinstance(base, bool) or not isinstance(base, (int, float)) or base <= 0 or base == 1:
        raise ValueError(f"base: expected a float > 0 and != 1 (2.0 gives bits), got {base!r}")
    if isinstance(texts, str):
        raise TypeError("texts: expected an iterable of response strings, got one str; wrap it in a list")
    counts = Counter(m.gram for text in texts for m in grams.find(text))
    total = sum(counts.values())
    if total == 0:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts.values())
    return max(entropy, 0.0) / math.log(base)


def pass_at_group(correct: Tensor, group_ids: Tensor) -> float:
    """Share of groups with at least one correct response (pass@G).

    Args:
        correct: Bool[N] (or 0/1 numbers); group_ids: Int[N], groups in any order.

    Returns:
        float in [0, 1]; 0.0 for an empty batch.
    """
    if correct.dim() != 1 or correct.shape != group_ids.shape:
        raise ValueError(
            f"correct and group_ids: expected 1-D tensors of one length, got {list(correct.shape)} "
            f"and {list(group_ids.shape)}"
        )
    if correct.numel() == 0:
        return 0.0
    _, inverse = torch.unique(group_ids, return_inverse=True)
    n_groups = int(inverse.max()) + 1
    hits = torch.zeros(n_groups, dtype=torch.long, device=correct.device)
    hits.index_add_(0, inverse, (correct != 0).long())
    return float((hits > 0).double().mean())
