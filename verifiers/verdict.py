"""The verdict type returned for every (response, gold) pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reason = Literal["ok", "mismatch", "no_answer", "timeout", "error"]
REASONS: tuple[Reason, ...] = ("ok", "mismatch", "no_answer", "timeout", "error")


@dataclass(frozen=True)
class Verdict:
    """The judgement of one response against one gold answer.

    Attributes:
        correct: True iff the response's final answer is equivalent to the gold answer.
        reward: 1.0 iff ``correct``, else 0.0 (no partial credit).
        extracted: the final answer taken from the response (``None`` when none was found).
        reason: ``"ok"`` (correct), ``"mismatch"`` (an answer that is not equivalent, or several different
            answers), ``"no_answer"`` (nothing to extract), ``"timeout"`` (the deadline passed),
            ``"error"`` (the checker failed, e.g. its worker process died).
    """

    correct: bool
    reward: float
    extracted: str | None
    reason: Reason

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"Verdict.reason: expected one of {REASONS}, got {self.reason!r}")
        if self.correct != (self.reason == "ok"):
            raise ValueError(f"Verdict: correct={self.correct} contradicts reason={self.reason!r}")
        if self.reward != (1.0 if self.correct else 0.0):
            raise ValueError(f"Verdict.reward: expected {1.0 if self.correct else 0.0}, got {self.reward}")


def make_verdict(reason: Reason, extracted: str | None) -> Verdict:
    """The verdict for ``reason``; reward and correctness follow from it."""
    correct = reason == "ok"
    return Verdict(correct=correct, reward=1.0 if correct else 0.0, extracted=extracted, reason=reason)
