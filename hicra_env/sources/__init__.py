"""Problem sources for `MathEnv`: procedural families (:mod:`.procedural`), local files (:mod:`.files`) and
Hugging Face hub datasets loaded lazily (:mod:`.hub`). All implement :class:`.base.ProblemSource`."""

from __future__ import annotations

from .base import DataFileError, HubUnavailableError, ListSource, ProblemSource, UnknownProblemError
from .procedural import FAMILIES, ProceduralSource

__all__ = [
    "FAMILIES",
    "DataFileError",
    "HubUnavailableError",
    "ListSource",
    "ProblemSource",
    "ProceduralSource",
    "UnknownProblemError",
]
