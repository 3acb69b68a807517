"""GSPO: Group Sequence Policy Optimization.

Zheng et al. 2025, "Group Sequence Policy Optimization" (arXiv 2507.18071). The importance ratio is the response's
sequence likelihood ratio, length-normalised: ``s_i = exp(mean_t (log pi(y_t) - log pi_old(y_t)))``, the geometric
mean of its token ratios, and it is clipped as one (``ratio_level = "sequence"``), so a response is kept or dropped
whole; the objective averages over responses (``aggregation = "seq_mean_token_mean"``).

Defaults (the paper): clip range ``eps_low = 3e-4``, ``eps_high = 4e-4`` (sequence ratios stay much closer to 1
than token ratios), group-normalised advantages (``normalize_std = True``), no KL. TRL:
``importance_sampling_level="sequence"`` with ``loss_type="grpo"``, ``epsilon=3e-4``, ``epsilon_high=4e-4``; verl:
``policy_loss.loss_mode=gspo``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class GSPO(Agent):
    name = "gspo"
    defaults: ClassVar[dict[str, Any]] = {
        **Agent.defaults, "ratio_level": "sequence", "eps_low": 3e-4, "eps_high": 4e-4,
        "aggregation": "seq_mean_token_mean", "normalize_std": True,
    }  # fmt: skip
