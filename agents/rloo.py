"""RLOO: REINFORCE Leave-One-Out.

Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback in
LLMs" (arXiv 2402.14740), after Kool et al. 2019, "Buy 4 REINFORCE Samples, Get a Baseline for Free!". The baseline
of a response is the mean reward of the *other* responses of its group:
``A_i = R_i - mean_{j != i} R_j = G / (G - 1) (R_i - mean_j R_j)``
(:func:`~hicra.agents.advantages.leave_one_out_advantages`),
an unbiased estimate that does not depend on the response it scores. No std normalisation (``normalize_std`` is not
read). The loss is the shared one, as in verl's ``adv_estimator=rloo`` (PPO clip, token mean); with one PPO epoch
the ratio is 1 and it is REINFORCE with this baseline, the paper's estimator up to its per-sequence token sum.
"""

from __future__ import annotations

import torch

from .advantages import leave_one_out_advantages
from .base import Agent
from .rollout import RolloutBatch


class RLOO(Agent):
    name = "rloo"

    def advantages(self, batch: RolloutBatch) -> torch.Tensor:
        return leave_one_out_advantages(batch.rewards, batch.group_ids)
