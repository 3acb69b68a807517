"""The second strategy miniature: a shared preamble before the decision, each strategy's answer judged by hicra's
verifier against an independent solution, strategies with and without Strategic Grams, determinism by seed, and
the out-of-distribution split (difficulty 2). The token-level check of the deciding token is in
tests/agents/test_tiny_v2.py (it needs the tiny-v2 tokenizer)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401  (registers hicra/MiniatureV2-v0)
from hicra.verifiers import verify
from hicra_env.sources import STRATEGIES, strategy_solutions
from hicra_env.sources.miniature_v2 import LEVELS
from hicra_env.sources.procedural import FAMILIES
from hicra_env.tasks import MINIATURE_V2

WORKING = {"march": "apply", "rewind": "backtrack", "digits": "remainder", "taken": "subtract"}
OTHER = {"march": "backtrack", "rewind": "apply", "digits": "write_out", "taken": "count_up"}
LEXICON = Path(__file__).resolve().parents[3] / "agents" / "data" / "strategic_grams.json"  # the paper's 249 grams


def _grams_in(text: str) -> set[str]:
    grams = json.loads(LEXICON.read_text())
    pattern = "|".join(r"\b" + re.escape(g) + r"(?!\w)" for g in sorted(grams, key=len, reverse=True))
    return set(re.findall(pattern, text.lower().replace("\u2019", "'")))


def _steps(problem: str) -> list[int]:
    return [int(c) * (1 if op == "add" else -1) for op, c in re.findall(r"(add|subtract) (\d+)", problem)]


def solve(family: str, problem: str) -> int:
    """An independent answer: the chain run or searched by brute force, the digit sequence written out, the seats
    counted."""
    if family == "march":
        return int(re.match(r"Start with (\d+)", problem).group(1)) + sum(_steps(problem))
    if family == "rewind":
        result = int(re.search(r"and get (\d+)", problem).group(1))
        return next(x for x in range(-500, 500) if x + sum(_steps(problem)) == result)
    if family == "digits":
        block = [int(d) for d in re.match(r"The digits ([\d, ]+) repeat", problem).group(1).split(", ")]
        n = int(re.search(r"digit number (\d+)", problem).group(1))
        return (block * n)[n - 1]
    total = int(re.match(r"A row has (\d+) seats", problem).group(1))
    empty = re.search(r"Seats? ([\d, and]+) (?:is|are) empty", problem).group(1)
    return total - len(re.findall(r"\d+", empty))


def _problems(difficulty: int = 1, count: int = 30):
    for name in MINIATURE_V2:
        for seed in range(count):
            yield FAMILIES[name].make(difficulty, seed)


def test_hand_checked_solutions():
    # "add 4, then subtract 5, and get 14": back 14 + 5 = 19, 19 - 4 = 15; applied to 14 the steps give 13 (wrong).
    p = FAMILIES["rewind"].make(1, 4)
    assert p.problem == "I think of a number, add 4, then subtract 5, and get 14. What was my number?"
    assert strategy_solutions("rewind-d1-4") == {
        "backtrack": "We have 14 and 2 steps. Go back to the start: 14 + 5 = 19, 19 - 4 = 15. "
        "The answer is \\boxed{15}.",
        "apply": "We have 14 and 2 steps. Applying the steps: 14 + 4 = 18, 18 - 5 = 13. The answer is \\boxed{13}.",
    }
    # Digit 30 of 2, 4, 7, 9 repeating: 30 = 7 * 4 + 2, the block's second digit.
    assert strategy_solutions("digits-d1-1")["remainder"] == (
        "We have 4 digits and want digit 30. Note that 30 = 7 * 4 + 2, and digit 2 of 2, 4, 7, 9 is 4. "
        "The answer is \\boxed{4}."
    )


def test_each_strategy_judged_by_the_verifier_against_an_independent_answer():
    """march/rewind: the other strategy's answer is always wrong; digits/taken: the listing is right but long."""
    for difficulty in (1, 2):
        for p in _problems(difficulty, 20):
            gold = solve(p.subject, p.problem)
            assert p.answer == str(gold)
            solutions = strategy_solutions(p.id)
            assert list(solutions) == [WORKING[p.subject], OTHER[p.subject]]
            assert solutions[WORKING[p.subject]] == p.solution
            assert verify(p.solution, p.answer).correct, p.solution
            other = solutions[OTHER[p.subject]]
            assert verify(other, p.answer).correct == (p.subject in ("digits", "taken")), other
            if p.subject in ("digits", "taken"):
                assert len(re.findall(r"\d+,", other)) >= 14, other  # at least 15 listed numbers


