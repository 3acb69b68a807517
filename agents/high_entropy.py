"""High-entropy ablation: amplify high-entropy response tokens (the "forking tokens" heuristic) instead of
Strategic Grams.

Two selections (``AgentConfig.entropy_tokens``):

- ``"matched"`` (default): as many tokens as the batch has planning tokens, the batch's highest-entropy ones; the
  ablation then changes only *which* tokens get HICRA's credit, not how many. Under torchrun "the batch" is the
  global batch: the ranks gather their entropies and select as one process would (:mod:`.entropy_masks`).
- ``"top_fraction"``: the top ``rho`` share of each response's tokens (the paper's fork-token analysis: 30%).

Planning tokens are often among the most uncertain (on the v1 task this ablation picked the deciding first token of
64 of 64 responses), so it can contain HICRA's own intervention; ``high_entropy_nonplanning`` is the same selection
among the other tokens.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Agent
from .entropy_masks import check_shapes, gather_ranks, top_entropy_mask
from .rollout import RolloutBatch

__all__ = ["HighEntropy", "top_entropy_mask", "top_fraction_entropy_mask"]


class HighEntropy(Agent):
    name = "high_entropy"
    reads_entropy = True

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        return self.entropy_mask(batch, batch.response_mask)

    def entropy_mask(self, batch: RolloutBatch, candidates: Tensor) -> Tensor:
        """The ``entropy_tokens`` selection among the Bool[N, T] ``candidates`` (response tokens); the matched count
        is the global batch's planning tokens whatever the candidates."""
        if batch.entropy is None:
            raise ValueError(f"{self.name} needs batch.entropy (the rollout's token entropy); score the batch first")
        if self.config.entropy_tokens == "matched":
            local = (batch.planning_mask & batch.response_mask).sum().reshape(1)
            count = int(torch.cat(gather_ranks(local)[0]).sum())  # the global batch's planning tokens
            return top_entropy_mask(batch.entropy, candidates, count)
        return top_fraction_entropy_mask(batch.entropy, candidates, self.config.rho)


def top_fraction_entropy_mask(entropy: Tensor, response_mask: Tensor, rho: float) -> Tensor:
    """In each response, its ``ceil(rho * L)`` highest-entropy tokens (L = that response's length).

    Args:
        entropy: Float[N, T]; response_mask: Bool[N, T]; rho: share in (0, 1].

    Returns:
        Bool[N, T], True only on response tokens (ties broken by a stable sort: the earlier token wins).
    """
    check_shapes(entropy, response_mask)
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho <= 1:
        raise ValueError(f"rho: expected a share in (0, 1], got {rho!r}")
    mask = response_mask.bool()
    lengths = mask.sum(dim=1)
    keep = torch.tensor([math.ceil(round(rho * int(n), 9)) for n in lengths.tolist()], device=mask.device)
    scores = torch.where(mask, entropy.detach().float(), float("-inf"))
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    ranks = torch.empty_like(order).scatter_(1, order, torch.arange(mask.shape[1], device=mask.device).expand_as(order))
    return (ranks < keep[:, None]) & mask
