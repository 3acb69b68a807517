"""hicra.benchmarks: what users run to measure models and agents.

``pass_at_k``/``maj_at_k``/``avg_at_n`` (per-problem sampling metrics), the evaluation suites (``SUITES``,
``get_suite``) and the ``hicra`` command line (:mod:`hicra.benchmarks.cli`). Importing this package is light:
the evaluation runner (torch, transformers) loads only when ``hicra eval`` runs.
"""

from __future__ import annotations

from .errors import UsageError
from .passk import avg_at_n, maj_at_k, majority_vote, normalize_answer, pass_at_k
from .suites import SUITES, Suite, get_suite, parse_suites

__all__ = [
    "SUITES",
    "Suite",
    "UsageError",
    "avg_at_n",
    "get_suite",
    "maj_at_k",
    "majority_vote",
    "normalize_answer",
    "parse_suites",
    "pass_at_k",
]
