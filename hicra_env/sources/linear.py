"""Linear equations and 2x2 linear systems (``linear`` family) with integer solutions.

Difficulty d (1-4): d=1 ``a x + b = c``; d=2 ``a x + b = c x + e`` (x on both sides); d=3 a 2x2 system with
small coefficients, asking for x; d=4 the same with larger coefficients. Solutions are integers in
``[-SOLUTION_RANGE[d], SOLUTION_RANGE[d]]``.
"""

from __future__ import annotations

import random

from .draft import Draft, finish, signed

SOLUTION_RANGE: dict[int, int] = {1: 10, 2: 12, 3: 9, 4: 15}
"""difficulty -> the unknowns are integers of absolute value at most this."""
COEFFICIENT_RANGE: dict[int, int] = {1: 9, 2: 9, 3: 5, 4: 12}
"""difficulty -> coefficients are nonzero integers of absolute value at most this."""


def _coef(rng: random.Random, largest: int, *, positive: bool = False) -> int:
    value = rng.randint(1, largest)
    return value if positive or rng.random() < 0.5 else -value


def _lhs(a: int, b: int, var: str = "x") -> str:
    head = f"{a}{var}" if a not in (1, -1) else ("" if a == 1 else "-") + var
    return f"{head} {signed(b)}" if b else head


def _one_sided(rng: random.Random, d: int) -> Draft:
    x, a = rng.randint(-SOLUTION_RANGE[d], SOLUTION_RANGE[d]), rng.randint(2, COEFFICIENT_RANGE[d])
    b = rng.randint(-20, 20) or 1
    c = a * x + b
    move = f"Subtract {b} from both sides" if b >= 0 else f"Add {-b} to both sides"
    steps = f"{move}: {a}x = {c - b}. Divide by {a}: x = {x}."
    return Draft(f"Solve for x: {_lhs(a, b)} = {c}.", str(x), finish(steps, x))


def _two_sided(rng: random.Random, d: int) -> Draft:
    x = rng.randint(-SOLUTION_RANGE[d], SOLUTION_RANGE[d])
    a, c = rng.sample(range(2, COEFFICIENT_RANGE[d] + 4), 2)
    b = rng.randint(-20, 20)
    e = (a - c) * x + b
    steps = (
        f"Move the x terms to the left and the numbers to the right: {a - c}x = {e - b}. Divide by {a - c}: x = {x}."
    )
    return Draft(f"Solve for x: {_lhs(a, b)} = {_lhs(c, e)}.", str(x), finish(steps, x))


def _system(rng: random.Random, d: int) -> Draft:
    r, k = SOLUTION_RANGE[d], COEFFICIENT_RANGE[d]
    x, y = rng.randint(-r, r), rng.randint(-r, r)
    while True:
        a, b, c, e = (_coef(rng, k) for _ in range(4))
        det = a * e - b * c
        if det != 0:
            break
    p, q = a * x + b * y, c * x + e * y
    eq1 = f"{_lhs(a, 0)} {signed(b)}y = {p}"
    eq2 = f"{_lhs(c, 0)} {signed(e)}y = {q}"
    steps = (
        f"Eliminate y: take {e} times the first equation minus {b} times the second: "
        f"{det}x = {p * e - q * b}, so x = {x}."
    )
    problem = f"Solve the system {eq1} and {eq2}. What is x?"
    return Draft(problem, str(x), finish(steps, x))


def linear(rng: random.Random, difficulty: int) -> Draft:
    """One linear equation (d=1, 2) or a 2x2 system (d=3, 4)."""
    if difficulty == 1:
        return _one_sided(rng, difficulty)
    if difficulty == 2:
        return _two_sided(rng, difficulty)
    return _system(rng, difficulty)
