"""hicra.benchmarks: what users run to measure models and agents.

``pass_at_k``/``maj_at_k``/``avg_at_n`` (per-problem sampling metrics), the evaluation suites (``SUITES``,
``get_suites``), evaluation (:mod:`.evaluate`), agent comparison (:mod:`.compare`), run analysis (:mod:`.analyze`)
and performance benchmarks (:mod:`.perf`). The ``hicra`` command line is its own subpackage,
:mod:`hicra.benchmarks.cli`, the only code that knows argparse. Importing this package is light: torch and
transformers load only when something runs.
"""

from __future__ import annotations

from .passk import avg_at_n, maj_at_k, majority_vote, pass_at_k
from .suites import SUITES, Suite, get_suites

__all__ = [
    "SUITES",
    "Suite",
    "avg_at_n",
    "get_suites",
    "maj_at_k",
    "majority_vote",
    "pass_at_k",
]
