"""One PPO epoch's gradients: forward and backward over micro-batches, weighted to the global batch's loss.

Micro-batches are ``micro_batch_size`` rows of the shuffled order, or, with a token budget (``micro_batch_tokens``,
as verl's dynamic batch size), as few micro-batches as fit it: :func:`pack_by_tokens` counts a micro-batch's padded
size, rows x (its longest prompt + its longest response), groups rows of similar lengths, and each micro-batch is
scored without the padding columns that all of its rows share (:func:`trim_padding`), so short responses pack into
few, narrow passes.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import Agent, Credit
from .rollout import RolloutBatch, TokenScores


def row_lengths(attention_mask: Tensor, prompt_length: int) -> tuple[Tensor, Tensor]:
    """Long[N, P+T] mask -> (prompt span Long[N], response span Long[N]).

    The prompt span runs from a row's first real prompt token to column P (prompts are left-padded), the response
    span from column P to its last real response token (responses are right-padded); 0 for a row with none.
    """
    prompt, response = attention_mask[:, :prompt_length].bool(), attention_mask[:, prompt_length:].bool()
    first = prompt.int().argmax(1)  # first real prompt column
    last = response.shape[1] - response.flip(1).int().argmax(1)  # one past the last real response column
    zero = torch.zeros_like(first)
    return torch.where(prompt.any(1), prompt_length - first, zero), torch.where(response.any(1), last, zero)


def pack_by_tokens(order: Tensor, prompt_spans: Tensor, response_spans: Tensor, budget: int) -> list[Tensor]:
    """The rows of ``order`` in the fewest micro-batches of at most ``budget`` padded tokens each, with the fewest
    padded tokens among those.

    Args:
        order: Long[n], the rows to pack (a shuffled permutation of the batch's rows).
        prompt_spans, response_spans: Long[N] per batch row (:func:`row_lengths`); a response counts as >= 1 token,
            the width a trimmed pass keeps.
        budget: tokens per micro-batch, counted as rows x (longest prompt span + longest response span).

    Returns:
        Long tensors of row indices, longest rows first. Rows are ranked longest first (prompt + response span; ties
        keep ``order``) and cut into runs of consecutive ranked rows: a dynamic programme over the cut points picks
        the fewest runs within the budget, then the fewest padded tokens. A row alone over the budget is a run of
        its own. The gradient does not depend on how rows are grouped, only on the loss weights.
    """
    if budget < 1:
        raise ValueError(f"budget: expected >= 1 tokens, got {budget}")
    p, r = prompt_spans[order], response_spans[order].clamp(min=1)
    ranked = torch.sort(-(p + r), stable=True).indices
    rows, p, r = order[ranked].tolist(), p[ranked].tolist(), r[ranked].tolist()
    n = len(rows)
    best: list[tuple[int, int, int]] = [(0, 0, n)] * (n + 1)  # from row i on: (passes, padded tokens, next cut)
    for i in range(n - 1, -1, -1):
        widest_p = widest_r = 0
        options = []
        for j in range(i + 1, n + 1):
            widest_p, widest_r = max(widest_p, p[j - 1]), max(widest_r, r[j - 1])
            cost = (j - i) * (widest_p + widest_r)
            if j > i + 1 and cost > budget:
                break  # longer runs only cost more
            options.append((best[j][0] + 1, best[j][1] + cost, j))
        best[i] = min(options)
    chunks, i = [], 0
    while i < n:
        chunks.append(torch.tensor(rows[i : best[i][2]], dtype=torch.long))
        i = best[i][2]
    return chunks


def trim_padding(input_ids: Tensor, attention_mask: Tensor, prompt_length: int) -> tuple[Tensor, Tensor, int]:
    """Long[n, P+T] ids and mask -> the same without the columns that are padding in every row: left of the
    longest prompt, right of the longest response (one response column is kept). Returns ``(ids, mask, P')``.

    A causal LM's scores of the real tokens do not change: left padding is masked and the positions count real
    tokens (``TokenScorer``), and no real token attends to the padding on its right.
    """
    p, r = row_lengths(attention_mask, prompt_length)
    start = prompt_length - max(int(p.max()), 1)
    end = prompt_length + max(int(r.max()), 1)
    return input_ids[:, start:end], attention_mask[:, start:end], prompt_length - start


def micro_batches(batch: RolloutBatch, order: Tensor, micro_batch_size: int, micro_batch_tokens: int | None):
    """The row indices of each micro-batch: ``micro_batch_size`` rows of ``order`` at a time, or packed to
    ``micro_batch_tokens`` (:func:`pack_by_tokens`)."""
    if micro_batch_tokens is None:
        return list(order.split(micro_batch_size))
    prompt, response = row_lengths(batch.attention_mask, batch.prompt_length)
    return pack_by_tokens(order, prompt, response, micro_batch_tokens)


def _scores(policy, sub: RolloutBatch, temperature: float, trim: bool, with_entropy: bool = True):
    """``policy.token_logprobs`` of ``sub``: (Float[n, T], Float[n, T] | None), scored without the shared padding
    columns when ``trim`` (then zero-padded back to T columns, so the loss sees the batch's shapes)."""
    ids, mask, p = sub.input_ids, sub.attention_mask, sub.prompt_length
    if trim:
        ids, mask, p = trim_padding(ids, mask, p)
    lp, ent = policy.token_logprobs(ids, mask, p, temperature=temperature, with_entropy=with_entropy)
    pad = (0, sub.response_ids.shape[1] - lp.shape[1])
    return torch.nn.functional.pad(lp, pad), (None if ent is None else torch.nn.functional.pad(ent, pad))


def _global_counts(dist, batch: RolloutBatch, passes: int) -> tuple[Tensor, int, int]:
    """The global batch's response tokens (>= 1) and rows, and the most micro-batches any rank runs."""
    if not dist.active:
        return batch.response_mask.sum().clamp(min=1), len(batch), passes
    mine = [float(passes) if r == dist.rank else 0.0 for r in range(dist.world_size)]
    tokens, rows, *per_rank = dist.sum([int(batch.response_mask.sum()), len(batch), *mine])
    return torch.tensor(max(int(tokens), 1)), int(rows), int(max(per_rank))


def accumulate_gradients(
    policy, agent: Agent, layout, dist, batch: RolloutBatch, credit: Credit, order: torch.Tensor, *,
    micro_batch_size: int, temperature: float, first: TokenScores | None, micro_batch_tokens: int | None = None,
) -> tuple[float, float, bool]:  # fmt: skip
    """Forward and backward over this rank's micro-batches (rows in ``order``); ``(loss, clip_frac, finite)`` of its
    share of the global batch.

    Micro-batches hold ``micro_batch_size`` rows, or fit ``micro_batch_tokens`` (:func:`micro_batches`). Each
    micro-batch's loss is weighted by its share of the global batch's response tokens (``token_mean``) or rows,
    times the world size W, since DDP and FSDP2 average gradients over the ranks: the summed gradients are those of
    the loss over the global batch, however the rows are grouped. Every rank runs the same number of backward
    passes (they synchronise): the most any rank packs, a rank with fewer ending on zero-loss passes; after a
    non-finite loss, zero ones too. ``first`` (Float[N, T] buffers) collects the log-probs and entropy of the
    sampled tokens, which on the first epoch are the sampling policy's.
    """
    world, trim = dist.world_size, micro_batch_tokens is not None
    chunks = micro_batches(batch, order, micro_batch_size, micro_batch_tokens)
    total_tokens, rows_total, passes = _global_counts(dist, batch, len(chunks))
    loss_sum, clip_sum, finite = 0.0, 0.0, True
    for i in range(passes):
        with layout.sync_grads(i == passes - 1):
            if i >= len(chunks):  # this rank's rows are done; the others still run passes that synchronise
                last_row = chunks[-1][-1:]  # packed by tokens: the shortest row
                lp, _ = _scores(policy, batch.select(last_row), temperature, trim, with_entropy=False)
                (lp.sum() * 0.0).backward()
                continue
            rows = chunks[i]
            sub = batch.select(rows)
            lp, ent = _scores(policy, sub, temperature, trim)
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
