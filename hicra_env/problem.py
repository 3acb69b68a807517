"""The `Problem` record every source yields: a question, its gold answer and, optionally, a worked solution."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One math problem.

    Attributes:
        id: Unique within its source. Procedural ids (``"arithmetic-d1-12345"``) encode family, difficulty and
            seed, so the problem regenerates from the id alone.
        problem: The question text shown to the model (inside a prompt template).
        answer: The gold final answer as a string (LaTeX where the source uses LaTeX), checked by the verifier.
        solution: A worked solution ending in ``\\boxed{answer}`` (always present for procedural families).
        level: Difficulty label (``"1"``..``"5"`` for procedural families, ``"Level 3"`` for MATH, ...).
        subject: Topic or family name.
    """

    id: str
    problem: str
    answer: str
    solution: str | None = None
    level: str | None = None
    subject: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "problem", "answer"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Problem.{name} must be a non-empty string, got {value!r}")
