"""Add/subtract chains and small text helpers shared by the strategy miniatures (:mod:`.miniature`,
:mod:`.miniature_v2`): random steps, their written execution, their inverse, and lists as words."""

from __future__ import annotations

import random

from .draft import finish

_WORDS = {"+": "add", "-": "subtract"}

Steps = list[tuple[str, int]]
"""``[("+", 7), ("-", 3)]``: add 7, then subtract 3."""


def random_steps(rng: random.Random, count: int, biggest: int, largest: int) -> tuple[int, Steps]:
    """A start in ``1..largest // 2`` and ``count`` steps with constants ``1..biggest``, every value in
    ``1..largest``, redrawn until the net change is not zero (so undoing and redoing the steps differ)."""
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


def run_steps(value: int, steps: Steps) -> tuple[int, str]:
    """Apply ``steps`` to ``value``: the end value and the written lines ``11 + 7 = 18, 18 - 3 = 15``."""
    lines = []
    for op, c in steps:
        new = value + c if op == "+" else value - c
        lines.append(f"{value} {op} {c} = {new}")
        value = new
    return value, ", ".join(lines)


def undo_steps(steps: Steps) -> Steps:
    """The inverse steps, in reverse order."""
    return [("-" if op == "+" else "+", c) for op, c in reversed(steps)]


def said(steps: Steps) -> str:
    """``add 7, subtract 3, then add 2``."""
    words = [f"{_WORDS[op]} {c}" for op, c in steps]
    return ", ".join(words[:-1]) + f", then {words[-1]}"


def boxed(answer: int) -> str:
    """The closing ``The answer is \\boxed{N}.`` of a worked solution."""
    return finish("", answer).strip()


def join(items: list[int]) -> str:
    """``3, 5, 7``."""
    return ", ".join(map(str, items))


def seat_list(seats: list[int]) -> str:
    """``3``, or ``3, 5 and 7``."""
    return str(seats[0]) if len(seats) == 1 else f"{join(seats[:-1])} and {seats[-1]}"
