"""The agent interface: an agent differs from another only in which tokens its credit assignment amplifies,
or in one default of its loss. The training loop (``trainer.py``) is shared by all of them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import torch

from .advantages import group_advantages, hicra_advantages
from .config import AgentConfig
from .losses import aggregate, kl_k3, ppo_clip_loss, truncated_is_weights
from .rollout import RolloutBatch


@dataclass(frozen=True)
class Credit:
    """What credit assignment gives each response token."""

    advantages: torch.Tensor
    """Float[N, T]: the token advantages the loss uses."""
    amplified: torch.Tensor
    """Bool[N, T]: the response tokens whose advantage was amplified (none for GRPO)."""


class Agent:
    """GRPO's credit assignment and PPO loss; subclasses override :meth:`credit_mask` or a default.

    ``AgentConfig`` fields left ``None`` take the agent's value from ``defaults``: this constructor is the one
    place where that happens, so ``AGENTS[name](AgentConfig())``, ``AGENTS[name]()`` and ``make_agent(name)``
    all build the same agent.
    """

    name: ClassVar[str] = "base"
    defaults: ClassVar[dict[str, Any]] = {"entropy_coef": 0.0}
    """Values of the ``AgentConfig`` fields whose default depends on the agent (used where the config has None)."""
    reads_entropy: ClassVar[bool] = False
    """Whether :meth:`credit_mask` reads ``batch.entropy``, the rollout's token entropy (computed before credit)."""

    def __init__(self, config: AgentConfig | None = None, **overrides: Any) -> None:
        config = replace(config or AgentConfig(), **overrides)
        unset = {f.name: self.defaults[f.name] for f in fields(config) if getattr(config, f.name) is None}
        self.config = replace(config, **unset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor | None:
        """Bool[N, T] of the tokens whose advantage is amplified, or None for plain GRPO credit."""
        return None

    def credit(self, batch: RolloutBatch, generator: torch.Generator) -> Credit:
        """Group-centred rewards, amplified on :meth:`credit_mask` tokens (``A + alpha |A|``) when it gives one."""
        adv = group_advantages(batch.rewards, batch.group_ids, normalize_std=self.config.normalize_std)
        mask = self.credit_mask(batch, generator)
        if mask is None:
            none = torch.zeros_like(batch.response_mask)
            return Credit(adv[:, None].expand(batch.response_mask.shape).clone(), none)
        mask = mask & batch.response_mask
        return Credit(hicra_advantages(adv, mask, alpha=self.config.alpha), mask)

    def loss(
        self, batch: RolloutBatch, logprobs: torch.Tensor, advantages: torch.Tensor, entropy: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """PPO clip-higher surrogate, importance-weighted against the sampler, + ``kl_coef`` k3 KL
        - ``entropy_coef`` token entropy, aggregated.

        Args:
            batch: the (micro-)batch; ``batch.old_logprobs`` None means these weights sampled it (first pass), so
                the old log-probs are ``logprobs`` detached.
            logprobs, entropy: Float[N, T] of the current weights, with grad.
            advantages: Float[N, T] from :meth:`credit`.
        """
        cfg = self.config
        old = logprobs.detach() if batch.old_logprobs is None else batch.old_logprobs
        weights = None
        if cfg.tis_cap > 0:
            weights = truncated_is_weights(old, batch.sampler_logprobs, batch.response_mask, cap=cfg.tis_cap)
        loss, stats = ppo_clip_loss(
            logprobs, old, advantages, batch.response_mask,
            eps_low=cfg.eps_low, eps_high=cfg.eps_high, aggregation=cfg.aggregation, weights=weights,
        )  # fmt: skip
        if cfg.kl_coef > 0:
            if batch.ref_logprobs is None:
                raise ValueError("kl_coef > 0 needs ref_logprobs in the rollout batch")
            kl = aggregate(kl_k3(logprobs, batch.ref_logprobs), batch.response_mask, cfg.aggregation)
            loss = loss + cfg.kl_coef * kl
            stats["kl"] = float(kl.detach())
        if cfg.entropy_coef > 0:
            ent = aggregate(entropy, batch.response_mask, cfg.aggregation)
            loss = loss - cfg.entropy_coef * ent
            stats["entropy_bonus"] = float(ent.detach())
        return loss, stats
