"""Per-token log-probs and full-distribution entropy, computed in chunks through the LM head.

Materialising ``[N, L, V]`` float32 logits is what runs a long-context RL step out of memory (a 150k vocabulary at
4k tokens is ~2.4 GB per sequence). Here the final hidden states are pushed through the LM head a chunk of tokens
at a time; with grad enabled each chunk is wrapped in activation checkpointing, so backward recomputes one chunk's
logits at a time instead of keeping every chunk's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def _chunk_logprobs(
    hidden: Tensor, targets: Tensor, lm_head: Callable[[Tensor], Tensor], temperature: float, with_entropy: bool
) -> tuple[Tensor, Tensor]:
    """hidden [C, H], targets Long[C] -> (log p(target) [C], entropy [C]) in float32 (entropy zeros if skipped)."""
    logits = lm_head(hidden).float()
    if temperature != 1.0:
        logits = logits / temperature
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if not with_entropy:
        return logp, torch.zeros_like(logp)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def chunked_logprobs(
    hidden: Tensor,
    targets: Tensor,
    lm_head: Callable[[Tensor], Tensor],
    *,
    temperature: float = 1.0,
    with_entropy: bool = False,
    chunk_size: int = 1024,
) -> tuple[Tensor, Tensor | None]:
    """Log-probs of ``targets`` and entropies of the full next-token distributions, chunk by chunk.

    Args:
        hidden: final hidden states ``[M, H]`` (any float dtype), one row per predicted token.
        targets: ``Long[M]``, the token each row predicts.
        lm_head: maps ``[C, H]`` to logits ``[C, V]`` (the model's output embeddings).
        temperature: logits are divided by it before the softmax (> 0).
        with_entropy: also return ``H = -sum_v p_v log p_v`` of the full distribution per row.
        chunk_size: rows per chunk; peak memory holds about three ``[chunk_size, V]`` float32 buffers.

    Returns:
        ``(logprobs [M], entropy [M] | None)`` in float32, differentiable w.r.t. ``hidden`` and the head.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 for log-probs, got {temperature}")
    use_checkpoint = torch.is_grad_enabled() and (hidden.requires_grad or _has_grad_params(lm_head))
    logps, ents = [], []
    for start in range(0, hidden.shape[0], chunk_size):
        h, t = hidden[start : start + chunk_size], targets[start : start + chunk_size]
        if use_checkpoint:
            lp, ent = checkpoint(_chunk_logprobs, h, t, lm_head, temperature, with_entropy, use_reentrant=False)
        else:
            lp, ent = _chunk_logprobs(h, t, lm_head, temperature, with_entropy)
        logps.append(lp)
        ents.append(ent)
    if not logps:
        empty = hidden.new_zeros(0, dtype=torch.float32)
        return empty, (empty.clone() if with_entropy else None)
    return torch.cat(logps), (torch.cat(ents) if with_entropy else None)


def _has_grad_params(module: Callable[[Tensor], Tensor]) -> bool:
    parameters = getattr(module, "parameters", None)
    return parameters is not None and any(p.requires_grad for p in parameters())
