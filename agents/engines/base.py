"""The rollout-engine contract: token ids in, response token ids and the sampler's own log-probs out.

An engine samples ``num_samples`` responses to each tokenized prompt, prompt-major (row ``i * G + g`` answers
prompt ``i``), exactly from the distribution :func:`hicra.agents.sampling.sampling_logprobs` describes, and
reports each drawn token's log-prob under it. Engines never see text: the policy tokenizes prompts (chat
template included) and decodes responses, so every engine gets the same inputs and returns the same layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..sampling import SamplingConfig


@dataclass(frozen=True)
class Completions:
    """N = prompts x samples responses, prompt-major."""

    token_ids: tuple[tuple[int, ...], ...]
    """Per row: the generated tokens up to and including the first EOS (no EOS when cut at max_new_tokens)."""
    logprobs: tuple[tuple[float, ...], ...]
    """Per row: the sampler's log-prob of each generated token (same lengths as ``token_ids``)."""

    def __post_init__(self) -> None:
        if len(self.token_ids) != len(self.logprobs):
            raise ValueError(
                f"expected one log-prob row per token row, got {len(self.logprobs)} for {len(self.token_ids)}"
            )
        for i, (ids, lps) in enumerate(zip(self.token_ids, self.logprobs)):
            if len(ids) != len(lps):
                raise ValueError(f"row {i}: expected {len(ids)} log-probs (one per token), got {len(lps)}")


class RolloutEngine(Protocol):
    """What the trainer and ``hicra eval`` need from a generator."""

    name: str

    def generate(
        self,
        prompt_ids: Sequence[Sequence[int]],
        *,
        num_samples: int,
        sampling: SamplingConfig,
        seed: int | None = None,
        seeds: Sequence[int] | None = None,
    ) -> Completions:
        """Sample ``num_samples`` responses per prompt; ``seed`` makes the draw reproducible. Seeds are per request:
        sample j of prompt i draws from a stream seeded ``s_i + j`` with ``s_i = seeds[i]`` when ``seeds`` is given
        (one per prompt; then a prompt's samples depend on nothing else in the call), else ``seed + G i``."""
        ...

    def load_weights(self, model) -> None:
        """Make the engine sample from ``model``'s current weights (called after each optimiser step)."""
        ...


def trim_at_eos(ids: Sequence[int], logprobs: Sequence[float], eos_ids: set[int]) -> tuple[tuple, tuple]:
    """The prefix of ``ids`` (and its log-probs) up to and including the first EOS."""
    for k, token in enumerate(ids):
        if token in eos_ids:
            return tuple(ids[: k + 1]), tuple(logprobs[: k + 1])
    return tuple(ids), tuple(logprobs)
