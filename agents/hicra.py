"""HICRA: amplify the credit of planning tokens (tokens overlapping a Strategic Gram).

``A'_t = A + alpha * |A|`` on planning tokens, so they get ``(1 + alpha) A`` in successful responses and
``(1 - alpha) A`` in failed ones (Wang et al., ICLR 2026).

On another agent's base (``AgentConfig.base``, e.g. ``--agent hicra --set agent.base=dapo``): that agent's defaults
and advantages (DAPO's clip-higher, dynamic sampling and overlong shaping; RLOO's baseline; ...) with HICRA's
planning-token credit on top. The paper's own runs used GRPO with clip-higher, and DAPO's dynamic sampling for Llama.
"""

from __future__ import annotations

import torch

from .base import Agent
from .rollout import RolloutBatch


class HICRA(Agent):
    name = "hicra"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor:
        return batch.planning_mask
