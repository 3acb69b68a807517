"""The all-tokens control: A + alpha |A| on every response token (HICRA's asymmetry, no token selection)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def _batch():
    # rewards [1, 0, 0 | 1, 1]: A = [2/3, -1/3, -1/3 | 0, 0]; lengths 3, 2, 1, 3, 2; one planning token
    planning = torch.zeros(5, 3, dtype=torch.bool)
    planning[0, 1] = True
    return batch_of([3, 2, 1, 3, 2], [1.0, 0.0, 0.0, 1.0, 1.0], [0, 0, 0, 1, 1], planning=planning)


def test_every_response_token_gets_a_plus_alpha_abs_a():
    batch = _batch()
    credit = make_agent("all_tokens").credit(batch, torch.Generator())
    assert torch.equal(credit.amplified, batch.response_mask)
    a = torch.tensor([2 / 3, -1 / 3, -1 / 3, 0.0, 0.0])
    expected = (a + 0.2 * a.abs())[:, None].expand(5, 3)  # (1.2) 2/3 = .8 and (0.8)(-1/3) = -.2667: not A * 1.2
    mask = batch.response_mask
    torch.testing.assert_close(credit.advantages[mask], expected[mask])
    assert credit.advantages[0, 0].item() == pytest.approx(0.8) and credit.advantages[1, 0].item() == pytest.approx(
        -0.8 / 3
    )
    half = make_agent("all_tokens", alpha=0.5).credit(batch, torch.Generator()).advantages
    torch.testing.assert_close(half[mask], (a + 0.5 * a.abs())[:, None].expand(5, 3)[mask])


def test_it_is_grpo_with_positive_advantages_scaled_up_and_negative_ones_down():
    batch = _batch()
    grpo = make_agent("grpo").credit(batch, torch.Generator()).advantages
    ours = make_agent("all_tokens").credit(batch, torch.Generator()).advantages
    mask = batch.response_mask
    torch.testing.assert_close(ours[mask], torch.where(grpo > 0, 1.2 * grpo, 0.8 * grpo)[mask])
    hicra = make_agent("hicra").credit(batch, torch.Generator()).advantages
    assert hicra[0, 1] == ours[0, 1] and hicra[0, 0] != ours[0, 0]  # HICRA amplifies its planning token alone
