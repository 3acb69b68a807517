"""Agents by name: ``AGENTS`` and ``make_agent``."""

from __future__ import annotations

from typing import Any

from .all_tokens import AllTokens
from .base import Agent
from .cispo import CISPO
from .config import AgentConfig
from .dapo import DAPO
from .dr_grpo import DrGRPO
from .entropy_grpo import EntropyGRPO
from .first_tokens import FirstTokens
from .forking_tokens import ForkingTokens
from .grpo import GRPO
from .gspo import GSPO
from .hicra import HICRA
from .hicra_placebo import HICRAPlacebo
from .high_entropy import HighEntropy
from .high_entropy_nonplanning import HighEntropyNonPlanning
from .placebo_matched import PlaceboMatched
from .rloo import RLOO

_CLASSES = (GRPO, HICRA, EntropyGRPO, HICRAPlacebo, HighEntropy, DrGRPO, DAPO, GSPO, CISPO, RLOO, ForkingTokens)
_CONTROLS = (PlaceboMatched, FirstTokens, AllTokens, HighEntropyNonPlanning)  # issue 18: controls of the mechanism
AGENTS: dict[str, type[Agent]] = {cls.name: cls for cls in (*_CLASSES, *_CONTROLS)}


def make_agent(name: str, **cfg: Any) -> Agent:
    """The agent registered as ``name``, configured by :class:`AgentConfig` fields in ``cfg``.

    Raises ``KeyError`` for an unknown agent or field (naming the known ones), ``ValueError`` for a bad value.
    """
    if name not in AGENTS:
        raise KeyError(f"unknown agent {name!r}; expected one of: {', '.join(AGENTS)}")
    known = AgentConfig.__dataclass_fields__
    for key in cfg:
        if key not in known:
            raise KeyError(f"unknown agent field {key!r}; expected one of: {', '.join(known)}")
    return AGENTS[name](AgentConfig(**cfg))
