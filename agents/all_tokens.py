"""All-tokens control: HICRA's amplification on every response token, ``A' = A + alpha * |A|`` everywhere.

Rules out the confound of a plain bias toward positive advantages. HICRA's credit is asymmetric: amplified tokens get
``(1 + alpha) A`` in responses better than their group and ``(1 - alpha) A`` in worse ones, which pushes the
policy's update toward reinforcing successes more than punishing failures. Applied to every token, the same
asymmetry selects nothing: if HICRA's gain came from that bias alone (on however many tokens), this control would
match or beat it; if it comes from *which* tokens are amplified, it does not. Equivalent to GRPO with positive
advantages scaled by ``1 + alpha`` and negative ones by ``1 - alpha``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import Agent
from .rollout import RolloutBatch


class AllTokens(Agent):
    name = "all_tokens"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        return batch.response_mask
