"""CISPO: Clipped IS-weight Policy Optimization.

MiniMax 2025, "MiniMax-M1: Scaling Test-Time Compute Efficiently with Lightning Attention" (arXiv 2506.13585).
PPO's clip zeroes the gradient of a token whose ratio left the clip range, and those are often the rare "fork"
tokens (however, but, wait) that reasoning needs. CISPO clips the importance weight instead and detaches it:
``loss_t = -sg(clip(r_t, 1 - eps_low, 1 + eps_high)) A log pi(y_t)`` (``surrogate = "cispo"``), so every token keeps
a gradient, and aggregates over all tokens of the batch (``aggregation = "token_mean"``).

Defaults: no lower bound on the weight (the paper's choice: ``eps_low = 1``, a lower bound of 0), the weight
capped at ``1 + eps_high = 5`` (``eps_high = 4``, TRL's recommended ``epsilon_high=5.0`` for CISPO, from ScaleRL,
arXiv 2510.13786; MiniMax-M1 does not publish its value), group-normalised advantages, no KL. TRL:
``loss_type="cispo"``; verl: ``policy_loss.loss_mode=cispo``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class CISPO(Agent):
    name = "cispo"
    defaults: ClassVar[dict[str, Any]] = {
        **Agent.defaults, "surrogate": "cispo", "eps_low": 1.0, "eps_high": 4.0, "normalize_std": True,
    }  # fmt: skip
