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

from .draft import Draft, finish
from .strategies import STRATEGIES

_CHAIN_LEVELS = {1: (2, 9, 30), 2: (3, 9, 40), 3: (4, 19, 60)}
"""difficulty -> (steps, largest constant, largest value) of ``chain`` and ``undo``."""
_WORDS = {"+": "add", "-": "subtract"}


def _strategic(problem: str, answer: int, solutions: dict[str, str]) -> Draft:
    """A Draft whose solution is the first strategy's; each solution is its strategy's opener + the steps."""
    worked = tuple((name, f"{STRATEGIES[name].opener}{steps}") for name, steps in solutions.items())
    return Draft(problem, str(answer), worked[0][1], worked)


def _steps(rng: random.Random, difficulty: int) -> tuple[int, list[tuple[str, int]]]:
    """A start and add/subtract steps with every value in 1..largest and a non-zero net change."""
    count, biggest, largest = _CHAIN_LEVELS[difficulty]
    while True:
        start = rng.randint(1, largest // 2)
        value, steps = start, []
        for _ in range(count):
            op, c = rng.choice("+-"), rng.randint(1, biggest)
            while not 1 <= (value + c if op == "+" else value - c) <= largest:
                op, c = rng.choice("+-"), rng.randint(1, biggest)
            value = value + c if op == "+" else value - c
            steps.append((op, c))
        if value != start:
            return start, steps


def _run(value: int, steps: list[tuple[str, int]]) -> tuple[int, str]:
    """Apply ``steps`` to ``value``: the end value and the written lines ``11 + 7 = 18, 18 - 3 = 15``."""
    lines = []
    for op, c in steps:
        new = value + c if op == "+" else value - c
        lines.append(f"{value} {op} {c} = {new}")
        value = new
    return value, ", ".join(lines)


def _undo(steps: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [("-" if op == "+" else "+", c) for op, c in reversed(steps)]


def _said(steps: list[tuple[str, int]]) -> str:
    words = [f"{_WORDS[op]} {c}" for op, c in steps]
    return ", ".join(words[:-1]) + f", then {words[-1]}"


def _forward_and_backward(given: int, steps: list[tuple[str, int]]) -> tuple[dict[str, str], int, int]:
    """Both strategies' steps from the number the problem gives; returns them and each one's answer."""
    ahead, forward = _run(given, steps)
    behind, backward = _run(given, _undo(steps))
    texts = {
        "forward": f" {forward}. {_box(ahead)}",
        "backward": f" {given}: {backward}. {_box(behind)}",
    }
    return texts, ahead, behind


def _box(answer: int) -> str:
    return finish("", answer).strip()


def chain(rng: random.Random, difficulty: int) -> Draft:
    """Apply add/subtract steps to a start: ``forward`` works, ``backward`` undoes them instead."""
    start, steps = _steps(rng, difficulty)
    texts, ahead, _ = _forward_and_backward(start, steps)
    problem = f"Start with {start}, {_said(steps)}. What is the result?"
    return _strategic(problem, ahead, {"forward": texts["forward"], "backward": texts["backward"]})


def undo(rng: random.Random, difficulty: int) -> Draft:
    """Find the start of add/subtract steps from their result: ``backward`` works, ``forward`` redoes them."""
    start, steps = _steps(rng, difficulty)
    result, _ = _run(start, steps)
    texts, _, behind = _forward_and_backward(result, steps)
    problem = f"I think of a number, {_said(steps)}, and get {result}. What was my number?"
    return _strategic(problem, behind, {"backward": texts["backward"], "forward": texts["forward"]})


def _join(items: list[int]) -> str:
    return ", ".join(map(str, items))


def cycle(rng: random.Random, difficulty: int) -> Draft:
    """Digit ``n`` of a repeating block: ``pattern`` divides, ``forward`` writes all ``n`` digits out."""
    period = rng.randint(2, 4) if difficulty == 1 else rng.randint(3, 5)
    n = rng.randint(20, 39) if difficulty == 1 else rng.randint(40, 99)
    block = rng.sample(range(1, 10), period)
    r = (n - 1) % period + 1
    answer = block[r - 1]
    problem = f"The digits {_join(block)} repeat forever: {_join(block * 2)}, ... What is digit number {n}?"
    pattern = f" {n} = {(n - r) // period} * {period} + {r}, and digit {r} of {_join(block)} is {answer}."
    listing = f" {_join((block * n)[:n])}. Digit {n} is {answer}."
    return _strategic(problem, answer, {"pattern": f"{pattern} {_box(answer)}", "forward": f"{listing} {_box(answer)}"})


def _seat_list(seats: list[int]) -> str:
    return str(seats[0]) if len(seats) == 1 else f"{_join(seats[:-1])} and {seats[-1]}"


def seats(rng: random.Random, difficulty: int) -> Draft:
    """Taken seats in a row with a few empty: ``complement`` subtracts, ``forward`` lists the taken ones."""
    total = rng.randint(20, 39) if difficulty == 1 else rng.randint(40, 99)
    empty = sorted(rng.sample(range(1, total + 1), rng.randint(1, 3) if difficulty == 1 else rng.randint(2, 5)))
    answer = total - len(empty)
    which = f"Seat {empty[0]} is" if len(empty) == 1 else f"Seats {_seat_list(empty)} are"
    problem = f"A row has {total} seats. {which} empty and the others are taken. How many seats are taken?"
    taken = [s for s in range(1, total + 1) if s not in empty]
    complement = f" the empty seats: {len(empty)}, and {total} - {len(empty)} = {answer}. {_box(answer)}"
    listing = f" the taken seats are {_join(taken)}, which makes {answer} seats. {_box(answer)}"
    return _strategic(problem, answer, {"complement": complement, "forward": listing})
