from __future__ import annotations

import dataclasses

import pytest

from hicra.verifiers import Verdict
from hicra.verifiers.verdict import make_verdict


@pytest.mark.parametrize(
    ("reason", "correct", "reward"),
    [
        ("ok", True, 1.0),
        ("mismatch", False, 0.0),
        ("no_answer", False, 0.0),
        ("timeout", False, 0.0),
        ("error", False, 0.0),
    ],
)
def test_make_verdict_reward_follows_reason(reason, correct, reward):
    verdict = make_verdict(reason, "5")
    assert (verdict.correct, verdict.reward, verdict.extracted, verdict.reason) == (correct, reward, "5", reason)


def test_verdict_is_frozen():
    verdict = make_verdict("ok", "1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.correct = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"correct": True, "reward": 1.0, "extracted": "1", "reason": "maybe"}, "reason"),
        ({"correct": True, "reward": 1.0, "extracted": "1", "reason": "mismatch"}, "contradicts"),
        ({"correct": True, "reward": 0.5, "extracted": "1", "reason": "ok"}, "reward"),
    ],
)
def test_inconsistent_verdicts_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Verdict(**kwargs)
