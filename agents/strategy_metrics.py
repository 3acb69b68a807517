"""Metrics of the mechanism on strategy families: which strategy each response chose, accuracy given that choice,
and execution perplexity by strategy on a fixed teacher-forced set.

A problem of a strategy family (one whose ``hicra_env.sources.strategy_solutions`` is not empty, for example the
miniature's ``chain``) can be worked by the strategies it names, each a :data:`hicra_env.sources.STRATEGIES` entry
with its own Strategic Grams. A response *chose* the strategy whose grams occur first in it (:func:`classify`), or
none (:data:`NO_GRAM`). :func:`strategy_mix` turns a step's choices into each family's mix and accuracy given the
strategy. :class:`ExecutionProbe` scores every strategy's worked solution of fixed held-out problems, teacher-forced
after the prompt, and reports the perplexity of its execution tokens (the tokens that are not planning tokens) per
strategy: a mix that moves toward one strategy cannot pass for a change in how each strategy is executed.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from .planning import StrategicGrams, canonical_gram

NO_GRAM = "no_gram"
"""The label of a response that holds no gram of its problem's strategies."""


@functools.lru_cache(maxsize=256)
def _lexicon(strategies: tuple[str, ...]) -> tuple[StrategicGrams, dict[str, str]]:
    """The grams of ``strategies`` compiled as one lexicon, and each gram's strategy (the first one naming it)."""
    from hicra_env.sources import STRATEGIES

    owner: dict[str, str] = {}
    for name in strategies:
        if name not in STRATEGIES:
            raise KeyError(
                f"strategy {name!r}: expected a name of hicra_env.sources.STRATEGIES: {', '.join(STRATEGIES)}"
            )
        for gram in STRATEGIES[name].grams:
            owner.setdefault(canonical_gram(gram), name)
    return StrategicGrams(list(owner)), owner


def classify(text: str, strategies: Sequence[str]) -> str:
    """The strategy of ``strategies`` whose Strategic Grams occur first in ``text`` (matched as planning tokens
    are: case-insensitive, on word boundaries); :data:`NO_GRAM` when none occurs (or ``strategies`` is empty)."""
    if not strategies:
        return NO_GRAM
    grams, owner = _lexicon(tuple(strategies))
    matches = grams.find(text)
    return owner[matches[0].gram] if matches else NO_GRAM


@functools.lru_cache(maxsize=65536)
def problem_strategies(problem_id: str) -> tuple[str, ...]:
    """The strategy names of a procedural problem, its working one first; ``()`` for a family with one worked
    solution and for ids that are not procedural."""
    return tuple(solutions_of(problem_id))


def solutions_of(problem_id: str) -> dict[str, str]:
    """``hicra_env.sources.strategy_solutions(problem_id)``, or ``{}`` for an id that is not procedural."""
    from hicra_env.sources import UnknownProblemError, strategy_solutions

    try:
        return strategy_solutions(problem_id)
    except UnknownProblemError:
        return {}


def strategy_mix(
    families: Sequence[str], labels: Sequence[str], correct: Sequence[bool], layout: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Each family's strategy mix and accuracy given the strategy, from one response per position.

    Args:
        families, labels, correct: each response's family, :func:`classify` label and correctness.
        layout: family -> its strategy names; every family and strategy of it gets keys, and so does
            :data:`NO_GRAM`.

    Returns:
        ``strategy/<family>/<label>``: share of the family's responses with that label (NaN when the family has
        no response); ``strategy_acc/<family>/<label>``: share of those that are correct (NaN when none);
        ``strategy_n/<family>/<label>``: their count.
    """
    if not len(families) == len(labels) == len(correct):
        raise ValueError(f"expected one family, label and correctness per response, got {len(families)}, "
                         f"{len(labels)} and {len(correct)}")  # fmt: skip
    total, count, right = defaultdict(int), defaultdict(int), defaultdict(int)
    for family, label, ok in zip(families, labels, correct):
        total[family] += 1
        count[family, label] += 1
        right[family, label] += bool(ok)
    out: dict[str, float] = {}
    for family, names in layout.items():
        for label in (*names, NO_GRAM):
            n = count[family, label]
            out[f"strategy/{family}/{label}"] = n / total[family] if total[family] else math.nan
            out[f"strategy_acc/{family}/{label}"] = right[family, label] / n if n else math.nan
            out[f"strategy_n/{family}/{label}"] = n
    return out


class StrategyTracker:
    """The strategy families of a run's env and each step's :func:`strategy_mix` over them.

    ``scan``: env indices (``env.reset(options={"index": i})``) whose problems fix the layout up front, so every
    step logs the same keys; families or strategies first seen in a later batch are added then.
    """

    def __init__(self, env, scan: Iterable[int] = ()) -> None:
        self.env = env
        self.layout: dict[str, list[str]] = {}
        """family -> strategy names, in order of first appearance (the working strategy first)."""
        self._families: dict[str, str] = {}
        for index in scan:
            _, info = env.reset(options={"index": int(index)})
            self.family(info["problem_id"])

    @classmethod
    def for_env(cls, env, num_problems: int | None, scan: int = 64) -> StrategyTracker:
        """A tracker whose layout starts from the env's first ``min(num_problems, scan)`` problems (the training
        set's first ones); from the batches alone for an env that is not a ``MathEnv``."""
        from hicra_env import MathEnv

        if not isinstance(env.unwrapped, MathEnv):
            return cls(env)
        return cls(env, range(min(num_problems or scan, scan)))

    def family(self, problem_id: str) -> str | None:
        """The family (``Problem.subject``) of a strategy family's problem, noted in the layout; None otherwise."""
        strategies = problem_strategies(problem_id)
        if not strategies:
            return None
        family = self._families.get(problem_id)
        if family is None:
            family = self._families[problem_id] = self.env.get_wrapper_attr("problem")(problem_id).subject or "all"
        names = self.layout.setdefault(family, [])
        names += [s for s in strategies if s not in names]
        return family

    def step_metrics(self, problem_ids: Sequence[str], texts: Sequence[str], correct: Sequence[bool]) -> dict:
        """:func:`strategy_mix` of one step's responses; ``{}`` when the env has no strategy family."""
        families, labels, right = [], [], []
        for pid, text, ok in zip(problem_ids, texts, correct):
            family = self.family(pid)
            if family is not None:
                families.append(family)
                labels.append(classify(text, problem_strategies(pid)))
                right.append(bool(ok))
        return strategy_mix(families, labels, right, self.layout) if self.layout else {}


def perplexity_by_key(keys: Sequence[str], nll: Sequence[float], tokens: Sequence[int]) -> dict[str, float]:
    """``exp(sum nll / sum tokens)`` over the rows of each key (token-weighted, pooled); NaN for a key with no
    token. ``nll[i]`` is row i's summed negative log-prob over its ``tokens[i]`` scored tokens."""
    sums, counts = defaultdict(float), defaultdict(int)
    for key, value, n in zip(keys, nll, tokens):
        sums[key] += float(value)
        counts[key] += int(n)
    return {k: math.exp(sums[k] / counts[k]) if counts[k] else math.nan for k in dict.fromkeys(keys)}
