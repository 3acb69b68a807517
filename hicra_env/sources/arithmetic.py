"""Arithmetic chains and multi-digit multiplication (procedure families).

``arithmetic``, difficulty d (1-5): the term count and operand range of :data:`ARITHMETIC_LEVELS` ``[d]``.
At d=1 (the default of ``hicra/Arithmetic-v0``) it is 2-3 integers from 1 to 20 added or subtracted with no
negative intermediate result, and a one-line solution such as ``7 + 5 = 12, 12 - 3 = 9. The answer is
\\boxed{9}.``; from d=2 on results may go negative.

``multiplication``, difficulty d (1-5): an ``a``-digit by ``b``-digit product with ``(a, b)`` from
:data:`MULTIPLICATION_DIGITS`, solved by splitting the second factor by place value.
"""

from __future__ import annotations

import random

from .draft import Draft, finish

ARITHMETIC_LEVELS: dict[int, tuple[int, int, int]] = {
    1: (2, 3, 20),
    2: (3, 4, 50),
    3: (3, 5, 100),
    4: (4, 6, 500),
    5: (5, 7, 1000),
}
"""difficulty -> (fewest terms, most terms, largest operand); operands are drawn from 1..largest."""

MULTIPLICATION_DIGITS: dict[int, tuple[int, int]] = {1: (2, 1), 2: (2, 2), 3: (3, 2), 4: (3, 3), 5: (4, 3)}
"""difficulty -> (digits of the first factor, digits of the second)."""


def arithmetic(rng: random.Random, difficulty: int) -> Draft:
    """Add and subtract a chain of integers left to right."""
    low, high, largest = ARITHMETIC_LEVELS[difficulty]
    total = rng.randint(1, largest)
    text, steps = str(total), []
    for _ in range(rng.randint(low, high) - 1):
        value = rng.randint(1, largest)
        subtract = rng.random() < 0.5 and (difficulty > 1 or value <= total)
        new = total - value if subtract else total + value
        op = "-" if subtract else "+"
        text += f" {op} {value}"
        steps.append(f"{total} {op} {value} = {new}")
        total = new
    return Draft(f"What is {text}?", str(total), finish(", ".join(steps) + ".", total))


def _digits(rng: random.Random, n: int) -> int:
    return rng.randint(10 ** (n - 1), 10**n - 1)


def multiplication(rng: random.Random, difficulty: int) -> Draft:
    """Multiply two multi-digit integers; the solution splits the second factor by place value."""
    da, db = MULTIPLICATION_DIGITS[difficulty]
    a, b = _digits(rng, da), _digits(rng, db)
    parts = [int(d) * 10**i for i, d in enumerate(reversed(str(b))) if d != "0"][::-1]
    if len(parts) == 1:
        steps = f"{a} * {b} = {a * b}."
    else:
        split = " + ".join(f"{a} * {p}" for p in parts)
        partial = " + ".join(str(a * p) for p in parts)
        steps = f"Split {b} = {' + '.join(map(str, parts))}: {a} * {b} = {split} = {partial} = {a * b}."
    return Draft(f"Compute {a} * {b}.", str(a * b), finish(steps, a * b))
