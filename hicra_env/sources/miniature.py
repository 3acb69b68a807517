"""The miniature's strategy families: every problem admits two strategies, and which one works depends on the family.

Each generator returns a :class:`~hicra_env.sources.draft.Draft` whose ``strategies`` hold the worked solution of
every strategy (:mod:`hicra_env.sources.strategies`), the family's working strategy first; ``solution`` is that
one. The execution inside every solution is short arithmetic on small numbers, the skill a tiny model can learn;
which strategy opens the solution decides whether that execution can reach the answer.

- ``chain``: the result of add/subtract steps from a start. ``forward`` works; ``backward``, even executed
  without error, undoes the steps from the start: a wrong answer.
- ``undo``: the start of add/subtract steps that end at a given result. ``backward`` works; ``forward`` applies
  the steps to the result: a wrong answer.
- ``cycle``: digit ``n`` of a repeating block. ``pattern`` writes ``n = q * p + r`` and reads digit ``r``;
  ``forward`` writes all ``n`` digits out: right, but 20 to 99 digits long, past a short token budget.
- ``seats``: taken seats in a row with a few empty ones. ``complement`` subtracts the empty from all; ``forward``
  lists the taken seats: right, but 17 to 98 numbers long.

Difficulty d: ``chain``/``undo`` take d+1 steps (d=1, 2, 3; constants up to 9, 9, 19, values 1..30, 1..40, 1..60)
and their steps never cancel out (so the wrong strategy's answer differs from the gold); ``cycle`` blocks of 2-4
digits and n in 20..39 (d=1) or blocks of 3-5 digits and n in 40..99 (d=2); ``seats`` rows of 20..39 seats with
1-3 empty (d=1) or 40..99 seats with 2-5 empty (d=2).
"""

from __future__ import annotations

import random

from .chains import boxed, join, random_steps, run_steps, said, seat_list, undo_steps
from .draft import Draft
from .strategies import STRATEGIES

_CHAIN_LEVELS = {1: (2, 9, 30), 2: (3, 9, 40), 3: (4, 19, 60)}
"""difficulty -> (steps, largest constant, largest value) of ``chain`` and ``undo``."""


def _strategic(problem: str, answer: int, solutions: dict[str, str]) -> Draft:
    """A Draft whose solution is the first strategy's; each solution is its strategy's opener + the steps."""
    worked = tuple((name, f"{STRATEGIES[name].opener}{steps}") for name, steps in solutions.items())
    return Draft(problem, str(answer), worked[0][1], worked)


def _steps(rng: random.Random, difficulty: int) -> tuple[int, list[tuple[str, int]]]:
    """A start and add/subtract steps with every value in 1..largest and a non-zero net change."""
    return random_steps(rng, *_CHAIN_LEVELS[difficulty])


def _forward_and_backward(given: int, steps: list[tuple[str, int]]) -> tuple[dict[str, str], int, int]:
    """Both strategies' steps from the number the problem gives; returns them and each one's answer."""
    ahead, forward = run_steps(given, steps)
    behind, backward = run_steps(given, undo_steps(steps))
    texts = {
        "forward": f" {forward}. {boxed(ahead)}",
        "backward": f" {given}: {backward}. {boxed(behind)}",
    }
    return texts, ahead, behind


def chain(rng: random.Random, difficulty: int) -> Draft:
    """Apply add/subtract steps to a start: ``forward`` works, ``backward`` undoes them instead."""
    start, steps = _steps(rng, difficulty)
    texts, ahead, _ = _forward_and_backward(start, steps)
    problem = f"Start with {start}, {said(steps)}. What is the result?"
    return _strategic(problem, ahead, {"forward": texts["forward"], "backward": texts["backward"]})


def undo(rng: random.Random, difficulty: int) -> Draft:
    """Find the start of add/subtract steps from their result: ``backward`` works, ``forward`` redoes them."""
    start, steps = _steps(rng, difficulty)
    result, _ = run_steps(start, steps)
    texts, _, behind = _forward_and_backward(result, steps)
    problem = f"I think of a number, {said(steps)}, and get {result}. What was my number?"
    return _strategic(problem, behind, {"backward": texts["backward"], "forward": texts["forward"]})


def cycle(rng: random.Random, difficulty: int) -> Draft:
    """Digit ``n`` of a repeating block: ``pattern`` divides, ``forward`` writes all ``n`` digits out."""
    period = rng.randint(2, 4) if difficulty == 1 else rng.randint(3, 5)
    n = rng.randint(20, 39) if difficulty == 1 else rng.randint(40, 99)
    block = rng.sample(range(1, 10), period)
    r = (n - 1) % period + 1
    answer = block[r - 1]
    problem = f"The digits {join(block)} repeat forever: {join(block * 2)}, ... What is digit number {n}?"
    pattern = f" {n} = {(n - r) // period} * {period} + {r}, and digit {r} of {join(block)} is {answer}."
    listing = f" {join((block * n)[:n])}. Digit {n} is {answer}."
    solutions = {"pattern": f"{pattern} {boxed(answer)}", "forward": f"{listing} {boxed(answer)}"}
    return _strategic(problem, answer, solutions)


def seats(rng: random.Random, difficulty: int) -> Draft:
    """Taken seats in a row with a few empty: ``complement`` subtracts, ``forward`` lists the taken ones."""
    total = rng.randint(20, 39) if difficulty == 1 else rng.randint(40, 99)
    empty = sorted(rng.sample(range(1, total + 1), rng.randint(1, 3) if difficulty == 1 else rng.randint(2, 5)))
    answer = total - len(empty)
    which = f"Seat {empty[0]} is" if len(empty) == 1 else f"Seats {seat_list(empty)} are"
    problem = f"A row has {total} seats. {which} empty and the others are taken. How many seats are taken?"
    taken = [s for s in range(1, total + 1) if s not in empty]
    complement = f" the empty seats: {len(empty)}, and {total} - {len(empty)} = {answer}. {boxed(answer)}"
    listing = f" the taken seats are {join(taken)}, which makes {answer} seats. {boxed(answer)}"
    return _strategic(problem, answer, {"complement": complement, "forward": listing})
