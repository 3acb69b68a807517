"""The second strategy miniature (issue 18): the strategic decision happens mid-response, after a shared preamble.

Every worked solution of a problem opens with the same restatement of the problem (``We have 47 seats and 3 are
empty.``), so the first tokens of a response decide nothing. Then each strategy writes its own opener
(:mod:`hicra_env.sources.strategies`): the first token where two strategies' solutions differ is the first token of
an opener, and where a strategy has Strategic Grams (from the paper's list) its opener starts with one, so the gram
covers the deciding token. One strategy of every family has no gram at all, so a response that takes it holds no
gram. The working strategy is the gram one in three families and the gram-less one in ``march``.

- ``march``: the result of add/subtract steps from a start. ``apply`` (no gram) works; ``backtrack`` undoes the
  steps from the start: a wrong answer.
- ``rewind``: the start of add/subtract steps that end at a given result. ``backtrack`` works; ``apply`` redoes
  the steps on the result: a wrong answer.
- ``digits``: digit ``n`` of a repeating block. ``remainder`` writes ``n = q * p + r`` and reads digit ``r``;
  ``write_out`` (no gram) writes all ``n`` digits: right, but past a short token budget.
- ``taken``: taken seats in a row with a few empty. ``subtract`` subtracts; ``count_up`` (no gram) lists the taken
  seats: right, but past a short token budget.

Some arithmetic stays hard: half of the ``march``/``rewind`` problems take three steps with constants up to 19,
``digits`` divides two-digit positions and ``taken`` subtracts from two-digit totals. Difficulty 2 is the
out-of-distribution split (``gym.make(..., difficulty=2)``): longer chains, larger numbers (:data:`LEVELS`).
"""

from __future__ import annotations

import random
from typing import NamedTuple

from .chains import boxed, join, random_steps, run_steps, said, seat_list, undo_steps
from .draft import Draft
from .strategies import STRATEGIES


class Level(NamedTuple):
    """Sizes of one difficulty: chain steps (fewest, most), largest constant, largest value; block lengths and
    positions of ``digits``; row lengths and empty seats of ``taken`` (inclusive ranges)."""

    steps: tuple[int, int]
    constant: int
    value: int
    block: tuple[int, int]
    position: tuple[int, int]
    row: tuple[int, int]
    empty: tuple[int, int]


LEVELS: dict[int, Level] = {
    1: Level((2, 3), 19, 60, (2, 4), (24, 40), (20, 36), (1, 5)),
    2: Level((4, 4), 29, 99, (5, 7), (100, 199), (100, 199), (5, 7)),
}
"""difficulty -> sizes. Difficulty 1 is the training distribution, 2 the out-of-distribution split."""


def _strategic(problem: str, answer: int, preamble: str, solutions: dict[str, str]) -> Draft:
    """A Draft whose solutions are ``preamble`` + each strategy's opener + its steps, the first strategy's first."""
    worked = tuple((name, f"{preamble} {STRATEGIES[name].opener}{steps}") for name, steps in solutions.items())
    return Draft(problem, str(answer), worked[0][1], worked)


def _steps(rng: random.Random, level: Level) -> tuple[int, list[tuple[str, int]]]:
    """A start and add/subtract steps, every value in 1..level.value, whose net change is not zero."""
    count = rng.randint(*level.steps)
    biggest = level.constant if count == level.steps[1] else 9  # the longer chains take the larger constants
    return random_steps(rng, count, biggest, level.value)


def _both_ways(given: int, steps: list[tuple[str, int]]) -> tuple[dict[str, str], int, int]:
    """``apply`` and ``backtrack`` from the number the problem gives; returns them and each one's answer."""
    ahead, forward = run_steps(given, steps)
    behind, backward = run_steps(given, undo_steps(steps))
    texts = {"apply": f" {forward}. {boxed(ahead)}", "backtrack": f" {backward}. {boxed(behind)}"}
    return texts, ahead, behind


def march(rng: random.Random, difficulty: int) -> Draft:
    """Apply add/subtract steps to a start: ``apply`` works, ``backtrack`` undoes them instead."""
    start, steps = _steps(rng, LEVELS[difficulty])
    texts, ahead, _ = _both_ways(start, steps)
    problem = f"Start with {start}, {said(steps)}. What is the result?"
    preamble = f"We have {start} and {len(steps)} steps."
    return _strategic(problem, ahead, preamble, {"apply": texts["apply"], "backtrack": texts["backtrack"]})


def rewind(rng: random.Random, difficulty: int) -> Draft:
    """Find the start of add/subtract steps from their result: ``backtrack`` works, ``apply`` redoes them."""
    start, steps = _steps(rng, LEVELS[difficulty])
    result, _ = run_steps(start, steps)
    texts, _, behind = _both_ways(result, steps)
    problem = f"I think of a number, {said(steps)}, and get {result}. What was my number?"
    preamble = f"We have {result} and {len(steps)} steps."
    return _strategic(problem, behind, preamble, {"backtrack": texts["backtrack"], "apply": texts["apply"]})


def digits(rng: random.Random, difficulty: int) -> Draft:
    """Digit ``n`` of a repeating block: ``remainder`` divides, ``write_out`` writes all ``n`` digits out."""
    level = LEVELS[difficulty]
    period, n = rng.randint(*level.block), rng.randint(*level.position)
    block = rng.sample(range(1, 10), period)
    r = (n - 1) % period + 1
    answer = block[r - 1]
    problem = f"The digits {join(block)} repeat forever: {join(block * 2)}, ... What is digit number {n}?"
    preamble = f"We have {period} digits and want digit {n}."
    remainder = f" {n} = {(n - r) // period} * {period} + {r}, and digit {r} of {join(block)} is {answer}."
    listing = f" {join((block * n)[:n])}. Digit {n} is {answer}."
    solutions = {"remainder": f"{remainder} {boxed(answer)}", "write_out": f"{listing} {boxed(answer)}"}
    return _strategic(problem, answer, preamble, solutions)


def taken(rng: random.Random, difficulty: int) -> Draft:
    """Taken seats in a row with a few empty: ``subtract`` subtracts, ``count_up`` lists the taken ones."""
    level = LEVELS[difficulty]
    total = rng.randint(*level.row)
    empty = sorted(rng.sample(range(1, total + 1), rng.randint(*level.empty)))
    answer = total - len(empty)
    which = f"Seat {empty[0]} is" if len(empty) == 1 else f"Seats {seat_list(empty)} are"
    problem = f"A row has {total} seats. {which} empty and the others are taken. How many seats are taken?"
    preamble = f"We have {total} seats and {len(empty)} empty."
    listing = join([s for s in range(1, total + 1) if s not in empty])
    solutions = {
        "subtract": f" {total} - {len(empty)} = {answer}. {boxed(answer)}",
        "count_up": f" {listing}, which makes {answer}. {boxed(answer)}",
    }
    return _strategic(problem, answer, preamble, solutions)
