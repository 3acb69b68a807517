"""Procedural problem families: registry, ids, and the sources that back ``hicra/<Family>-v0``.

A procedural id is ``f"{family}-d{difficulty}-{seed}"`` (``"arithmetic-d1-12345"``): the generator is seeded
with the id string itself (``random.Random(id)``, stable across Python versions), so a problem regenerates from
its id alone, with no storage. Source index ``i`` is seed ``i``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..problem import Problem
from .arithmetic import arithmetic, multiplication
from .backwards import backwards, counting
from .base import UnknownProblemError
from .draft import Draft
from .fractions_family import fractions
from .linear import linear
from .miniature import chain, cycle, seats, undo
from .miniature_v2 import digits, march, rewind, taken
from .modular import modular
from .shortcuts import series, shortcuts
from .word_problems import word

NUM_SEEDS = 2**31
"""Virtual size of a procedural source: seeds ``0..2**31-1``."""

_ID = re.compile(r"^([a-z]+)-d(\d+)-(\d+)$")


@dataclass(frozen=True)
class Family:
    """A procedural family.

    Attributes:
        name: Lower-case name used in ids (``"arithmetic"``).
        generate: ``(rng, difficulty) -> Draft``; pure given the rng.
        max_difficulty: Difficulties are ``1..max_difficulty``.
        strategy: Whether a shortcut (planning) beats the procedure in this family.
    """

    name: str
    generate: Callable[[random.Random, int], Draft]
    max_difficulty: int
    strategy: bool = False

    def check_difficulty(self, difficulty: int) -> int:
        if isinstance(difficulty, bool) or not isinstance(difficulty, int):
            raise TypeError(f"difficulty must be an int, got {type(difficulty).__name__}")
        if not 1 <= difficulty <= self.max_difficulty:
            raise ValueError(
                f"difficulty of family {self.name!r} must be in 1..{self.max_difficulty}, got {difficulty}"
            )
        return difficulty

    def make(self, difficulty: int, seed: int) -> Problem:
        """The problem ``f"{name}-d{difficulty}-{seed}"``."""
        self.check_difficulty(difficulty)
        if not 0 <= seed < NUM_SEEDS:
            raise ValueError(f"seed must be in 0..{NUM_SEEDS - 1}, got {seed}")
        pid = f"{self.name}-d{difficulty}-{seed}"
        draft = self.generate(random.Random(pid), difficulty)
        return Problem(pid, draft.problem, draft.answer, draft.solution, str(difficulty), self.name)

    def strategy_solutions(self, difficulty: int, seed: int) -> dict[str, str]:
        """Every strategy's worked solution of problem ``f"{name}-d{difficulty}-{seed}"`` by strategy name, the
        one ``Problem.solution`` holds first; ``{}`` for a family with no strategies."""
        self.check_difficulty(difficulty)
        return dict(self.generate(random.Random(f"{self.name}-d{difficulty}-{seed}"), difficulty).strategies)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("arithmetic", arithmetic, 5),
        Family("multiplication", multiplication, 5),
        Family("fractions", fractions, 4),
        Family("linear", linear, 4),
        Family("modular", modular, 4, strategy=True),
        Family("word", word, 3),
        Family("shortcuts", shortcuts, 4, strategy=True),
        Family("series", series, 4, strategy=True),
        Family("backwards", backwards, 4, strategy=True),
        Family("counting", counting, 4, strategy=True),
        Family("chain", chain, 3, strategy=True),
        Family("undo", undo, 3, strategy=True),
        Family("cycle", cycle, 2, strategy=True),
        Family("seats", seats, 2, strategy=True),
        Family("march", march, 2, strategy=True),
        Family("rewind", rewind, 2, strategy=True),
        Family("digits", digits, 2, strategy=True),
        Family("taken", taken, 2, strategy=True),
    )
}
"""Every procedural family by name."""


def parse_problem_id(problem_id: str, families: Sequence[str]) -> tuple[Family, int, int]:
    """``(family, difficulty, seed)`` of a procedural id; :class:`UnknownProblemError` with a hint otherwise."""
    match = _ID.match(problem_id) if isinstance(problem_id, str) else None
    example = f"{families[0]}-d1-12345"
    if match is None:
        raise UnknownProblemError(
            f"unknown problem id {problem_id!r}: procedural ids look like {example!r} "
            f"(family in {list(families)}, difficulty, seed)"
        )
    name, difficulty, seed = match.group(1), int(match.group(2)), int(match.group(3))
    if name not in families:
        raise UnknownProblemError(
            f"unknown problem id {problem_id!r}: its family {name!r}; expected one of: {', '.join(families)}"
        )
    family = FAMILIES[name]
    if not 1 <= difficulty <= family.max_difficulty or seed >= NUM_SEEDS:
        raise UnknownProblemError(
            f"unknown problem id {problem_id!r}: difficulty must be 1..{family.max_difficulty} "
            f"and seed below {NUM_SEEDS}"
        )
    return family, difficulty, seed


def strategy_solutions(problem_id: str) -> dict[str, str]:
    """Every strategy's worked solution of a procedural problem, by strategy name (:mod:`.strategies`), the one
    its ``Problem.solution`` holds first; ``{}`` when its family has a single worked solution.

    ``strategy_solutions("undo-d1-7")`` -> ``{"backward": "We work our way back from ...", "forward": ...}``.
    Raises :class:`UnknownProblemError` for an id that is not procedural.
    """
    family, difficulty, seed = parse_problem_id(problem_id, list(FAMILIES))
    return family.strategy_solutions(difficulty, seed)


class ProceduralSource:
    """Problems of one or more families at one difficulty; index ``i`` is seed ``i // k`` of family ``i % k``.

    Args:
        families: Family names (see :data:`FAMILIES`).
        difficulty: Difficulty of drawn problems (ids may name any valid difficulty).
    """

    def __init__(self, families: str | Sequence[str], difficulty: int = 1) -> None:
        names = [families] if isinstance(families, str) else list(families)
        unknown = [n for n in names if n not in FAMILIES]
        if not names or unknown:
            raise ValueError(f"unknown procedural families {unknown}; expected names from {sorted(FAMILIES)}")
        for name in names:
            FAMILIES[name].check_difficulty(difficulty)
        self.families = names
        self.difficulty = difficulty
        self.name = "procedural:" + "+".join(names)

    def __len__(self) -> int:
        return NUM_SEEDS

    def get(self, index: int) -> Problem:
        if not 0 <= index < NUM_SEEDS:
            raise IndexError(f"index {index} out of range for {self.name} (0..{NUM_SEEDS - 1})")
        k = len(self.families)
        return FAMILIES[self.families[index % k]].make(self.difficulty, index // k)

    def lookup(self, problem_id: str) -> Problem:
        family, difficulty, seed = parse_problem_id(problem_id, self.families)
        return family.make(difficulty, seed)
