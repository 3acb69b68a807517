"""Token selections by entropy over the whole batch, the same in one process and under torchrun.

A batch-level selection (the ``high_entropy`` ablation's matched count, the forking tokens' top quantile) must not
depend on how the batch is split over ranks. Each function takes a ``gather`` that returns every rank's masked
entropies (row-major, in rank order) and this rank's index: :func:`gather_ranks` (the default) does that over
``torch.distributed`` and returns ``([values], 0)`` in a single process, so a world of W ranks selects exactly the
tokens that one process would select on the concatenated batch.

>>> import torch
>>> ent = torch.tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.0]])
>>> top_quantile_mask(ent, torch.tensor([[True, True, True], [True, True, False]]), 0.4).int()
tensor([[0, 1, 0],
        [1, 0, 0]], dtype=torch.int32)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Gather = Callable[[Tensor], tuple[list[Tensor], int]]


def gather_ranks(values: Tensor) -> tuple[list[Tensor], int]:
    """Every rank's 1-D ``values`` (on CPU, in rank order) and this rank's index; ``([values], 0)`` without a
    process group. A collective: every rank calls it."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [values], 0
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, values.detach().cpu())
    return parts, dist.get_rank()


def check_shapes(entropy: Tensor, response_mask: Tensor) -> None:
    if entropy.shape != response_mask.shape or entropy.dim() != 2:
        raise ValueError(
            f"expected entropy and response_mask of one [N, T] shape, got {list(entropy.shape)} "
            f"and {list(response_mask.shape)}"
        )


def top_entropy_mask(entropy: Tensor, response_mask: Tensor, count: int, *, gather: Gather = gather_ranks) -> Tensor:
    """The ``count`` highest-entropy response tokens of the whole (global) batch (ties broken by ``torch.topk`` on
    the concatenated response tokens, row-major).

    Args:
        entropy: Float[N, T] token entropies; response_mask: Bool[N, T]; count: >= 0, over all ranks (capped at
            the number of response tokens).

    Returns:
        Bool[N, T] (this rank's rows), True only on response tokens.
    """
    check_shapes(entropy, response_mask)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count: expected an int >= 0, got {count!r}")
    mask = response_mask.bool()
    local = entropy.detach().float()[mask]
    parts, rank = gather(local)
    everything = torch.cat([p.to(local.device) for p in parts])
    chosen = torch.zeros(everything.numel(), dtype=torch.bool, device=local.device)
    k = min(count, everything.numel())
    if k:
        chosen[torch.topk(everything, k).indices] = True
    offset = sum(p.numel() for p in parts[:rank])
    out = torch.zeros_like(mask)
    out[mask] = chosen[offset : offset + local.numel()]
    return out


def top_quantile_mask(
    entropy: Tensor, response_mask: Tensor, quantile: float, *, gather: Gather = gather_ranks
) -> Tensor:
    """The response tokens whose entropy is at least the global batch's ``1 - quantile`` quantile (linear
    interpolation, ``torch.quantile``): about the top ``quantile`` share. TRL's ``top_entropy_quantile`` rule.

    Args:
        entropy: Float[N, T]; response_mask: Bool[N, T]; quantile: share in (0, 1] (1: every response token).

    Returns:
        Bool[N, T], True only on response tokens.
    """
    check_shapes(entropy, response_mask)
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 < quantile <= 1:
        raise ValueError(f"quantile: expected a share in (0, 1], got {quantile!r}")
    mask = response_mask.bool()
    parts, _ = gather(entropy.detach().float()[mask])
    everything = torch.cat([p.to(entropy.device) for p in parts])
    if everything.numel() == 0:
        return torch.zeros_like(mask)
    threshold = torch.quantile(everything, 1.0 - quantile)
    return (entropy.detach().float() >= threshold) & mask
