"""Modular arithmetic (``modular`` family).

Difficulty d (1-4): d=1 the remainder of an integer up to 1000 divided by m in 3-12; d=2 the remainder of a
product of two integers up to 999 (reduce the factors first); d=3 the remainder of ``a^k`` with k up to 60 and m
up to 13 (the powers repeat, so find the cycle); d=4 the same with k up to 2000 and m up to 30. The strategy
levels (2-4) reward the shortcut over brute force.
"""

from __future__ import annotations

import random

from .draft import Draft, finish

MODULUS_RANGE: dict[int, tuple[int, int]] = {1: (3, 12), 2: (3, 12), 3: (3, 13), 4: (5, 30)}
"""difficulty -> (smallest, largest) modulus."""
EXPONENT_RANGE: dict[int, int] = {3: 60, 4: 2000}
"""difficulty -> largest exponent for the power levels."""


def _remainder(rng: random.Random, m: int) -> Draft:
    n = rng.randint(m + 1, 1000)
    q, r = divmod(n, m)
    steps = f"{n} = {m} * {q} + {r}."
    return Draft(f"What is the remainder when {n} is divided by {m}?", str(r), finish(steps, r))


def _product(rng: random.Random, m: int) -> Draft:
    a, b = rng.randint(100, 999), rng.randint(100, 999)
    ra, rb = a % m, b % m
    r = (ra * rb) % m
    steps = (
        f"A simpler approach is to reduce each factor first: {a} leaves {ra} and {b} leaves {rb} "
        f"when divided by {m}, so {a} * {b} leaves the same remainder as {ra} * {rb} = {ra * rb}, which is {r}."
    )
    problem = f"What is the remainder when {a} * {b} is divided by {m}?"
    return Draft(problem, str(r), finish(steps, r))


def power_cycle(a: int, m: int) -> list[int]:
    """Remainders of ``a^1, a^2, ...`` modulo ``m`` up to (excluding) the first repeat of a remainder."""
    seen, values, value = set(), [], a % m
    while value not in seen:
        seen.add(value)
        values.append(value)
        value = value * a % m
    return values


def _power(rng: random.Random, m: int, largest_k: int) -> Draft:
    a, k = rng.randint(2, 3 * m), rng.randint(10, largest_k)
    values = power_cycle(a, m)
    start = values.index(values[-1] * a % m)  # the cycle re-enters here (0-based power index)
    period = len(values) - start
    r = pow(a, k, m)
    listed = ", ".join(str(v) for v in values)
    steps = (
        f"Let's look for a pattern instead of computing {a}^{k}. The powers of {a} modulo {m} are {listed}, "
        f"and then they repeat with period {period}"
        + (f" from power {start + 1}" if start else "")
        + f". So {a}^{k} leaves the same remainder as {a}^{start + 1 + (k - start - 1) % period}, which is {r}."
    )
    problem = f"What is the remainder when {a}^{k} is divided by {m}?"
    return Draft(problem, str(r), finish(steps, r))


def modular(rng: random.Random, difficulty: int) -> Draft:
    """A remainder problem; see the module docstring for the levels."""
    m = rng.randint(*MODULUS_RANGE[difficulty])
    if difficulty == 1:
        return _remainder(rng, m)
    if difficulty == 2:
        return _product(rng, m)
    return _power(rng, m, EXPONENT_RANGE[difficulty])
