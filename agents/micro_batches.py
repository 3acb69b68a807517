"""One PPO epoch's gradients: forward and backward over micro-batches, weighted to the global batch's loss."""

from __future__ import annotations

import torch

from .base import Agent, Credit
from .rollout import RolloutBatch, TokenScores


def accumulate_gradients(
    policy, agent: Agent, layout, dist, batch: RolloutBatch, credit: Credit, order: torch.Tensor, *,
    micro_batch_size: int, temperature: float, first: TokenScores | None, micro_batch_tokens: int | None = None,
) -> tuple[float, float, bool]:  # fmt: skip
    """Forward and backward over this rank's micro-batches (rows in ``order``); ``(loss, clip_frac, finite)`` of its
    share of the global batch.

    Each micro-batch's loss is weighted by its share of the global batch's response tokens (``token_mean``) or
    rows, times the world size W, since DDP and FSDP2 average gradients over the ranks: the summed gradients are
    those of the loss over the global batch. Every rank runs the same number of backward passes (they
    synchronise): after a non-finite loss, a zero one. ``first`` (Float[N, T] buffers) collects the log-probs and
    entropy of the sampled tokens, which on the first epoch are the sampling policy's.
    """
    if micro_batch_tokens is not None:
        raise NotImplementedError("micro_batch_tokens: token-budget micro-batches are not implemented yet")
    world = dist.world_size
    total_tokens, rows_total = batch.response_mask.sum().clamp(min=1), len(batch)
    if dist.active:
        tokens, rows = dist.sum([int(batch.response_mask.sum()), len(batch)])
        total_tokens, rows_total = torch.tensor(max(int(tokens), 1)), int(rows)
    chunks = order.split(micro_batch_size)
    loss_sum, clip_sum, finite = 0.0, 0.0, True
    for i, rows in enumerate(chunks):
        sub = batch.select(rows)
        with layout.sync_grads(i == len(chunks) - 1):
            lp, ent = policy.token_logprobs(
                sub.input_ids, sub.attention_mask, sub.prompt_length, temperature=temperature, with_entropy=True
            )
            if first is not None:
                first.logprobs[rows], first.entropy[rows] = lp.detach(), ent.detach()
            masked = {} if credit.loss_mask is None else {"token_mask": credit.loss_mask[rows]}  # older overrides
            loss, stats = agent.loss(sub, lp, credit.advantages[rows], ent, **masked)
            share = sub.response_mask.sum() / total_tokens
            weight = float(
                share if agent.config.aggregation == "token_mean" else len(rows) / rows_total
            )  # per-row means
            finite = finite and bool(torch.isfinite(loss))
            ((loss if finite else lp.sum() * 0.0) * (weight * world)).backward()
        if finite:
            loss_sum = loss_sum + weight * float(loss.detach())
            clip_sum = clip_sum + float(share) * stats["clip_frac"]  # a share of tokens, whatever the aggregation
    return loss_sum, clip_sum, finite
