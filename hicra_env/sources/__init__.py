"""Problem sources for `MathEnv`: procedural families (:mod:`.procedural`), local files (:mod:`.files`) and
Hugging Face hub datasets loaded lazily (:mod:`.hub`). All implement :class:`.base.ProblemSource`."""

from __future__ import annotations

from .base import DataFileError, HubUnavailableError, ListSource, ProblemSource, UnknownProblemError
from .procedural import FAMILIES, ProceduralSource, strategy_solutions
from .strategies import STRATEGIES, Strategy

__all__ = [
    "FAMILIES",
    "STRATEGIES",
    "DataFileError",
    "HubUnavailableError",
    "ListSource",
    "ProblemSource",
    "ProceduralSource",
    "Strategy",
    "UnknownProblemError",
    "strategy_solutions",
]
