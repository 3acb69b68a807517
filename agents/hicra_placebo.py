"""Placebo ablation of HICRA: amplify random contiguous spans with the same planning-token count.

If HICRA's gain came from amplifying *some* tokens rather than *planning* tokens, this would match it.

This is the v1 study's placebo and stays as it was, so that study reproduces: its spans may land on planning tokens
(10-39 of ~265 placebo tokens did, on the v1 task's first batches), it is matched in count but not in entropy, and
its spans start anywhere in a response, so it is not matched on position. The controls that exclude planning tokens
are ``placebo_matched`` (count and entropy), ``first_tokens`` (position) and ``high_entropy_nonplanning``.
Under torchrun the spans are drawn on each rank's own batch, with that rank's planning-token count.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .base import Agent
from .rollout import RolloutBatch


class HICRAPlacebo(Agent):
    name = "hicra_placebo"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        return placebo_mask(batch.planning_mask, batch.response_mask, generator=generator)


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True along the last axis of a Bool[N, T] array."""
    padded = np.pad(mask.astype(np.int8), ((0, 0), (1, 1)))
    diff = np.diff(padded, axis=1)
    return np.flatnonzero(diff.ravel() == -1) - np.flatnonzero(diff.ravel() == 1)


def _segment_stops(slots: np.ndarray, width: int) -> np.ndarray:
    """For each slot (a flat position in an [N, width] array), the index of the first slot after its segment:
    a segment is a run of adjacent positions within one row (a span never crosses a gap or a row end)."""
    rows = slots // width
    breaks = np.flatnonzero((np.diff(slots) != 1) | (np.diff(rows) != 0)) + 1
    seg_ends = np.append(breaks, len(slots))
    return np.repeat(seg_ends, np.diff(np.concatenate([[0], seg_ends])))


def placebo_mask(planning_mask: Tensor, response_mask: Tensor, *, generator: torch.Generator) -> Tensor:
    """The paper's placebo ablation: random contiguous n-gram spans with the same planning-token count.

    Span lengths are drawn from the run lengths of ``planning_mask``; spans start at uniformly random
    response tokens and stop at the end of their response (never running into the next row). Spans are added
    until the batch holds exactly as many placebo tokens as ``planning_mask`` has on response tokens (the last
    span is cut to fit).

    Args:
        planning_mask: Bool[N, T] real planning tokens; response_mask: Bool[N, T].
        generator: a CPU ``torch.Generator``; the result is a deterministic function of its state.

    Returns:
        Bool[N, T] on ``planning_mask.device``, True only on response tokens.
    """
    if planning_mask.shape != response_mask.shape or planning_mask.dim() != 2:
        raise ValueError(
            f"expected planning_mask and response_mask of one [N, T] shape, got "
            f"{list(planning_mask.shape)} and {list(response_mask.shape)}"
        )
    resp = response_mask.bool().cpu().numpy()
    real = planning_mask.bool().cpu().numpy() & resp
    target, lengths = int(real.sum()), _run_lengths(real)
    slots = np.flatnonzero(resp.ravel())  # flat positions of response tokens
    slot_stop = _segment_stops(slots, resp.shape[1])
    chosen = np.zeros(len(slots), dtype=bool)
    filled = 0
    while filled < target:
        draws = torch.rand(512, generator=generator, dtype=torch.float64).tolist()
        for u_start, u_len in zip(draws[::2], draws[1::2]):
            start = int(u_start * len(slots))
            stop = min(start + int(lengths[int(u_len * len(lengths))]), int(slot_stop[start]))
            free = np.flatnonzero(~chosen[start:stop])[: target - filled] + start
            chosen[free] = True
            filled += len(free)
            if filled == target:
                break
    out = np.zeros(resp.size, dtype=bool)
    out[slots[chosen]] = True
    return torch.from_numpy(out.reshape(resp.shape)).to(planning_mask.device)
