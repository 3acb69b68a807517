"""The `ProblemSource` protocol, an in-memory source, and the errors sources raise."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from ..problem import Problem


class UnknownProblemError(KeyError):
    """A problem id that the source does not hold. The message suggests the closest ids."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DataFileError(ValueError):
    """A malformed data file: names the file, the line (or row) and what is wrong."""


class HubUnavailableError(RuntimeError):
    """A hub dataset could not be loaded (offline, or `datasets` missing); says how to pass `data_path=`."""


@runtime_checkable
class ProblemSource(Protocol):
    """What `MathEnv` needs from a source of problems.

    ``len(source)`` problems are addressable by index ``0..len-1`` (procedural sources expose a large virtual
    range of seeds) and by id.
    """

    name: str

    def __len__(self) -> int: ...

    def get(self, index: int) -> Problem:
        """The problem at ``index`` (``0 <= index < len(self)``)."""
        ...

    def lookup(self, problem_id: str) -> Problem:
        """The problem with this id; raises :class:`UnknownProblemError` naming the source."""
        ...


def unknown_problem(problem_id: str, candidates: Iterable[str], *, source: str) -> UnknownProblemError:
    """An :class:`UnknownProblemError` for ``problem_id``, with the count of ``candidates`` and the first of them."""
    ids = list(candidates)
    example = f", such as {ids[0]!r}" if ids else ""
    return UnknownProblemError(
        f"unknown problem id {problem_id!r} in source {source!r}: expected one of its {len(ids)} ids{example}"
    )


class ListSource:
    """A fixed list of problems (from a file or the hub). Ids must be unique."""

    def __init__(self, name: str, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError(f"source {name!r} holds no problems")
        self.name = name
        self._problems = list(problems)
        self._by_id: dict[str, int] = {}
        for i, p in enumerate(self._problems):
            if p.id in self._by_id:
                raise ValueError(
                    f"source {name!r}: duplicate problem id {p.id!r} (entries {self._by_id[p.id]} and {i})"
                )
            self._by_id[p.id] = i

    def __len__(self) -> int:
        return len(self._problems)

    def get(self, index: int) -> Problem:
        if not 0 <= index < len(self._problems):
            raise IndexError(f"index {index} out of range for source {self.name!r} of {len(self)} problems")
        return self._problems[index]

    def lookup(self, problem_id: str) -> Problem:
        try:
            return self._problems[self._by_id[problem_id]]
        except KeyError:
            raise unknown_problem(problem_id, self._by_id, source=self.name) from None
