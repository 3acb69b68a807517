"""High-entropy ablation: amplify the top-``rho`` fraction of highest-entropy response tokens
(the "forking tokens" heuristic) instead of Strategic Grams."""

from __future__ import annotations

import torch

from .base import Agent
from .planning import top_entropy_mask
from .rollout import RolloutBatch


class HighEntropy(Agent):
    name = "high_entropy"
    uses_rollout_entropy = True

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor:
        return top_entropy_mask(batch.entropy, batch.response_mask, rho=self.config.rho)