def test_every_solution_shares_the_preamble_then_writes_its_opener():
    for p in _problems():
        a = p.solution
        preamble = re.match(r"We have \d+ (?:and \d+ steps|digits and want digit \d+|seats and \d+ empty)\.", a)
        assert preamble, a
        for name, text in strategy_solutions(p.id).items():
            assert text.startswith(preamble.group(0) + " " + STRATEGIES[name].opener), text


def test_gram_strategies_hold_only_their_grams_and_the_others_none():
    for name in {*WORKING.values(), *OTHER.values()}:
        assert _grams_in(STRATEGIES[name].opener) == set(STRATEGIES[name].grams)
    with_gram = {n for n in {*WORKING.values(), *OTHER.values()} if STRATEGIES[n].grams}
    assert with_gram == {"backtrack", "remainder", "subtract"}  # apply, write_out and count_up hold no gram
    v1_grams = {g for n in ("forward", "backward", "pattern", "complement") for g in STRATEGIES[n].grams}
    assert not v1_grams & {g for n in with_gram for g in STRATEGIES[n].grams}  # each gram names one strategy
    for difficulty in (1, 2):
        for p in _problems(difficulty):
            for name, text in strategy_solutions(p.id).items():
                assert _grams_in(text) == set(STRATEGIES[name].grams), (name, text)


def test_same_seed_same_problems():
    first = gym.make("hicra/MiniatureV2-v0", num_problems=64)
    second = gym.make("hicra/MiniatureV2-v0", num_problems=64)
    a = [first.reset(seed=3)[0]] + [first.reset()[0] for _ in range(7)]
    b = [second.reset(seed=3)[0]] + [second.reset()[0] for _ in range(7)]
    assert a == b and len(set(a)) > 1
    assert FAMILIES["digits"].make(1, 9) == FAMILIES["digits"].make(1, 9)
    assert FAMILIES["digits"].make(1, 9).problem != FAMILIES["digits"].make(1, 10).problem


def _sizes(p) -> tuple[int, int]:
    """(number of steps, largest number) of a problem's text and its worked solution."""
    numbers = [int(n) for n in re.findall(r"\d+", p.problem + p.solution)]
    return len(_steps(p.problem)), max(numbers)


@pytest.mark.parametrize("family", MINIATURE_V2)
def test_difficulty_two_is_an_out_of_distribution_split_with_larger_sizes(family):
    d1 = [_sizes(FAMILIES[family].make(1, s)) for s in range(60)]
    d2 = [_sizes(FAMILIES[family].make(2, s)) for s in range(60)]
    if family in ("march", "rewind"):
        assert {n for n, _ in d1} == {2, 3} and {n for n, _ in d2} == {4}  # longer chains
        assert max(b for _, b in d1) <= LEVELS[1].value < max(b for _, b in d2) <= LEVELS[2].value
    else:
        assert max(b for _, b in d1) <= 40 and min(b for _, b in d2) >= 100  # positions and rows
    env = gym.make("hicra/MiniatureV2-v0", difficulty=2)
    assert env.reset(seed=0)[1]["problem_id"].split("-")[1] == "d2"


def test_some_arithmetic_stays_hard():
    chains = [FAMILIES[f].make(1, s) for f in ("march", "rewind") for s in range(200)]
    long = [p for p in chains if len(_steps(p.problem)) == 3]
    assert 160 < len(long) < 240  # about half of the 400 chains take three steps
    assert max(max(map(abs, _steps(p.problem))) for p in long) > 9  # with constants past one digit
    assert all(max(map(abs, _steps(p.problem))) <= 9 for p in chains if len(_steps(p.problem)) == 2)


def test_task_takes_the_families_in_turn():
    env = gym.make("hicra/MiniatureV2-v0", num_problems=64)
    ids = [env.reset(options={"index": i})[1]["problem_id"] for i in range(5)]
    assert ids == ["march-d1-0", "rewind-d1-0", "digits-d1-0", "taken-d1-0", "march-d1-1"]
