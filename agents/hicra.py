"""HICRA: amplify the credit of planning tokens (tokens overlapping a Strategic Gram).

``A'_t = A + alpha * |A|`` on planning tokens, so they get ``(1 + alpha) A`` in successful responses and
``(1 - alpha) A`` in failed ones (Wang et al., ICLR 2026).
"""

from __future__ import annotations

import torch

from .base import Agent
from .rollout import RolloutBatch


class HICRA(Agent):
    name = "hicra"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor:
        return batch.planning_mask
