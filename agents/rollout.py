"""The typed rollout batch that the training loop builds and the agents read."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch


@dataclass(frozen=True)
class TokenScores:
    """The trainer's scores of sampled tokens: Float[N, T] each, 0 on padding."""

    logprobs: torch.Tensor
    """Log-prob of each sampled token under ``softmax(logits / T)``."""
    entropy: torch.Tensor
    """Entropy of the full next-token distribution at each response position, in nats."""


@dataclass(frozen=True)
class RolloutBatch:
    """N sampled responses (B problems x G samples, prompt-major) with everything credit assignment needs.

    Shapes: ``input_ids``/``attention_mask`` [N, P+T]; ``response_ids``, ``response_mask`` (bool),
    ``sampler_logprobs``, ``planning_mask`` (bool), ``old_logprobs``, ``entropy``, ``ref_logprobs`` [N, T];
    ``group_ids``, ``rewards``, ``correct`` (bool) [N]. ``group_ids[i]`` names the problem row i answers,
    so group membership is explicit rather than implied by position.

    ``old_logprobs`` and ``entropy`` are the trainer's scores of the sampled tokens under the sampling weights.
    They are None when the update's first pass computes them itself (one PPO epoch: the weights have not moved
    yet, so that pass *is* the old policy) and set when the trainer scored the batch first (several epochs, or an
    agent whose credit reads the entropy).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_length: int
    response_ids: torch.Tensor
    response_mask: torch.Tensor
    group_ids: torch.Tensor
    rewards: torch.Tensor
    correct: torch.Tensor
    sampler_logprobs: torch.Tensor
    planning_mask: torch.Tensor
    texts: tuple[str, ...]
    problem_ids: tuple[str, ...]
    old_logprobs: torch.Tensor | None = None
    entropy: torch.Tensor | None = None
    ref_logprobs: torch.Tensor | None = None
    max_new_tokens: int | None = None
    """The generation budget the responses were sampled with (Dr. GRPO's constant loss normaliser); None: ``T``."""
    extra_rounds: int = 0
    """Dynamic sampling: how many extra sampling rounds filled this batch (0 without dynamic sampling)."""

    def __post_init__(self) -> None:
        n, t = self.response_ids.shape
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor) and value.shape[0] != n:
                raise ValueError(f"RolloutBatch.{f.name}: expected {n} rows, got shape {tuple(value.shape)}")
        for name in ("response_mask", "sampler_logprobs", "planning_mask", "old_logprobs", "entropy", "ref_logprobs"):
            value = getattr(self, name)
            if value is not None and value.shape != (n, t):
                raise ValueError(f"RolloutBatch.{name}: expected shape {(n, t)}, got {tuple(value.shape)}")
        if len(self.texts) != n or len(self.problem_ids) != n:
            raise ValueError(
                f"RolloutBatch: expected {n} texts and problem ids, got {len(self.texts)}, {len(self.problem_ids)}"
            )

    def __len__(self) -> int:
        return self.response_ids.shape[0]

    def select(self, rows: torch.Tensor) -> RolloutBatch:
        """The sub-batch of the given row indices (a micro-batch); tensors are indexed, strings picked."""
        picked = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                picked[f.name] = value[rows]
            elif isinstance(value, tuple):
                picked[f.name] = tuple(value[i] for i in rows.tolist())
        return replace(self, **picked)


def pad_right(tensors: list[torch.Tensor], width: int, value) -> torch.Tensor:
    """[N_i, T_i] tensors padded with ``value`` on the right to ``width`` columns, then stacked: [sum N_i, width]."""
    return torch.cat([torch.nn.functional.pad(t, (0, width - t.shape[1]), value=value) for t in tensors])


def concat_batches(batches: list[RolloutBatch], pad_id: int) -> RolloutBatch:
    """The rows of ``batches`` in order, as one batch: prompts left-padded to the widest ``prompt_length``,
    responses right-padded to the widest response (``pad_id``; masks False, scores 0), strings concatenated."""
    width_p = max(b.prompt_length for b in batches)
    width_t = max(b.response_ids.shape[1] for b in batches)

    def sequence(name: str, value) -> torch.Tensor:
        rows = []
        for b in batches:
            x = getattr(b, name)
            prompt, response = x[:, : b.prompt_length], x[:, b.prompt_length :]
            prompt = torch.nn.functional.pad(prompt, (width_p - b.prompt_length, 0), value=value)
            rows.append(torch.cat([prompt, pad_right([response], width_t, value)], dim=1))
        return torch.cat(rows)

    def response(name: str, value) -> torch.Tensor | None:
        values = [getattr(b, name) for b in batches]
        return None if any(v is None for v in values) else pad_right(values, width_t, value)

    return RolloutBatch(
        input_ids=sequence("input_ids", pad_id), attention_mask=sequence("attention_mask", 0), prompt_length=width_p,
        response_ids=response("response_ids", pad_id), response_mask=response("response_mask", False),
        group_ids=torch.cat([b.group_ids for b in batches]), rewards=torch.cat([b.rewards for b in batches]),
        correct=torch.cat([b.correct for b in batches]), sampler_logprobs=response("sampler_logprobs", 0.0),
        planning_mask=response("planning_mask", False), texts=sum((b.texts for b in batches), ()),
        problem_ids=sum((b.problem_ids for b in batches), ()), old_logprobs=response("old_logprobs", 0.0),
        entropy=response("entropy", 0.0), ref_logprobs=response("ref_logprobs", 0.0),
        max_new_tokens=batches[0].max_new_tokens, extra_rounds=max(b.extra_rounds for b in batches),
    )  # fmt: skip
