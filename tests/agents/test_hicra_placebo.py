"""The placebo ablation's mask: random spans, the planning-token count, never across a row end."""

from __future__ import annotations

import numpy as np
import torch

from hicra.agents.hicra_placebo import _segment_stops, placebo_mask

RESPONSE = torch.tensor([[True] * 6 + [False] * 2, [True] * 8, [True] * 3 + [False] * 5])
PLANNING = torch.tensor(
    [[1, 1, 0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.bool
)


def test_placebo_mask_matches_the_planning_count_and_is_seeded():
    a = placebo_mask(PLANNING, RESPONSE, generator=torch.Generator().manual_seed(0))
    b = placebo_mask(PLANNING, RESPONSE, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert int(a.sum()) == 7 and not (a & ~RESPONSE).any()
    others = [placebo_mask(PLANNING, RESPONSE, generator=torch.Generator().manual_seed(s)) for s in range(1, 6)]
    assert any(not torch.equal(a, o) for o in others)
    assert not placebo_mask(torch.zeros_like(PLANNING), RESPONSE, generator=torch.Generator()).any()
    full = placebo_mask(RESPONSE, RESPONSE, generator=torch.Generator().manual_seed(1))
    assert torch.equal(full, RESPONSE)


def test_segments_end_at_gaps_and_at_every_row_end():
    """Row 0 fills all 4 columns, so its last token and row 1's first are adjacent in the flat layout: a span
    must still stop at the row end. Flat slots of response tokens -> index of the first slot after the span's
    segment."""
    response = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    slots = np.flatnonzero(response.numpy().ravel())  # 0 1 2 3 | 4 5 | 8 9 10 11
    assert _segment_stops(slots, 4).tolist() == [4, 4, 4, 4, 6, 6, 10, 10, 10, 10]
