"""High-entropy control that never amplifies a planning token: ``high_entropy`` restricted to the other tokens.

Rules out the confound that the ``high_entropy`` ablation contains the treatment. Planning tokens are often among a
batch's most uncertain tokens (on the v1 task ``high_entropy`` picked the deciding first token in 64 of 64
responses), so a tie between ``high_entropy`` and HICRA cannot tell "amplify planning tokens" from "amplify
uncertain tokens". This control amplifies only uncertain tokens that are not planning tokens: if HICRA's gain is
the gain of uncertain tokens as such, it matches HICRA; if the gain is in the planning tokens, it does not.

``entropy_tokens="matched"`` (default): as many tokens as the global batch has planning tokens, the global batch's
highest-entropy non-planning response tokens (under torchrun the ranks gather their entropies, as ``high_entropy``
does). ``"top_fraction"``: the top ``rho`` share of each response's non-planning tokens (``ceil(rho * L)``, L that
response's non-planning tokens). Unlike ``placebo_matched`` it does not match the planning tokens' entropy: it takes
the most uncertain tokens there are.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .high_entropy import HighEntropy
from .rollout import RolloutBatch


class HighEntropyNonPlanning(HighEntropy):
    name = "high_entropy_nonplanning"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        return self.entropy_mask(batch, batch.response_mask & ~batch.planning_mask)
