"""hicra.agents: LLM policies and agents that differ only in credit assignment (GRPO, HICRA, ablations).

``AGENTS`` maps a name to an agent class and ``make_agent(name, **cfg)`` builds one; ``Trainer`` runs the one
training loop. The math lives in pure functions: ``advantages``, ``planning``, ``losses``, ``metrics``.
Importing this package is light (no torch): everything but the configs loads on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import AgentConfig, TrainConfig
from .run_config import RunConfig

_LAZY = {
    "AGENTS": ".registry",
    "make_agent": ".registry",
    "Agent": ".base",
    "Credit": ".base",
    "Policy": ".policy",
    "SamplingConfig": ".sampling",
    "Generation": ".policy",
    "Trainer": ".trainer",
    "StrategicGrams": ".planning",
    "RolloutBatch": ".rollout",
    "StepMetrics": ".records",
}

__all__ = ["AGENTS", "Agent", "AgentConfig", "Credit", "RunConfig", "TrainConfig", "make_agent", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
