"""Entropy-regularised GRPO: GRPO whose loss subtracts ``entropy_coef * mean token entropy`` (default 0.005).

The token entropy is that of the full next-token distribution, differentiated through.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class EntropyGRPO(Agent):
    name = "entropy_grpo"
    defaults: ClassVar[dict[str, Any]] = {**Agent.defaults, "entropy_coef": 0.005}
