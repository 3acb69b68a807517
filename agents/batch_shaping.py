"""What the shared loop does to a sampled batch before credit: DAPO's overlong reward shaping and dynamic sampling's
choice of groups. Pure functions (Yu et al. 2025, arXiv 2503.14476, sections 3.2 and 3.4).

>>> import torch
>>> overlong_penalty(torch.tensor([10, 16, 18, 20]), max_length=20, buffer=4, penalty=1.0)
tensor([ 0.0000,  0.0000, -0.5000, -1.0000])
>>> informative_rows(torch.tensor([1.0, 0.0, 1.0, 1.0]), torch.tensor([0, 0, 1, 1]))
tensor([ True,  True, False, False])
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["buffer_tokens", "informative_rows", "overlong_penalty", "pick_groups"]


def buffer_tokens(share: float, max_length: int) -> int:
    """The overlong buffer ``L_cache`` in tokens: ``round(share * max_length)``, at least 1 when ``share > 0``."""
    return 0 if share <= 0 else max(1, round(share * max_length))


def overlong_penalty(lengths: Tensor, *, max_length: int, buffer: int, penalty: float = 1.0) -> Tensor:
    """DAPO's soft overlong punishment, added to each response's reward.

    ``0`` for ``L <= L_max - L_cache``; ``penalty * ((L_max - L_cache) - L) / L_cache`` inside the buffer (from 0
    down to ``-penalty`` at ``L_max``); ``-penalty`` beyond ``L_max``.

    Args:
        lengths: Int[N] response lengths in tokens; max_length: ``L_max`` (the generation budget); buffer:
            ``L_cache`` in tokens, 0 (no shaping) to ``max_length``; penalty: the penalty at ``L_max``, >= 0.

    Returns:
        Float[N], <= 0.
    """
    if isinstance(buffer, bool) or not isinstance(buffer, int) or not 0 <= buffer <= max_length:
        raise ValueError(f"buffer: expected an int in [0, max_length={max_length}], got {buffer!r}")
    if buffer == 0:
        return torch.zeros(lengths.shape, dtype=torch.float32, device=lengths.device)
    over = (lengths.float() - (max_length - buffer)).clamp(min=0.0, max=float(buffer))
    return over * (-penalty / buffer) + 0.0  # + 0.0: no negative zeros


def informative_rows(rewards: Tensor, group_ids: Tensor) -> Tensor:
    """Bool[N]: the rows of groups whose rewards are not all equal (groups with a non-zero advantage somewhere).

    Args:
        rewards: Float[N]; group_ids: Int[N].
    """
    _, inverse = torch.unique(group_ids, return_inverse=True)
    n = int(inverse.max()) + 1 if inverse.numel() else 0
    fill = torch.full((n,), float("inf"), dtype=torch.float64)
    low = fill.scatter_reduce(0, inverse, rewards.double(), reduce="amin")
    high = (-fill).scatter_reduce(0, inverse, rewards.double(), reduce="amax")
    return (high > low)[inverse]


def pick_groups(rewards: Tensor, group_ids: Tensor, count: int) -> tuple[Tensor, int]:
    """Dynamic sampling's batch: the first ``count`` groups (in order of first appearance) whose rewards differ, then,
    if there are fewer, the first groups whose rewards are all equal, to fill the batch to ``count`` groups.

    Args:
        rewards: Float[N]; group_ids: Int[N] (the rows of all the rounds sampled, in draw order); count: >= 1.

    Returns:
        ``(rows, informative)``: Long[M] the picked rows in their original order, and how many picked groups are
        informative.
    """
    keep = informative_rows(rewards, group_ids)
    order, seen = [], set()
    for gid in group_ids.tolist():
        if gid not in seen:
            seen.add(gid)
            order.append(gid)
    first_row = {gid: int(torch.nonzero(group_ids == gid)[0]) for gid in order}
    useful = [g for g in order if keep[first_row[g]]]
    chosen = (useful + [g for g in order if not keep[first_row[g]]])[:count]
    rows = torch.nonzero(torch.isin(group_ids, torch.tensor(chosen, dtype=group_ids.dtype))).flatten()
    return rows, min(len(useful), count)
