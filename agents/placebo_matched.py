"""Matched placebo: amplify as many tokens as HICRA, none of them planning tokens, of matching entropy.

Rules out the confounds of the v1 placebo (``hicra_placebo``): that placebo's random spans land on planning tokens
(10-39 of ~265 did) and are mostly low-entropy tokens, while planning tokens are uncertain ones; so "HICRA beats the
placebo" could mean "amplifying uncertain tokens helps". Here every amplified token is a non-planning token and the
amplified set has the planning tokens' count and (as near as the batch allows) their entropy distribution: a gain
of HICRA over this control is a gain of *planning* tokens over tokens just as uncertain. This is the primary
contrast of the v2 study.

Selection (:func:`entropy_matched_mask`): the planning tokens, highest entropy first, each take the not-yet-chosen
non-planning response token of nearest entropy. Ties (equal entropies, or equally near from below and above) are
broken by tie keys drawn from the credit generator, one per token. Under torchrun the selection is over the global
batch, as ``high_entropy``'s: the ranks gather their entropies, planning flags and tie keys, and every rank selects
what one process would select on the concatenated batch with those keys (each rank draws its keys with its own
generator, so only tie-breaks can differ from a single-process run). A batch with fewer non-planning tokens than
planning tokens amplifies all its non-planning tokens.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np
import torch
from torch import Tensor

from .base import Agent
from .entropy_masks import Gather, gather_ranks
from .rollout import RolloutBatch


class PlaceboMatched(Agent):
    name = "placebo_matched"
    reads_entropy = True

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        if batch.entropy is None:
            raise ValueError(f"{self.name} needs batch.entropy (the rollout's token entropy); score the batch first")
        keys = torch.rand(batch.response_mask.shape, generator=generator, dtype=torch.float64)
        return entropy_matched_mask(batch.entropy, batch.planning_mask, batch.response_mask, keys)


def entropy_matched_mask(
    entropy: Tensor, planning_mask: Tensor, response_mask: Tensor, keys: Tensor, *, gather: Gather = gather_ranks
) -> Tensor:
    """Non-planning response tokens matched one to one to the (global) batch's planning tokens by entropy.

    Args:
        entropy: Float[N, T] token entropies; planning_mask, response_mask: Bool[N, T].
        keys: Float[N, T] tie keys (uniform draws): among equally near tokens the smaller key wins, and planning
            tokens of equal entropy are served in the order of their keys.
        gather: every rank's values and this rank's index (:func:`~hicra.agents.entropy_masks.gather_ranks`).

    Returns:
        Bool[N, T] (this rank's rows), True only on non-planning response tokens; as many as the global batch's
        planning response tokens (all its non-planning response tokens if it has fewer).
    """
    shapes = {tuple(t.shape) for t in (entropy, planning_mask, response_mask, keys)}
    if len(shapes) != 1 or entropy.dim() != 2:
        raise ValueError(
            "expected entropy, planning_mask, response_mask and keys of one [N, T] shape, got "
            + ", ".join(str(list(t.shape)) for t in (entropy, planning_mask, response_mask, keys))
        )
    mask = response_mask.bool().cpu()
    planning = planning_mask.bool().cpu() & mask
    columns = (entropy.detach().cpu().double()[mask], planning[mask].double(), keys.cpu().double()[mask])
    parts, rank = gather(torch.stack(columns, dim=1).flatten())
    table = torch.cat([p.reshape(-1, 3) for p in parts]).numpy()
    chosen = match_entropies(table[:, 0], table[:, 1] > 0, table[:, 2])
    offset = sum(p.numel() for p in parts[:rank]) // 3
    out = torch.zeros_like(mask)
    out[mask] = torch.from_numpy(chosen[offset : offset + int(mask.sum())])
    return out.to(response_mask.device)


def match_entropies(entropy: np.ndarray, planning: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Greedy nearest-entropy matching without replacement.

    Args:
        entropy, keys: Float[n]; planning: Bool[n] (the tokens to match; the others are the candidates).

    Returns:
        Bool[n]: the chosen candidates, ``min(planning.sum(), (~planning).sum())`` of them.

    >>> match_entropies(np.array([0.5, 0.1, 0.45, 0.52, 0.0, 0.09]), np.array([1, 1, 0, 0, 0, 0]) > 0,
    ...                 np.zeros(6)).astype(int).tolist()
    [0, 0, 0, 1, 0, 1]
    """
    candidates = np.flatnonzero(~planning)
    order = candidates[np.lexsort((keys[candidates], entropy[candidates]))]  # by entropy, then key
    values, order_keys = entropy[order].tolist(), keys[order].tolist()
    size = len(order)
    right = list(range(size + 1))  # find(right, i): the first free sorted slot >= i (size: none)
    left = list(range(size + 1))  # find(left, i): 1 + the last free sorted slot < i (0: none)
    planners = np.flatnonzero(planning)
    planners = planners[np.lexsort((keys[planners], -entropy[planners]))]  # highest entropy first, then key
    chosen = np.zeros(len(entropy), dtype=bool)
    for token in planners[:size].tolist():
        target = float(entropy[token])
        at = bisect_left(values, target)
        above, below = _find(right, at), _find(left, at) - 1
        if below >= 0:  # of the free tokens of that entropy, the one of smallest key
            below = _find(right, bisect_left(values, values[below]))
        if below < 0 or (
            above < size and (values[above] - target, order_keys[above]) < (target - values[below], order_keys[below])
        ):
            pick = above
        else:
            pick = below
        chosen[order[pick]] = True
        right[pick], left[pick + 1] = pick + 1, pick
    return chosen


def _find(parent: list[int], i: int) -> int:
    """The root of ``i`` in a union-find forest (pointers to the next free slot), compressing the path."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root
