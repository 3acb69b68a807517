"""Sampling metrics of one problem: unbiased pass@k, maj@k (majority vote) and avg@n.

A suite's score is the mean of these per-problem values over its problems.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hicra.verifiers import answer_key


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value}")
    return value


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from ``n`` samples of which ``c`` are correct (Chen et al., 2021).

    pass@k = 1 - C(n-c, k) / C(n, k): the probability that a k-subset drawn without replacement from the n
    samples holds at least one correct sample. Computed as the stable product
    ``1 - prod_{i=n-c+1}^{n} (1 - k / i)`` (no large binomials). Requires ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    _check_int("n", n, 1)
    _check_int("c", c, 0)
    _check_int("k", k, 1)
    if c > n:
        raise ValueError(f"c: expected at most n={n} correct samples, got c={c}")
    if k > n:
        raise ValueError(f"k: pass@k needs k <= n samples, got k={k} > n={n}; sample more (raise n) or lower k")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def avg_at_n(correct: Sequence[bool]) -> float:
    """Mean correctness of the samples (avg@n, the usual "pass@1 averaged over n samples")."""
    if len(correct) == 0:
        raise ValueError("avg@n: expected at least one sample, got none")
    return sum(bool(x) for x in correct) / len(correct)


def majority_vote(answers: Sequence[str | None], equivalent: Callable[[str, str], bool] | None = None) -> int | None:
    """Index of the sample whose answer wins the vote, or None when no sample has an answer.

    Samples without an answer (None) do not vote. Answers are grouped by the verifier's normalisation
    (:func:`hicra.verifiers.answer_key`: ``"\\dfrac{1}{2}"``, ``"\\frac {1}{2}"`` and ``"x = \\frac12"`` share a
    key; ``"0.5"`` does not, pass ``equivalent=`` for that), or, when
    ``equivalent(a, b)`` is given (e.g. the verifier), each answer joins the first earlier group whose first
    answer it is equivalent to. The largest group wins; a tie goes to the group whose first member comes
    earliest. The returned index is that group's first member.
    """
    groups: list[list[int]] = []  # sample indices, in order of first appearance
    keys: list[str] = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        key = answer_key(answer) if equivalent is None else answer
        for group, other in zip(groups, keys):
            same = key == other if equivalent is None else equivalent(key, other)
            if same:
                group.append(i)
                break
        else:
            groups.append([i])
            keys.append(key)
    if not groups:
        return None
    best = max(groups, key=len)  # max returns the first maximal group: the earliest-appearing one
    return best[0]


def maj_at_k(
    answers: Sequence[str | None],
    correct: Sequence[bool],
    k: int,
    *,
    equivalent: Callable[[str, str], bool] | None = None,
) -> bool:
    """Whether the majority answer of the first ``k`` samples is correct (see :func:`majority_vote`).

    ``answers[i]`` is sample i's extracted answer (None: no answer), ``correct[i]`` its verdict. The vote's
    correctness is that of the winning group's first sample; with no answer among the first k it is False.
    """
    if len(answers) != len(correct):
        raise ValueError(f"maj@k: expected as many verdicts as answers, got {len(correct)} and {len(answers)}")
    _check_int("k", k, 1)
    if k > len(answers):
        raise ValueError(f"k: maj@k needs k <= n samples, got k={k} > n={len(answers)}; raise n or lower k")
    winner = majority_vote(answers[:k], equivalent)
    return winner is not None and bool(correct[winner])
