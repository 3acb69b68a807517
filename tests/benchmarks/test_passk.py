"""pass@k and maj@k against brute-force enumeration and hand-computed cases."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest

from hicra.benchmarks.passk import avg_at_n, maj_at_k, majority_vote, pass_at_k


def _pass_at_k_by_enumeration(n: int, c: int, k: int) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_equals_enumeration_over_all_k_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_by_enumeration(n, c, k), abs=1e-12)


def test_pass_at_k_hand_values_and_closed_form():
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(3, 0, 3) == 0.0
    assert pass_at_k(3, 3, 1) == 1.0
    # pass@1 is the fraction correct; large n stays stable against the exact binomial ratio.
    assert pass_at_k(32, 7, 1) == pytest.approx(7 / 32)
    assert pass_at_k(200, 13, 50) == pytest.approx(1 - math.comb(187, 50) / math.comb(200, 50), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k", "match"),
    [(4, 1, 5, "k <= n"), (4, 5, 1, "at most n"), (4, -1, 1, ">= 0"), (4, 1, 0, ">= 1"), (0, 0, 1, ">= 1")],
)
def test_pass_at_k_rejects_invalid_arguments(n, c, k, match):
    with pytest.raises(ValueError, match=match):
        pass_at_k(n, c, k)


def test_pass_at_k_rejects_non_integers():
    with pytest.raises(ValueError, match="integer"):
        pass_at_k(4, 1.5, 1)
    with pytest.raises(ValueError, match="integer"):
        pass_at_k(4, True, 1)


def test_avg_at_n():
    assert avg_at_n([True, False, False, True]) == 0.5
    with pytest.raises(ValueError, match="at least one"):
        avg_at_n([])


def _majority_by_enumeration(answers):
    """Reference vote: count every distinct answer, best = most votes, then earliest first appearance."""
    votes = [a for a in answers if a is not None]
    if not votes:
        return None
    counts = Counter(votes)
    first = {a: answers.index(a) for a in counts}
    best = min(counts, key=lambda a: (-counts[a], first[a]))
    return first[best]


@pytest.mark.parametrize("length", range(1, 7))
def test_majority_vote_equals_enumeration_over_all_answer_sequences(length):
    for answers in itertools.product(["1", "2", "3", None], repeat=length):
        assert majority_vote(list(answers)) == _majority_by_enumeration(list(answers)), answers


def test_maj_at_k_equals_enumeration_with_gold_answer():
    gold = "2"
    for answers in itertools.product(["1", "2", None], repeat=5):
        correct = [a == gold for a in answers]
        for k in range(1, 6):
            winner = _majority_by_enumeration(list(answers[:k]))
            expected = winner is not None and answers[winner] == gold
            assert maj_at_k(list(answers), correct, k) == expected, (answers, k)


def test_maj_at_k_hand_cases_and_tie_break():
    answers = ["7", "5", "5", "7", None, "7"]
    correct = [True, False, False, True, False, True]
    assert maj_at_k(answers, correct, 1) is True
    assert maj_at_k(answers, correct, 3) is False  # 5 wins 2-1
    assert maj_at_k(answers, correct, 4) is True  # 2-2 tie: "7" appeared first
    assert maj_at_k(answers, correct, 6) is True
    assert maj_at_k([None, None], [False, False], 2) is False


def test_maj_at_k_groups_spelling_variants_and_accepts_an_equivalence():
    answers = ["0.5", "\\dfrac{1}{2}", "\\frac {1}{2}", "3"]
    correct = [True, True, True, False]
    assert majority_vote(answers) == 1  # the two fractions share a key and outvote "0.5"
    as_number = {"0.5": 0.5, "\\dfrac{1}{2}": 0.5, "\\frac {1}{2}": 0.5, "3": 3.0}
    assert majority_vote(answers, equivalent=lambda a, b: as_number[a] == as_number[b]) == 0
    assert maj_at_k(answers, correct, 4) is True
    assert maj_at_k(["3", "3", "0.5"], [False, False, True], 3) is False


def test_maj_at_k_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k <= n"):
        maj_at_k(["1"], [True], 2)
    with pytest.raises(ValueError, match="as many verdicts"):
        maj_at_k(["1", "2"], [True], 1)


def test_maj_at_k_votes_with_the_verifiers_normalisation():
    """Gold 7: the verifier reads "x = 7", "7" and "$7$" as one answer (3 votes) against two spellings of (3, 4).
    A string key that kept "x=7" apart tied 2-2 and gave the vote to the wrong, earlier answer."""
    answers = ["(3,4)", "\\left(3, 4\\right)", "x = 7", "7", "$7$"]
    correct = [False, False, True, True, True]
    assert majority_vote(answers) == 2
    assert maj_at_k(answers, correct, 5) is True
