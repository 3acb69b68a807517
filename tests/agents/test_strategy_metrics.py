"""Which strategy a response chose, each family's mix and accuracy given the strategy: hand-written responses and a
hand-built batch."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401  (registers the hicra/* ids)
from hicra.agents.strategy_metrics import (
    NO_GRAM,
    StrategyTracker,
    classify,
    perplexity_by_key,
    problem_strategies,
    strategy_mix,
)

CHAIN = ("forward", "backward")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let's break this down: 3 + 4 = 7. The answer is \\boxed{7}.", "forward"),
        ("We work our way back from 7: 7 - 4 = 3.", "backward"),
        ("LET'S   BREAK this\ndown: 3 + 4 = 7", "forward"),  # case and whitespace runs, as planning tokens match
        ("We work our way back. No, let's break this down: 3 + 4 = 7.", "backward"),  # the first gram decides
        ("3 + 4 = 7. Let's break this down: once more.", "forward"),  # a gram after the working still counts
        ("The answer is \\boxed{7}.", NO_GRAM),
        ("Let's break this downward", NO_GRAM),  # word boundary: not the gram
        ("We should look for a pattern: 7.", NO_GRAM),  # another family's strategy is not one of this problem's
    ],
)
def test_classify_hand_written_responses(text, expected):
    assert classify(text, CHAIN) == expected


def test_classify_reads_only_the_given_strategies_and_rejects_unknown_names():
    text = "We should look for a pattern: 7."
    assert classify(text, ("pattern", "forward")) == "pattern"
    assert classify(text, ()) == NO_GRAM
    with pytest.raises(KeyError, match="STRATEGIES"):
        classify(text, ("sideways",))


def test_problem_strategies_of_miniature_and_other_ids():
    assert problem_strategies("chain-d1-3") == ("forward", "backward")  # the working strategy first
    assert problem_strategies("undo-d1-3") == ("backward", "forward")
    assert problem_strategies("arithmetic-d1-3") == ()  # one worked solution
    assert problem_strategies("data-17") == ()  # not procedural


def test_strategy_mix_on_a_hand_built_batch():
    families = ["chain"] * 5 + ["cycle"] * 3
    labels = ["forward", "forward", "backward", NO_GRAM, "forward", "pattern", "forward", "pattern"]
    correct = [True, False, False, False, True, True, False, False]
    layout = {"chain": ["forward", "backward"], "cycle": ["pattern", "forward"], "undo": ["backward", "forward"]}
    out = strategy_mix(families, labels, correct, layout)
    expected = {
        "strategy/chain/forward": 3 / 5, "strategy_acc/chain/forward": 2 / 3, "strategy_n/chain/forward": 3,
        "strategy/chain/backward": 1 / 5, "strategy_acc/chain/backward": 0.0, "strategy_n/chain/backward": 1,
        "strategy/chain/no_gram": 1 / 5, "strategy_acc/chain/no_gram": 0.0, "strategy_n/chain/no_gram": 1,
        "strategy/cycle/pattern": 2 / 3, "strategy_acc/cycle/pattern": 1 / 2, "strategy_n/cycle/pattern": 2,
        "strategy/cycle/forward": 1 / 3, "strategy_acc/cycle/forward": 0.0, "strategy_n/cycle/forward": 1,
        "strategy/cycle/no_gram": 0.0, "strategy_n/cycle/no_gram": 0,
        "strategy_n/undo/backward": 0, "strategy_n/undo/forward": 0, "strategy_n/undo/no_gram": 0,
    }  # fmt: skip
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key
    undefined = ["strategy_acc/cycle/no_gram"] + [f"{m}/undo/{s}" for m in ("strategy", "strategy_acc")
                                                  for s in ("backward", "forward", "no_gram")]  # fmt: skip
    assert all(math.isnan(out[k]) for k in undefined)
    assert set(out) == set(expected) | set(undefined)
    with pytest.raises(ValueError, match="one family"):
        strategy_mix(families, labels[:-1], correct, layout)


def test_tracker_lays_out_the_miniature_families_and_classifies_a_step():
    env = gym.make("hicra/Miniature-v0", num_problems=8)
    tracker = StrategyTracker(env, range(8))
    assert tracker.layout == {
        "chain": ["forward", "backward"], "undo": ["backward", "forward"],
        "cycle": ["pattern", "forward"], "seats": ["complement", "forward"],
    }  # fmt: skip
    ids = ["chain-d1-0", "chain-d1-0", "seats-d1-1", "arithmetic-d1-0"]
    texts = ["Let's break this down: 1", "We work our way back from 3", "A simpler approach is to count", "hi"]
    out = tracker.step_metrics(ids, texts, [True, False, True, True])
    assert out["strategy/chain/forward"] == 0.5 and out["strategy/chain/backward"] == 0.5
    assert out["strategy_acc/chain/forward"] == 1.0 and out["strategy_acc/chain/backward"] == 0.0
    assert out["strategy/seats/complement"] == 1.0 and out["strategy_n/seats/forward"] == 0
    assert math.isnan(out["strategy/undo/backward"])  # no undo problem in the step
    assert not any("arithmetic" in k for k in out)  # a family with one worked solution has no keys
    assert StrategyTracker(gym.make("hicra/Arithmetic-v0"), range(4)).step_metrics(ids[3:], texts[3:], [True]) == {}


def test_perplexity_by_key_pools_tokens():
    out = perplexity_by_key(["a", "b", "a", "c"], [2.0, 1.0, 4.0, 0.0], [2, 4, 4, 0])
    assert out["a"] == pytest.approx(math.exp(6.0 / 6)) and out["b"] == pytest.approx(math.exp(1.0 / 4))
    assert list(out) == ["a", "b", "c"] and math.isnan(out["c"])


def test_tracker_for_env_scans_the_first_training_problems_of_a_math_env_only():
    assert list(StrategyTracker.for_env(gym.make("hicra/Miniature-v0"), 2).layout) == ["chain", "undo"]
    assert len(StrategyTracker.for_env(gym.make("hicra/Miniature-v0"), None).layout) == 4

    class Other(gym.Env):
        def reset(self, *, seed=None, options=None):
            raise AssertionError("an env that is not a MathEnv is never scanned")

    assert StrategyTracker.for_env(Other(), 8).layout == {}
