"""Forking tokens: a gradient mask on the batch's top-20% entropy tokens (no amplification)."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import make_agent

from .hand_batches import batch_of


def test_the_gradient_reaches_only_the_top_entropy_tokens():
    entropy = torch.tensor([[0.1, 0.9, 0.85, 0.2, 0.3], [0.7, 0.4, 0.6, 0.5, 0.0]])  # top 2 of 10: .9, .85, one row
    batch = batch_of([5, 5], [1.0, 0.0], [0, 0], entropy=entropy, old=torch.zeros(2, 5))
    agent = make_agent("forking_tokens", tis_cap=0.0)
    assert agent.reads_entropy and agent.config.top_entropy_quantile == 0.2
    credit = agent.credit(batch, torch.Generator())
    # the batch's 0.8 quantile (linear) is .7 + .2 (.85 - .7) = .73: .9 and .85, both in row 0 (per row: .9 and .7)
    assert credit.loss_mask.tolist() == [[False, True, True, False, False], [False, False, False, False, False]]
    assert not credit.amplified.any() and credit.advantages[:, 0].tolist() == [0.5, -0.5]  # not amplification
    logprobs = torch.zeros(2, 5, requires_grad=True)
    loss, _ = agent.loss(batch, logprobs, credit.advantages, entropy, token_mask=credit.loss_mask)
    loss.backward()
    # token mean over all 10 tokens: -A / 10 on the two kept tokens, 0 elsewhere
    torch.testing.assert_close(logprobs.grad, torch.tensor([[0, -0.05, -0.05, 0, 0], [0.0, 0, 0, 0, 0]]))


def test_forking_tokens_need_the_rollouts_entropy():
    batch = batch_of([2], [1.0], [0])
    with pytest.raises(ValueError, match=r"needs batch\.entropy"):
        make_agent("forking_tokens").credit(batch, torch.Generator())
