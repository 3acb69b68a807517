"""Agents by name: ``AGENTS`` and ``make_agent``."""

from __future__ import annotations

import difflib
from typing import Any

from .base import Agent
from .config import AgentConfig, config_from_dict
from .entropy_grpo import EntropyGRPO
from .grpo import GRPO
from .hicra import HICRA
from .hicra_placebo import HICRAPlacebo
from .high_entropy import HighEntropy

AGENTS: dict[str, type[Agent]] = {cls.name: cls for cls in (GRPO, HICRA, EntropyGRPO, HICRAPlacebo, HighEntropy)}


def make_agent(name: str, **cfg: Any) -> Agent:
    """The agent registered as ``name``, configured by :class:`AgentConfig` fields in ``cfg``."""
    if name not in AGENTS:
        hint = difflib.get_close_matches(name, AGENTS, n=1)
        tip = f"; did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown agent {name!r}{tip} (known: {', '.join(AGENTS)})")
    cls = AGENTS[name]
    config = config_from_dict(AgentConfig, {**cls.defaults, **cfg})
    return cls(config)
