"""Pure statistics over logged training curves: smoothing, seed intervals, final accuracy, change points.

A curve is a 1-D float array indexed by step; a run group is a list of such curves (one per seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


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
    from scipy import stats as sps

    t = float(sps.t.ppf(0.975, x.size - 1))
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


@dataclass(frozen=True)
class Break:
    """A change point of a curve: where a two-segment (continuous, piecewise-linear) least-squares fit bends.

    ``step`` is the x of the knot (a logged step); the slopes are per step, fitted before and after it. BIC of
    one line and of the two segments (lower is better); the break is reported only when ``bic_break < bic_line``."""

    step: int
    slope_before: float
    slope_after: float
    bic_line: float
    bic_break: float

    def __str__(self) -> str:
        return f"step {self.step} (slope {self.slope_before:+.2g} -> {self.slope_after:+.2g} per step)"

    @property
    def stops_falling(self) -> bool:
        """Falling before the break, and falling less (or rising) after it."""
        return self.slope_before < 0 and self.slope_after > self.slope_before

    @property
    def starts_rising(self) -> bool:
        """Rising after the break, faster than the curve moved before it (``slope_after > |slope_before|``): a
        falling curve that only flattens, to a slightly positive slope, has stopped falling, not started rising."""
        return self.slope_after > abs(self.slope_before)


def min_segment_length(n: int) -> int:
    """The default shortest segment of :func:`change_point`: 10% of the points, at least 3."""
    return max(3, math.ceil(0.1 * n))


def _rss(design: np.ndarray, y: np.ndarray) -> float:
    """Residual sum of squares of the least-squares fit of y (Float[n]) on ``design`` (Float[n, p])."""
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(np.sum((y - design @ coef) ** 2))


def _hinge(x: np.ndarray, knot: float) -> np.ndarray:
    """Float[n, 3] design of a continuous two-segment line with its bend at ``knot``: 1, x, max(0, x - knot)."""
    return np.stack([np.ones_like(x), x, np.maximum(0.0, x - knot)], axis=1)


def change_point(curve: np.ndarray, steps: np.ndarray | None = None, *, min_segment: int | None = None) -> Break | None:
    """The change point of ``curve`` (Float[n], NaNs skipped) over ``steps`` (Int[n], default 0..n-1), or None.

    Rule: fit one least-squares line (2 parameters) and, for every knot at a logged step leaving at least
    ``min_segment`` points on each side (the knot counted in both; default :func:`min_segment_length`), a
    continuous two-segment line (intercept, slope, change of slope, knot: 4 parameters). The best knot is a break
    when its BIC, ``n ln(RSS / n) + k ln n``, is below the line's; otherwise one line fits as well and there is
    none (also for a curve with fewer than ``2 min_segment - 1`` finite points, or one a line fits exactly). BIC
    assumes independent noise: step-to-step correlated noise makes breaks easier to find, and a smooth bend is
    reported at its best two-line knee."""
    y = np.asarray(curve, dtype=float)
    x = np.arange(y.size, dtype=float) if steps is None else np.asarray(steps, dtype=float)[: y.size]
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(y.size)
    m = min_segment_length(n) if min_segment is None else min_segment
    if m < 2 or n < 2 * m - 1:
        return None
    line = _rss(_hinge(x, x[-1])[:, :2], y)
    if line <= 1e-12 * float(np.sum((y - y.mean()) ** 2)) + 1e-24 * float(np.sum(y * y)):
        return None  # a straight line (or a constant) fits exactly
    rss, k = min((_rss(_hinge(x, x[k]), y), k) for k in range(m - 1, n - m + 1))
    floor = 1e-300
    bic_line = n * math.log(max(line, floor) / n) + 2 * math.log(n)
    bic_break = n * math.log(max(rss, floor) / n) + 4 * math.log(n)
    if bic_break >= bic_line:
        return None
    coef = np.linalg.lstsq(_hinge(x, x[k]), y, rcond=None)[0]
    return Break(int(x[k]), float(coef[1]), float(coef[1] + coef[2]), bic_line, bic_break)
