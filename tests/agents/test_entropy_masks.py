"""Batch-level entropy selections: hand-computed cases, TRL's quantile rule, and the same tokens whether a batch is
in one process or split over ranks (the ranks' gathers simulated)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.entropy_masks import top_entropy_mask, top_quantile_mask

ENTROPY = torch.tensor([[0.1, 0.9, 0.5, 5.0], [0.7, 0.2, 9.0, 9.0], [0.3, 0.8, 0.6, 0.4]])
RESPONSE = torch.tensor([[True, True, True, False], [True, True, False, False], [True, True, True, True]])


def test_top_quantile_keeps_tokens_at_or_above_the_batchs_quantile():
    # 9 response entropies sorted: .1 .2 .3 .4 .5 .6 .7 .8 .9; q = 0.2 -> the 0.8 quantile is 0.74 (linear)
    assert top_quantile_mask(ENTROPY, RESPONSE, 0.2).tolist() == [
        [False, True, False, False], [False, False, False, False], [False, True, False, False],
    ]  # fmt: skip
    assert torch.equal(top_quantile_mask(ENTROPY, RESPONSE, 1.0), RESPONSE)
    for q in (0.0, 1.5, True):
        with pytest.raises(ValueError, match="quantile"):
            top_quantile_mask(ENTROPY, RESPONSE, q)


def two_ranks(rows_of_rank0: int):
    """The gathers of rank 0 and rank 1 when rank 0 holds the first ``rows_of_rank0`` rows."""
    values = [ENTROPY[:rows_of_rank0][RESPONSE[:rows_of_rank0]], ENTROPY[rows_of_rank0:][RESPONSE[rows_of_rank0:]]]
    return [lambda x, r=r: (values, r) for r in range(2)]


@pytest.mark.parametrize("split", [1, 2])
def test_split_over_ranks_each_rank_selects_what_one_process_selects(split):
    gathers = two_ranks(split)
    for select in (
        lambda e, m, g: top_quantile_mask(e, m, 0.3, gather=g),
        lambda e, m, g: top_entropy_mask(e, m, 4, gather=g),
    ):
        whole = select(ENTROPY, RESPONSE, lambda x: ([x], 0))
        parts = [
            select(ENTROPY[:split], RESPONSE[:split], gathers[0]),
            select(ENTROPY[split:], RESPONSE[split:], gathers[1]),
        ]
        assert torch.equal(torch.cat(parts), whole)
    # per rank (the old behaviour) the matched count would be taken on each rank: another selection
    alone = lambda x: ([x], 0)  # noqa: E731
    per_rank = torch.cat([top_entropy_mask(ENTROPY[:split], RESPONSE[:split], 4, gather=alone),
                          top_entropy_mask(ENTROPY[split:], RESPONSE[split:], 4, gather=alone)])  # fmt: skip
    assert not torch.equal(per_rank, top_entropy_mask(ENTROPY, RESPONSE, 4))
