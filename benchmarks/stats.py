"""Paired statistics for comparing agents over seeds: paired t, sign test, Holm correction, paired-t power.

Agents of one comparison share their seeds (same problems, same first rollout), so two agents are compared on
the per-seed differences ``d[i] = agent[i] - reference[i]`` (Float[n], one per seed both ran), never on two
independent means. Pure functions over NumPy arrays; scipy supplies the Student-t and noncentral-t laws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


def pair_by_seed(agent: Mapping[int, float], reference: Mapping[int, float]) -> tuple[list[int], np.ndarray]:
    """The seeds both agents have a finite value for, ascending, and ``d = agent - reference`` on them.

    ``agent``, ``reference``: seed -> value (NaN for a run without one). Returns ``(seeds, d)`` with d Float[n]."""
    common = agent.keys() & reference.keys()
    seeds = sorted(s for s in common if math.isfinite(agent[s]) and math.isfinite(reference[s]))
    return seeds, paired_differences([agent[s] for s in seeds], [reference[s] for s in seeds])


def paired_differences(agent: Sequence[float] | np.ndarray, reference: Sequence[float] | np.ndarray) -> np.ndarray:
    """Float[n] ``agent - reference``, element by element (both Float[n], aligned by seed)."""
    a, r = np.asarray(agent, dtype=float), np.asarray(reference, dtype=float)
    if a.shape != r.shape or a.ndim != 1:
        raise ValueError(f"paired values: expected two 1-D arrays of one length, got shapes {a.shape} and {r.shape}")
    return a - r


def mean(x: Sequence[float] | np.ndarray) -> float:
    """Mean of Float[n] (NaN for n = 0)."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()) if x.size else math.nan


def sd(x: Sequence[float] | np.ndarray) -> float:
    """Sample standard deviation (divisor n - 1) of Float[n]; NaN for n < 2."""
    x = np.asarray(x, dtype=float)
    return float(x.std(ddof=1)) if x.size > 1 else math.nan


@dataclass(frozen=True)
class PairedT:
    """A paired t test of the differences ``d`` (H0: their mean is 0) with a two-sided confidence interval."""

    n: int
    mean: float
    sd: float
    low: float
    high: float
    t: float
    p: float
    """Two-sided p; NaN when undefined (fewer than 2 pairs, or every difference equal so that sd = 0)."""


def paired_t(d: Sequence[float] | np.ndarray, confidence: float = 0.95) -> PairedT:
    """Paired t test of Float[n] differences: ``t = mean / (sd / sqrt(n))`` on n - 1 degrees of freedom,
    ``p = 2 P(T > |t|)``, interval ``mean ± t_{(1+confidence)/2, n-1} sd / sqrt(n)``.

    n < 2: mean only (interval, t and p NaN). sd = 0 (up to rounding): the interval is the point ``[mean, mean]``
    and t, p are NaN (a test of a spread of zero is undefined, not "certain")."""
    d = np.asarray(d, dtype=float)
    n, m, s = int(d.size), mean(d), sd(d)
    if n < 2:
        return PairedT(n, m, s, math.nan, math.nan, math.nan, math.nan)
    if s <= 1e-12 * max(1.0, abs(m)):  # equal differences up to rounding
        return PairedT(n, m, 0.0, m, m, math.nan, math.nan)
    se = s / math.sqrt(n)
    t = m / se
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * se
    return PairedT(n, m, s, m - half, m + half, t, float(2 * sps.t.sf(abs(t), n - 1)))


@dataclass(frozen=True)
class SignTest:
    """Wins (d > 0), losses (d < 0), ties (d = 0, left out) and the exact two-sided binomial p over wins + losses."""

    wins: int
    losses: int
    ties: int
    p: float


def sign_test(d: Sequence[float] | np.ndarray) -> SignTest:
    """Exact two-sided sign test of Float[n] differences: with k = wins + losses and j = min(wins, losses),
    ``p = min(1, 2 * sum_{i <= j} C(k, i) / 2^k)`` (1 when k = 0). 5 wins of 5: p = 2/32 = 0.0625."""
    d = np.asarray(d, dtype=float)
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    k, j = wins + losses, min(wins, losses)
    p = min(1.0, 2 * sum(math.comb(k, i) for i in range(j + 1)) / 2**k) if k else 1.0
    return SignTest(wins, losses, int(d.size) - k, p)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order, over the m finite p-values (NaNs stay NaN).

    With the finite p sorted ascending ``p_(1) <= ... <= p_(m)``: ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
    Rejecting where ``adj <= alpha`` controls the family-wise error rate at alpha."""
    finite = [i for i, p in enumerate(pvalues) if math.isfinite(p)]
    order = sorted(finite, key=lambda i: pvalues[i])
    out, running, m = [math.nan] * len(pvalues), 0.0, len(order)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def paired_t_power(n: int, delta: float, sd: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t test with ``n`` pairs to detect a true mean difference ``delta`` when the
    differences have standard deviation ``sd``: with df = n - 1, noncentrality ``ncp = delta sqrt(n) / sd`` and
    ``c = t_{1-alpha/2, df}``, power ``= P(T' > c) + P(T' < -c)`` for T' noncentral t(df, ncp). Exact, not a
    normal approximation."""
    if n < 2:
        raise ValueError(f"n: expected at least 2 pairs, got {n!r}")
    if sd <= 0 or not 0 < alpha < 1:
        raise ValueError(f"sd, alpha: expected sd > 0 and alpha in (0, 1), got sd={sd!r}, alpha={alpha!r}")
    df, ncp = n - 1, delta * math.sqrt(n) / sd
    c = float(sps.t.ppf(1 - alpha / 2, df))
    return float(sps.nct.sf(c, df, ncp) + sps.nct.cdf(-c, df, ncp))


def seeds_needed(delta: float, sd: float, alpha: float = 0.05, power: float = 0.8, max_n: int = 100_000) -> int:
    """The fewest pairs (seeds) n >= 2 whose paired t test (:func:`paired_t_power`) reaches ``power``.

    Example: an effect of half an SD (delta / sd = 0.5) at alpha 0.05 and power 0.8 needs 34 pairs (G*Power and
    R's ``power.t.test(type="paired")`` agree; the normal approximation would say 32)."""
    if delta == 0 or not 0 < power < 1:
        raise ValueError(f"delta, power: expected delta != 0 and power in (0, 1), got {delta!r}, {power!r}")
    low, high = 2, 2
    while paired_t_power(high, delta, sd, alpha) < power:  # doubling, then bisection: power rises with n
        low, high = high, high * 2
        if high > max_n:
            raise ValueError(f"seeds_needed: more than {max_n} pairs for delta={delta!r}, sd={sd!r}")
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if paired_t_power(mid, delta, sd, alpha) < power else (low, mid)
    return high
