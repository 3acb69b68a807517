"""Placebo ablation of HICRA: amplify random n-gram spans with the same planning-token ratio.

If HICRA's gain came from amplifying *some* tokens rather than *planning* tokens, this would match it.
"""

from __future__ import annotations

import torch

from .base import Agent
from .planning import placebo_mask
from .rollout import RolloutBatch


class HICRAPlacebo(Agent):
    name = "hicra_placebo"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor:
        return placebo_mask(batch.planning_mask, batch.response_mask, generator=generator)
