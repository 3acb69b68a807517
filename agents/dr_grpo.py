"""Dr. GRPO: GRPO without its two length and difficulty biases.

Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical Perspective" (arXiv 2503.20783). GRPO divides
each response's summed token losses by its own length (long wrong answers are penalised less per token) and the
group-centred rewards by the group std (too easy or too hard questions weigh more). Dr. GRPO drops both: advantages
are only centred, and the token losses of the batch are summed and divided by a constant, responses x the
generation budget (``max_new_tokens``; the paper's ``MAX_TOKENS``).

Defaults (the paper's Oat-Zero runs): ``normalize_std=False``, ``aggregation="seq_mean_token_sum_norm"``, PPO clip
``eps_low = eps_high = 0.2``, no KL (``kl_coef=0``). TRL: ``loss_type="dr_grpo"`` with ``scale_rewards="none"``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class DrGRPO(Agent):
    name = "dr_grpo"
    defaults: ClassVar[dict[str, Any]] = {
        **Agent.defaults, "normalize_std": False, "aggregation": "seq_mean_token_sum_norm", "eps_high": 0.2,
    }  # fmt: skip
