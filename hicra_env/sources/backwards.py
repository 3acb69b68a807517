"""Strategy families: ``backwards`` (undo operations in reverse) and ``counting`` (count the complement).

``backwards``, difficulty d (1-4): "I think of a number, apply d+1 operations (add, subtract, multiply, divide
by small integers), and get R; what was the number?". Working backwards from R undoes one operation per step.

``counting``, difficulty d (1-4): d=1 integers from 1 to N that are not multiples of k (N up to 200); d=2 that
are multiples of neither a nor b (inclusion-exclusion); d=3 k-digit numbers (k = 2 or 3) with at least one digit
7; d=4 subsets of an n-element set containing at least one of m marked elements. Each is short by complementary
counting and long by listing.
"""

from __future__ import annotations

import random
from math import lcm

from .draft import Draft, finish

_FORWARD = {
    "add": "add {c}",
    "subtract": "subtract {c}",
    "multiply": "multiply by {c}",
    "divide": "divide by {c}",
}
_UNDO = {"add": "subtract", "subtract": "add", "multiply": "divide", "divide": "multiply"}


def _apply(op: str, value: int, c: int) -> int:
    return {"add": value + c, "subtract": value - c, "multiply": value * c, "divide": value // c}[op]


def _symbol(op: str) -> str:
    return {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}[op]


def backwards(rng: random.Random, difficulty: int) -> Draft:
    """Find the starting number from a chain of operations and its result."""
    start = rng.randint(2, 20)
    value, ops = start, []
    for _ in range(difficulty + 1):
        choices = ["add", "subtract", "multiply"] + (["divide"] if value % 2 == 0 and value > 2 else [])
        op = rng.choice(choices)
        if op == "divide":
            c = rng.choice([d for d in (2, 3, 4, 5) if value % d == 0])
        else:
            c = rng.randint(2, 5) if op == "multiply" else rng.randint(1, 20)
        ops.append((op, c))
        value = _apply(op, value, c)
    said = ", then ".join(_FORWARD[op].format(c=c) for op, c in ops)
    problem = f"I think of a number. I {said}. The result is {value}. What number did I start with?"
    undo, current = [], value
    for op, c in reversed(ops):
        back = _UNDO[op]
        new = _apply(back, current, c)
        undo.append(f"{current} {_symbol(back)} {c} = {new}")
        current = new
    steps = f"Let's work backwards from {value}, undoing each step in reverse order: {', '.join(undo)}."
    return Draft(problem, str(start), finish(steps, start))


def _not_multiples(rng: random.Random) -> Draft:
    n, k = rng.randint(30, 200), rng.randint(2, 9)
    answer = n - n // k
    steps = (
        f"It is easier to count the complement: {n // k} of them are multiples of {k} "
        f"({k} * {n // k} = {k * (n // k)}), so {n} - {n // k} = {answer} are not."
    )
    problem = f"How many integers from 1 to {n} are not multiples of {k}?"
    return Draft(problem, str(answer), finish(steps, answer))


def _neither(rng: random.Random) -> Draft:
    n = rng.randint(50, 300)
    a, b = rng.sample(range(2, 10), 2)
    both = lcm(a, b)
    ca, cb, cab = n // a, n // b, n // both
    answer = n - ca - cb + cab
    steps = (
        f"Let's count the complement with inclusion-exclusion: {ca} multiples of {a}, {cb} of {b}, "
        f"and {cab} of both (multiples of {both}). So {n} - {ca} - {cb} + {cab} = {answer}."
    )
    problem = f"How many integers from 1 to {n} are multiples of neither {a} nor {b}?"
    return Draft(problem, str(answer), finish(steps, answer))


def _digit_seven(rng: random.Random) -> Draft:
    k = rng.choice((2, 3))
    total, without = 9 * 10 ** (k - 1), 8 * 9 ** (k - 1)
    answer = total - without
    steps = (
        f"A simpler approach is to count the numbers with no 7: {8} choices for the first digit and 9 for "
        f"each other digit give {without}. There are {total} {k}-digit numbers, so {total} - {without} = {answer}."
    )
    problem = f"How many {k}-digit numbers have at least one digit equal to 7?"
    return Draft(problem, str(answer), finish(steps, answer))


def _subsets(rng: random.Random) -> Draft:
    n = rng.randint(4, 10)
    m = rng.randint(1, n - 1)
    answer = 2**n - 2 ** (n - m)
    steps = (
        f"It is easier to count the complement: the subsets with none of the {m} marked elements are the "
        f"2^{n - m} = {2 ** (n - m)} subsets of the other {n - m}. So 2^{n} - {2 ** (n - m)} = {answer}."
    )
    problem = f"A set has {n} elements, {m} of which are marked. How many subsets contain at least one marked element?"
    return Draft(problem, str(answer), finish(steps, answer))


def counting(rng: random.Random, difficulty: int) -> Draft:
    """A count that the complement makes easy."""
    return (_not_multiples, _neither, _digit_seven, _subsets)[difficulty - 1](rng)
