"""Sampling exactly from ``softmax(logits / T)``, cut only by the top-k and top-p a user asks for.

The loss scores ``log_softmax(logits / T)``; so the sampler draws from that distribution and nothing else (no
library defaults: transformers' ``generate`` silently applies ``top_k=50``), and it returns the log-prob of each
drawn token under the distribution it was really drawn from. With ``top_p = 1`` and ``top_k = 0`` those are the
trainer's scoring log-probs up to float rounding; with a cut they are the renormalised truncated distribution's,
and the trainer's importance weights correct for the difference.

>>> import torch
>>> logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
>>> sampling_logprobs(logits, SamplingConfig(top_p=0.5)).exp()  # the smallest top set reaching 0.5
tensor([[0.0000, 0.0000, 0.4286, 0.5714]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class SamplingConfig:
    """How responses are sampled."""

    temperature: float = 1.0
    """Softmax temperature, >= 0; 0 means greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling mass, in (0, 1]; 1 disables it."""
    top_k: int = 0
    """Keep only the k most likely tokens, >= 0; 0 disables it (the default: no hidden truncation)."""
    max_new_tokens: int = 256
    """Longest response in tokens, >= 1; a response that hits it is cut without EOS."""

    def __post_init__(self) -> None:
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, int | float) or not (0 <= t < math.inf):
            raise ValueError(f"SamplingConfig.temperature: expected a finite number >= 0, got {t!r}")
        if isinstance(self.top_p, bool) or not isinstance(self.top_p, int | float) or not 0 < self.top_p <= 1:
            raise ValueError(f"SamplingConfig.top_p: expected a number in (0, 1], got {self.top_p!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"SamplingConfig.top_k: expected an int >= 0 (0: off), got {self.top_k!r}")
        m = self.max_new_tokens
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"SamplingConfig.max_new_tokens: expected an int >= 1, got {m!r}")


def sampling_logprobs(logits: Tensor, sampling: SamplingConfig) -> Tensor:
    """Float[N, V] logits -> Float[N, V] log-probs of the distribution tokens are drawn from.

    ``log_softmax(logits / T)`` restricted to the top-k tokens (when ``top_k > 0``) and then to the smallest set
    of most likely tokens whose mass reaches ``top_p`` (when ``top_p < 1``), renormalised; ``-inf`` elsewhere.
    Greedy (``T = 0``) returns ``log_softmax(logits)``, the distribution whose argmax is taken.
    """
    scaled = logits.float() if sampling.temperature == 0 else logits.float() / sampling.temperature
    if sampling.top_k and sampling.top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, sampling.top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, -math.inf)
    logp = torch.log_softmax(scaled, dim=-1)
    if sampling.top_p < 1:
        sorted_logp, order = torch.sort(logp, dim=-1, descending=True)
        mass_before = torch.cumsum(sorted_logp.exp(), dim=-1) - sorted_logp.exp()
        drop_sorted = mass_before >= sampling.top_p  # the token that crosses top_p is kept; never the first
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logp = torch.log_softmax(logp.masked_fill(drop, -math.inf), dim=-1)
    return logp


def sample_tokens(
    logits: Tensor,
    sampling: SamplingConfig,
    generator: torch.Generator | None = None,
    *,
    row_generators: Sequence[torch.Generator] | None = None,
) -> tuple[Tensor, Tensor]:
    """Draw one token per row of Float[N, V] ``logits``; returns ``(tokens Long[N], logprobs Float[N])``.

    ``logprobs`` are the drawn tokens' log-probs under :func:`sampling_logprobs` (the sampler's own). Greedy
    (``T = 0``) takes the argmax. ``generator`` (on ``logits.device``) makes the draw reproducible;
    ``row_generators`` (N CPU generators, one per row) make each row's draw its own stream, whatever the other rows:
    one uniform per row and step, mapped through the row's cumulative distribution (inverse-CDF sampling).
    """
    logp = sampling_logprobs(logits, sampling)
    if sampling.temperature == 0:
        tokens = logp.argmax(dim=-1)
    elif row_generators is not None:
        tokens = inverse_cdf(logp, row_uniforms(row_generators).to(logp.device))
    else:
        tokens = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1)
    return tokens, logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def row_uniforms(generators: Sequence[torch.Generator]) -> Tensor:
    """Float64[N]: one uniform draw in [0, 1) from each (CPU) generator."""
    return torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in generators])


def inverse_cdf(logp: Tensor, uniforms: Tensor) -> Tensor:
    """Long[N]: for each row of Float[N, V] log-probs, the token whose cumulative-probability interval holds its
    uniform in Float[N] (tokens of probability 0 have empty intervals and are never drawn)."""
    cdf = torch.cumsum(logp.double().exp(), dim=-1)
    target = (uniforms.double() * cdf[:, -1]).unsqueeze(-1)
    return torch.searchsorted(cdf, target, right=True).squeeze(-1).clamp(max=logp.shape[-1] - 1)
