"""The strategy miniature: every strategy's solution, what each strategy gets right when executed without error,
the Strategic Grams that open each strategy, and the Miniature task's layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401  (registers hicra/Miniature-v0)
from hicra_env.sources import STRATEGIES, UnknownProblemError, strategy_solutions
from hicra_env.sources.procedural import FAMILIES
from hicra_env.tasks import MINIATURE

from .test_procedural import SOLVERS, gold_value

WORKING = {"chain": "forward", "undo": "backward", "cycle": "pattern", "seats": "complement"}
"""Family -> the strategy its Problem.solution uses."""
LEXICON = Path(__file__).resolve().parents[3] / "agents" / "data" / "strategic_grams.json"  # the paper's 249 grams


def _grams_in(text: str) -> set[str]:
    grams = json.loads(LEXICON.read_text())
    pattern = "|".join(r"\b" + re.escape(g) + r"(?!\w)" for g in sorted(grams, key=len, reverse=True))
    return set(re.findall(pattern, text.lower().replace("\u2019", "'")))


def _boxed(text: str) -> str:
    return re.fullmatch(r".*The answer is \\boxed\{(-?\d+)\}\.", text).group(1)


def _problems():
    for name in MINIATURE:
        for difficulty in range(1, FAMILIES[name].max_difficulty + 1):
            for seed in range(25):
                yield FAMILIES[name].make(difficulty, seed)


def test_hand_checked_solutions():
    # "add 5, then subtract 1, and get 19": back 19 + 1 = 20, 20 - 5 = 15; forward on 19 gives 23 (wrong).
    assert strategy_solutions("undo-d1-1") == {
        "backward": "We work our way back from 19: 19 + 1 = 20, 20 - 5 = 15. The answer is \\boxed{15}.",
        "forward": "Let's break this down: 19 + 5 = 24, 24 - 1 = 23. The answer is \\boxed{23}.",
    }
    assert FAMILIES["undo"].make(1, 1).problem == (
        "I think of a number, add 5, then subtract 1, and get 19. What was my number?"
    )
    # Digit 29 of 2, 7, 5, 4 repeating: 29 = 7 * 4 + 1, the block's first digit.
    assert FAMILIES["cycle"].make(1, 3).problem.endswith("What is digit number 29?")
    assert strategy_solutions("cycle-d1-3")["pattern"] == (
        "We should look for a pattern: 29 = 7 * 4 + 1, and digit 1 of 2, 7, 5, 4 is 2. The answer is \\boxed{2}."
    )
    assert strategy_solutions("seats-d1-5")["complement"] == (
        "A simpler approach is to count the empty seats: 1, and 36 - 1 = 35. The answer is \\boxed{35}."
    )


def test_each_family_has_two_strategies_and_its_solution_is_the_working_one():
    for p in _problems():
        solutions = strategy_solutions(p.id)
        assert len(solutions) == 2 and set(solutions) <= set(STRATEGIES), solutions
        assert next(iter(solutions)) == WORKING[p.subject] and solutions[WORKING[p.subject]] == p.solution


def test_what_each_strategy_gets_right_when_executed_without_error():
    """chain/undo: the other strategy's answer is always wrong; cycle/seats: the listing is right but long."""
    for p in _problems():
        gold = gold_value(p.answer)
        assert gold == SOLVERS[p.subject](p.problem)
        solutions = strategy_solutions(p.id)
        assert gold_value(_boxed(solutions[WORKING[p.subject]])) == gold
        other = solutions["backward" if p.subject == "chain" else "forward"]
        if p.subject in ("chain", "undo"):
            assert gold_value(_boxed(other)) != gold, (p, other)
        else:
            assert gold_value(_boxed(other)) == gold
            assert len(re.findall(r"\d+,", other)) >= 16, other  # at least 17 listed numbers (the last has no comma)


def test_listings_hold_exactly_the_digits_and_the_taken_seats():
    block, n = [2, 7, 5, 4], 29
    listing = strategy_solutions("cycle-d1-3")["forward"]
    expected = ", ".join(str(block[i % 4]) for i in range(n))  # brute force: write the sequence out
    assert listing == f"Let's break this down: {expected}. Digit 29 is 2. The answer is \\boxed{{2}}."
    taken = ", ".join(str(s) for s in range(1, 37) if s != 27)
    assert strategy_solutions("seats-d1-5")["forward"] == (
        f"Let's break this down: the taken seats are {taken}, which makes 35 seats. The answer is \\boxed{{35}}."
    )


def test_each_strategy_opens_with_its_own_grams_and_the_rest_holds_none():
    for strategy in STRATEGIES.values():
        assert _grams_in(strategy.opener) == set(strategy.grams), strategy
    for p in _problems():
        for name, text in strategy_solutions(p.id).items():
            opener = STRATEGIES[name].opener
            assert text.startswith(opener), text
            assert _grams_in(text) == set(STRATEGIES[name].grams), (name, text)
            assert not _grams_in(text[len(opener) :]), text


def test_steps_never_cancel_and_values_stay_in_range():
    for difficulty, (count, biggest, largest) in {1: (2, 9, 30), 2: (3, 9, 40), 3: (4, 19, 60)}.items():
        for seed in range(40):
            for name in ("chain", "undo"):
                p = FAMILIES[name].make(difficulty, seed)
                constants = [int(c) for c in re.findall(r"(?:add|subtract) (\d+)", p.problem)]
                assert len(constants) == count and max(constants) <= biggest
                values = [int(v) for v in re.findall(r"(\d+) [-+] \d+ = (-?\d+)", p.solution) for v in v]
                assert min(values) >= 1 and max(values) <= largest, p.solution
                given = int(re.search(r"(?:Start with|and get) (\d+)", p.problem).group(1))
                assert int(p.answer) != given  # the steps change the number, so undoing is not redoing


def test_families_without_strategies_and_unknown_ids():
    assert strategy_solutions("arithmetic-d1-3") == {}
    with pytest.raises(UnknownProblemError, match="family 'undoo'"):
        strategy_solutions("undoo-d1-3")
    with pytest.raises(ValueError, match=r"difficulty of family 'cycle' must be in 1\.\.2, got 3"):
        FAMILIES["cycle"].strategy_solutions(3, 0)


def test_miniature_task_takes_the_families_in_turn():
    env = gym.make("hicra/Miniature-v0", num_problems=64)
    ids = [env.reset(options={"index": i})[1]["problem_id"] for i in range(68)]
    assert ids[:5] == ["chain-d1-0", "undo-d1-0", "cycle-d1-0", "seats-d1-0", "chain-d1-1"]
    assert [sum(i.startswith(f + "-") for i in ids[:64]) for f in MINIATURE] == [16, 16, 16, 16]
    assert ids[64] == "chain-d1-16"  # the first held-out problem comes right after the training set
