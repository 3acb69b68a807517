"""The high-entropy ablation: its masks, and the matched (default) and per-sequence selections."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.high_entropy import top_entropy_mask, top_fraction_entropy_mask

ENTROPY = torch.tensor([[0.1, 0.9, 0.5, 5.0], [0.7, 0.2, 9.0, 9.0]])  # 5.0 and 9.0 sit on padding
RESPONSE = torch.tensor([[True, True, True, False], [True, True, False, False]])


def test_top_entropy_mask_takes_the_batchs_highest_response_tokens():
    assert top_entropy_mask(ENTROPY, RESPONSE, 2).tolist() == [[False, True, False, False], [True, False, False, False]]
    assert top_entropy_mask(ENTROPY, RESPONSE, 3).tolist() == [[False, True, True, False], [True, False, False, False]]
    assert torch.equal(top_entropy_mask(ENTROPY, RESPONSE, 99), RESPONSE)
    assert not top_entropy_mask(ENTROPY, RESPONSE, 0).any()
    for count in (-1, 1.5, True):
        with pytest.raises(ValueError, match="count"):
            top_entropy_mask(ENTROPY, RESPONSE, count)


def test_top_fraction_is_per_sequence():
    # row 0 has 3 tokens, row 1 has 2: rho 0.3 -> ceil(0.9) = 1 and ceil(0.6) = 1 token per row
    assert top_fraction_entropy_mask(ENTROPY, RESPONSE, 0.3).tolist() == [
        [False, True, False, False],
        [True, False, False, False],
    ]
    # rho 0.5 -> ceil(1.5) = 2 and ceil(1.0) = 1
    assert top_fraction_entropy_mask(ENTROPY, RESPONSE, 0.5).tolist() == [
        [False, True, True, False],
        [True, False, False, False],
    ]
    assert torch.equal(top_fraction_entropy_mask(ENTROPY, RESPONSE, 1.0), RESPONSE)
    for rho in (0.0, 1.5, True):
        with pytest.raises(ValueError, match="rho"):
            top_fraction_entropy_mask(ENTROPY, RESPONSE, rho)
