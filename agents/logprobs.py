"""Per-token log-probs and full-distribution entropy, computed in chunks through the LM head.

Materialising ``[N, L, V]`` float32 logits is what runs a long-context RL step out of memory (a 150k vocabulary at
4k tokens is ~2.4 GB per sequence). Here the final hidden states are pushed through the LM head a chunk of tokens
at a time; with grad enabled each chunk is wrapped in activation checkpointing, so backward recomputes one chunk's
logits at a time instead of keeping every chunk's.

:class:`TokenScorer` is that computation as one module whose ``forward`` runs the whole scoring pass, so that
DistributedDataParallel and FSDP2, which act through the forward of the module they wrap, can wrap it.
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


class OutputHead(torch.nn.Module):
    """The model's LM head followed by the logit post-processing its own forward applies.

    ``logits = head(h) * scale``, then ``softcap * tanh(logits / softcap)`` when ``softcap`` is set: Cohere's
    ``logit_scale`` and Granite's ``1 / logits_scaling`` are the scale, Gemma 2/3's ``final_logit_softcapping``
    the softcap. Scoring through the bare head would give other log-probs than the model samples from.
    """

    def __init__(self, head: torch.nn.Module, *, scale: float = 1.0, softcap: float | None = None) -> None:
        super().__init__()
        self.head, self.scale, self.softcap = head, float(scale), softcap

    def forward(self, hidden: Tensor) -> Tensor:
        logits = self.head(hidden)
        if self.scale != 1.0:
            logits = logits * self.scale
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return logits


def output_head(model) -> OutputHead:
    """The :class:`OutputHead` of a transformers causal LM, checked against the model's own logits.

    Raises ``ValueError`` when ``model(...).logits`` differ from the head applied to ``model.base_model``'s last
    hidden state: the model post-processes its logits in a way hicra does not know, and its log-probs would be
    wrong.
    """
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    scale = float(getattr(config, "logit_scale", None) or 1.0) / float(getattr(config, "logits_scaling", None) or 1.0)
    head = OutputHead(
        model.get_output_embeddings(), scale=scale, softcap=getattr(config, "final_logit_softcapping", None)
    )
    _check_head(model, head)
    return head


@torch.no_grad()
def _check_head(model, head: OutputHead) -> None:
    vocab = model.get_output_embeddings().weight.shape[0]
    device = next(model.parameters()).device
    probe = (torch.arange(8, device=device) * 7919 % vocab).unsqueeze(0)
    expected = model(input_ids=probe).logits.float()
    got = head(model.base_model(input_ids=probe).last_hidden_state).float()
    tolerance = 1e-3 * max(1.0, float(expected.abs().max()))
    if expected.dtype != torch.float32 or next(model.parameters()).dtype != torch.float32:
        tolerance *= 50  # bf16/fp16 rounding
    diff = float((expected - got).abs().max())
    if not diff <= tolerance:
        raise ValueError(
            f"{type(model).__name__}: its forward post-processes the logits in a way hicra's log-prob path does not "
            f"reproduce (max |difference| {diff:.3g} on a probe input); hicra supports final-logit softcapping "
            "(Gemma 2/3), logit_scale (Cohere) and logits_scaling (Granite): add the model's processing to "
            "hicra.agents.logprobs.OutputHead before training it"
        )


class TokenScorer(torch.nn.Module):
    """The scoring pass as a module: the causal LM's base model, then :func:`chunked_logprobs` through ``head``.

    Its ``forward`` is what :meth:`hicra.agents.policy.Policy.token_logprobs` runs. It is a module (rather than a
    function calling ``model.base_model``) so that the data-parallel wrappers see one forward: DDP synchronises
    gradients and FSDP2 gathers parameters through the forward hooks of the module they wrap.
    """

    def __init__(self, model: torch.nn.Module, head: OutputHead) -> None:
        super().__init__()
        self.model, self.head = model, head

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        prompt_length: int,
        *,
        temperature: float,
        with_entropy: bool,
        chunk_size: int,
    ) -> tuple[Tensor, Tensor | None]:
        """Long[N, P+T] ids and mask -> ``(logprobs [N, T], entropy [N, T] | None)``, zero off the response."""
        position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        out = self.model.base_model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        )
        hidden = out.last_hidden_state[:, prompt_length - 1 : -1]
        targets = input_ids[:, prompt_length:]
        valid = attention_mask[:, prompt_length:].bool()
        logp, ent = chunked_logprobs(
            hidden[valid], targets[valid], self.head,
            temperature=temperature, with_entropy=with_entropy, chunk_size=chunk_size,
        )  # fmt: skip
        return _scatter(logp, valid), (_scatter(ent, valid) if ent is not None else None)


def _scatter(values: Tensor, mask: Tensor) -> Tensor:
    """values [M] into zeros shaped like Bool mask [N, T] (M = mask.sum()), differentiably."""
    return torch.zeros(mask.shape, dtype=values.dtype, device=values.device).masked_scatter(mask, values)
