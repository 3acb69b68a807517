"""Strategy families where a shortcut beats the procedure: ``shortcuts`` and ``series``.

``shortcuts``, difficulty d (1-4): d=1 ``n * 25`` with n a multiple of 4 (25 = 100 / 4) or ``n * 5`` with n
even (5 = 10 / 2); d=2 ``n * 25`` with any n up to 999, ``n * 99`` (100 - 1) or ``n * 11``; d=3 products
``(m - k)(m + k)`` around a multiple of 10 (difference of squares); d=4 ``n * 125`` (1000 / 8) or ``n * 999``.

``series``, difficulty d (1-4): d=1 ``1 + 2 + ... + n`` with n up to 20 (pair the ends); d=2 the same up to
200, or the sum of the first n odd numbers (n^2); d=3 an arithmetic series ``a + (a+s) + ... + last``; d=4 the
telescoping sum ``1/(1*2) + 1/(2*3) + ... + 1/(n(n+1)) = n/(n+1)``.
"""

from __future__ import annotations

import random
from fractions import Fraction

from .draft import Draft, finish, plain_number


def _times_25(n: int) -> Draft:
    steps = f"A simpler approach is to use the fact that 25 = 100 / 4, so {n} * 25 = {n * 100} / 4 = {n * 25}."
    return Draft(f"Compute {n} * 25.", str(n * 25), finish(steps, n * 25))


def _times_5(n: int) -> Draft:
    steps = f"A simpler approach is to use the fact that 5 = 10 / 2, so {n} * 5 = {n * 10} / 2 = {n * 5}."
    return Draft(f"Compute {n} * 5.", str(n * 5), finish(steps, n * 5))


def _times_99(n: int) -> Draft:
    steps = f"Note that 99 = 100 - 1, so {n} * 99 = {n * 100} - {n} = {n * 99}."
    return Draft(f"Compute {n} * 99.", str(n * 99), finish(steps, n * 99))


def _times_11(n: int) -> Draft:
    steps = f"Note that 11 = 10 + 1, so {n} * 11 = {n * 10} + {n} = {n * 11}."
    return Draft(f"Compute {n} * 11.", str(n * 11), finish(steps, n * 11))


def _difference_of_squares(rng: random.Random) -> Draft:
    m, k = 10 * rng.randint(2, 15), rng.randint(1, 9)
    a, b = m - k, m + k
    steps = (
        f"The key insight is that {a} and {b} sit {k} below and above {m}, so we can use "
        f"(m - k)(m + k) = m^2 - k^2: {m * m} - {k * k} = {a * b}."
    )
    return Draft(f"Compute {a} * {b}.", str(a * b), finish(steps, a * b))


def _big_factor(rng: random.Random) -> Draft:
    if rng.random() < 0.5:
        n = 8 * rng.randint(2, 125)
        steps = f"A simpler approach is to use the fact that 125 = 1000 / 8: {n} * 125 = {n * 1000} / 8 = {n * 125}."
        return Draft(f"Compute {n} * 125.", str(n * 125), finish(steps, n * 125))
    n = rng.randint(12, 999)
    steps = f"Note that 999 = 1000 - 1, so {n} * 999 = {n * 1000} - {n} = {n * 999}."
    return Draft(f"Compute {n} * 999.", str(n * 999), finish(steps, n * 999))


def shortcuts(rng: random.Random, difficulty: int) -> Draft:
    """A product that a rewrite of one factor makes easy."""
    if difficulty == 1:
        return _times_25(4 * rng.randint(2, 30)) if rng.random() < 0.5 else _times_5(2 * rng.randint(6, 99))
    if difficulty == 2:
        n = rng.randint(12, 999)
        pick = rng.randrange(3)
        return _times_25(n) if pick == 0 else _times_99(n) if pick == 1 else _times_11(n)
    if difficulty == 3:
        return _difference_of_squares(rng)
    return _big_factor(rng)


def _gauss(n: int) -> Draft:
    total = n * (n + 1) // 2
    steps = (
        f"Let's pair the terms: 1 + {n}, 2 + {n - 1}, and so on each make {n + 1}. "
        f"There are {n} terms, so the sum is {n} * {n + 1} / 2 = {total}."
    )
    return Draft(f"What is 1 + 2 + 3 + ... + {n}?", str(total), finish(steps, total))


def _odd_sum(n: int) -> Draft:
    last = 2 * n - 1
    steps = f"Note that 1 = 1^2, 1 + 3 = 2^2 and 1 + 3 + 5 = 3^2, so the first {n} odd numbers sum to {n}^2 = {n * n}."
    return Draft(f"What is 1 + 3 + 5 + ... + {last}?", str(n * n), finish(steps, n * n))


def _arithmetic_series(rng: random.Random) -> Draft:
    a, s, n = rng.randint(1, 20), rng.randint(2, 9), rng.randint(6, 40)
    last = a + (n - 1) * s
    total = n * (a + last) // 2
    problem = f"What is {a} + {a + s} + {a + 2 * s} + ... + {last}?"
    steps = (
        f"Let's count the terms first: they go up by {s}, so there are ({last} - {a}) / {s} + 1 = {n}. "
        f"Pairing the first and last terms gives {a} + {last} = {a + last} each, so the sum is "
        f"{n} * {a + last} / 2 = {total}."
    )
    return Draft(problem, str(total), finish(steps, total))


def _telescoping(rng: random.Random) -> Draft:
    n = rng.randint(3, 99)
    total = Fraction(n, n + 1)
    steps = (
        f"The key insight is that 1/(k(k+1)) = 1/k - 1/(k+1), so the sum telescopes: "
        f"every middle term cancels, leaving 1 - 1/{n + 1} = {plain_number(total)}."
    )
    problem = f"What is 1/(1*2) + 1/(2*3) + 1/(3*4) + ... + 1/({n}*{n + 1})?"
    return Draft(problem, f"\\frac{{{n}}}{{{n + 1}}}", finish(steps, total))


def series(rng: random.Random, difficulty: int) -> Draft:
    """A sum that pairing, a pattern or telescoping makes easy."""
    if difficulty == 1:
        return _gauss(rng.randint(5, 20))
    if difficulty == 2:
        return _gauss(rng.randint(21, 200)) if rng.random() < 0.5 else _odd_sum(rng.randint(5, 50))
    if difficulty == 3:
        return _arithmetic_series(rng)
    return _telescoping(rng)
