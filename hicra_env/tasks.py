"""The tasks behind the registered ids: ``hicra/<name>-v0`` for every name in :data:`TASKS`.

Procedural tasks (the embedded default, no network, no files) draw from one or more families of
:mod:`hicra_env.sources.procedural` at a default difficulty. Dataset tasks load a hub dataset lazily
(:mod:`hicra_env.sources.hub`) unless ``data_path=`` names a local JSONL or parquet file. Every task accepts
``data_path=``, which replaces its problems with the file's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sources.base import ProblemSource
from .sources.files import file_source
from .sources.hub import HUB_DATASETS, hub_source
from .sources.procedural import FAMILIES, ProceduralSource

MINIATURE = ("chain", "undo", "cycle", "seats")
"""Families of ``hicra/Miniature-v0`` (:mod:`hicra_env.sources.miniature`): index ``i`` is family ``i % 4``, so a
training set of ``num_problems`` (a multiple of 4) holds each family equally often."""

MINIATURE_V2 = ("march", "rewind", "digits", "taken")
"""Families of ``hicra/MiniatureV2-v0`` (:mod:`hicra_env.sources.miniature_v2`), in turn as in ``MINIATURE``;
``difficulty=2`` is its out-of-distribution split (longer chains, larger numbers)."""


@dataclass(frozen=True)
class Task:
    """One registered task.

    Attributes:
        name: The ``<name>`` in ``hicra/<name>-v0``.
        families: Procedural families drawn from (empty for dataset tasks).
        difficulty: Default difficulty of procedural tasks.
        hub: Key of :data:`hicra_env.sources.hub.HUB_DATASETS` for dataset tasks.
        description: One line for the docs.
    """

    name: str
    families: tuple[str, ...] = ()
    difficulty: int = 1
    hub: str | None = None
    description: str = ""


def _procedural(name: str, families: tuple[str, ...], description: str) -> Task:
    return Task(name, families=families, description=description)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        _procedural("Arithmetic", ("arithmetic",), "add/subtract 2-3 integers up to 20 (default of hicra compare)"),
        _procedural("Multiplication", ("multiplication",), "multi-digit products, split by place value"),
        _procedural("Fractions", ("fractions",), "fraction arithmetic, answers in lowest terms"),
        _procedural("LinearEquations", ("linear",), "linear equations; 2x2 systems from difficulty 3"),
        _procedural("Modular", ("modular",), "remainders; reduce first / find the cycle from difficulty 2"),
        _procedural("WordProblems", ("word",), "one- to three-step word problems"),
        _procedural("Shortcuts", ("shortcuts",), "products a rewrite makes easy (25 = 100/4, 99 = 100-1, ...)"),
        _procedural("Series", ("series",), "sums made easy by pairing, patterns or telescoping"),
        _procedural("WorkBackwards", ("backwards",), "undo a chain of operations"),
        _procedural("Counting", ("counting",), "complementary counting"),
        _procedural(
            "Miniature", MINIATURE, "strategy miniature: chain, undo, cycle, seats in turn, two strategies each"
        ),
        _procedural(
            "MiniatureV2",
            MINIATURE_V2,
            "second strategy miniature: the decision after a shared preamble; march, rewind, digits, taken in turn",
        ),
        _procedural("Procedural", tuple(FAMILIES), "all procedural families in turn"),
        *(Task(key, hub=key, description=f"hub dataset {spec.path}") for key, spec in HUB_DATASETS.items()),
    )
}
"""Every task by name; importing :mod:`hicra_env` registers ``hicra/<name>-v0`` for each."""


def resolve_task(name: str) -> Task:
    """The task called ``name`` (case-insensitive); ``ValueError`` naming the tasks otherwise."""
    by_lower = {k.lower(): t for k, t in TASKS.items()}
    if not isinstance(name, str) or name.lower() not in by_lower:
        raise ValueError(f"unknown task {name!r}; expected one of: {', '.join(TASKS)}")
    return by_lower[name.lower()]


def build_source(
    name: str,
    *,
    data_path: str | Path | None = None,
    difficulty: int | None = None,
    skip_invalid: bool = False,
) -> ProblemSource:
    """The problem source of a task: ``data_path``'s file if given, else procedural or hub problems."""
    task = resolve_task(name)
    if data_path is not None:
        if difficulty is not None:
            raise ValueError("difficulty= applies to procedural problems, not to a data_path= file")
        return file_source(data_path, skip_invalid=skip_invalid)
    if task.hub is not None:
        if difficulty is not None:
            raise ValueError(f"difficulty= applies to procedural tasks, not to the dataset task {task.name!r}")
        return hub_source(task.hub)
    return ProceduralSource(task.families, task.difficulty if difficulty is None else difficulty)
