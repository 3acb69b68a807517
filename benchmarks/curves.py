"""Pure statistics over logged training curves: smoothing, seed intervals, final accuracy, phase points.

A curve is a 1-D float array indexed by step; a run group is a list of such curves (one per seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Two-sided 95% Student-t quantiles for 1..30 degrees of freedom (scipy is not a dependency).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True)
class Interval:
    """A mean with a two-sided 95% Student-t interval across ``n`` seeds (half-width 0 for one seed)."""

    mean: float
    half_width: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.half_width:.3f}" if self.n > 1 else f"{self.mean:.3f}"


def mean_interval(values: list[float] | np.ndarray) -> Interval:
    """Mean and 95% t-interval half-width of finite ``values`` (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Interval(math.nan, math.nan, 0)
    if x.size == 1:
        return Interval(float(x[0]), 0.0, 1)
    t = _T975[min(x.size - 1, len(_T975)) - 1] if x.size - 1 <= len(_T975) else 1.96
    return Interval(float(x.mean()), float(t * x.std(ddof=1) / math.sqrt(x.size)), int(x.size))


def smooth(curve: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` steps (shorter at the start); NaNs are skipped."""
    x = np.asarray(curve, dtype=float)
    out = np.empty_like(x)
    for i in range(x.size):
        seg = x[max(0, i - window + 1) : i + 1]
        seg = seg[np.isfinite(seg)]
        out[i] = seg.mean() if seg.size else math.nan
    return out


def window_mean(curve: np.ndarray, fraction: float, *, tail: bool) -> float:
    """Mean of the first (``tail=False``) or last ``fraction`` of the steps (at least one step)."""
    x = np.asarray(curve, dtype=float)
    k = max(1, round(fraction * x.size))
    seg = x[-k:] if tail else x[:k]
    seg = seg[np.isfinite(seg)]
    return float(seg.mean()) if seg.size else math.nan


def steps_to_reach(curve: np.ndarray, target: float, window: int) -> int | None:
    """First step at which the ``window``-smoothed curve reaches ``target``, or None if it never does."""
    hits = np.nonzero(smooth(curve, window) >= target)[0]
    return int(hits[0]) if hits.size else None


def plateau_step(curve: np.ndarray, window: int, tolerance: float) -> int | None:
    """When a falling curve stops falling: the first step whose smoothed value is within ``tolerance``
    (relative) of the smoothed minimum of everything after it. None for an empty curve, and None for a curve that
    never falls by more than ``tolerance`` (its first smoothed value is already that close to every later one): a
    curve that did not fall did not "stop falling" at step 0."""
    s = smooth(curve, window)
    if not np.isfinite(s).any():
        return None
    suffix_min = np.minimum.accumulate(np.where(np.isfinite(s), s, np.inf)[::-1])[::-1]
    close = np.isfinite(s) & (s <= suffix_min * (1 + tolerance) + 1e-12)
    first = int(np.nonzero(close)[0][0])
    return None if first == int(np.nonzero(np.isfinite(s))[0][0]) else first


def rise_step(curve: np.ndarray, window: int, tolerance: float) -> int | None:
    """When a curve starts rising for good: the last step at which the smoothed curve is at its running
    minimum, provided it ends more than ``tolerance`` (absolute) above that minimum; else None."""
    s = smooth(curve, window)
    finite = np.isfinite(s)
    if finite.sum() < 2:
        return None
    values = np.where(finite, s, np.inf)
    low = int(np.argmin(values))
    last = s[finite][-1]
    return low if last - values[low] > tolerance else None
