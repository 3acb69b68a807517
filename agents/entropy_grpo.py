"""Entropy-regularised GRPO: GRPO whose loss subtracts ``entropy_coef * mean token entropy``.

The token entropy is that of the full next-token distribution, differentiated through.
"""

from __future__ import annotations

from .base import Agent


class EntropyGRPO(Agent):
    name = "entropy_grpo"
    defaults = {"entropy_coef": 0.005}
