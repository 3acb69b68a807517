"""The ``hf`` rollout engine: a transformers causal LM with its KV cache, sampled by hicra's own sampler.

The loop is transformers' model forward (``past_key_values``, ``logits_to_keep=1``) plus
:func:`hicra.agents.sampling.sample_tokens`: no ``generate`` and so none of its default logits processors.
The engine holds the trainer's own model object, so a weight update needs no copy.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch

from ..cpu_env import check_cpu_env
from ..sampling import SamplingConfig, sample_tokens
from .base import Completions, trim_at_eos


def left_pad(rows: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows -> left-padded ``(input_ids, attention_mask)`` Long[N, P]."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        if row:
            ids[i, width - len(row) :] = torch.as_tensor(list(row), dtype=torch.long)
            mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


class HFEngine:
    """Samples from ``model`` (a transformers causal LM) in batches of all rows at once."""

    name = "hf"

    def __init__(self, model, *, eos_ids: Sequence[int], pad_id: int) -> None:
        self.eos_ids, self.pad_id = sorted(set(eos_ids)), pad_id
        self.load_weights(model)
        check_cpu_env(next(model.parameters()).device.type)  # warns once if OpenMP threads spin on a busy CPU

    def load_weights(self, model) -> None:
        self.model = model  # the same object the optimiser updates: nothing to copy
        # transformers renamed the KV-cache argument `past_key_values` to `cache` (5.2x); take what it accepts
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @torch.no_grad()
    def generate(
        self,
        prompt_ids: Sequence[Sequence[int]],
        *,
        num_samples: int,
        sampling: SamplingConfig,
        seed: int | None = None,
        seeds: Sequence[int] | None = None,
    ) -> Completions:
        """Sample ``num_samples`` responses per prompt. Seeded per request, as vLLM: sample j of prompt i draws from
        its own stream seeded ``s_i + j``, with ``s_i = seeds[i]`` or ``seed + num_samples * i``; so a prompt's
        samples do not depend on the other prompts of the call (with ``seeds``, not on its position either)."""
        rows = [list(p) for p in prompt_ids for _ in range(num_samples)]
        device = next(self.model.parameters()).device
        ids, mask = left_pad(rows, self.pad_id, device)
        generators = None
        if seeds is not None or seed is not None:
            starts = list(seeds) if seeds is not None else [seed + num_samples * i for i in range(len(prompt_ids))]
            if len(starts) != len(prompt_ids):
                raise ValueError(f"seeds: expected one per prompt ({len(prompt_ids)}), got {len(starts)}")
            generators = [torch.Generator().manual_seed((s + j) % 2**63) for s in starts for j in range(num_samples)]
        eos = torch.tensor(self.eos_ids, device=device)
        tokens, logprobs = self._loop(ids, mask, sampling, generators, eos)
        eos_set = set(self.eos_ids)
        trimmed = [trim_at_eos(t, lp, eos_set) for t, lp in zip(tokens.tolist(), logprobs.tolist())]
        return Completions(tuple(t for t, _ in trimmed), tuple(lp for _, lp in trimmed))

    def _loop(self, ids, mask, sampling, generators, eos) -> tuple[torch.Tensor, torch.Tensor]:
        """Long[N, T] tokens and Float[N, T] sampler log-probs; rows keep running (padded) after their EOS."""
        n = ids.shape[0]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        finished = torch.zeros(n, dtype=torch.bool, device=ids.device)
        past, tokens, logprobs = None, [], []
        for _ in range(sampling.max_new_tokens):
            out = self.model(
                input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1,
                **{self._cache_arg: past},
            )  # fmt: skip
            past = getattr(out, self._cache_arg)
            token, logp = sample_tokens(out.logits[:, -1], sampling, row_generators=generators)
            token = token.masked_fill(finished, self.pad_id)
            tokens.append(token)
            logprobs.append(logp.masked_fill(finished, 0.0))
            finished |= torch.isin(token, eos)
            if bool(finished.all()):
                break
            ids, positions = token[:, None], positions[:, -1:] + 1
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        return torch.stack(tokens, dim=1), torch.stack(logprobs, dim=1)
