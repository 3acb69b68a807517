"""The agent interface: an agent differs from another only in which tokens its credit assignment amplifies,
or in one default of its loss. The training loop (``trainer.py``) is shared by all of them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import torch

from .advantages import group_advantages, hicra_advantages
from .config import AgentConfig
from .losses import aggregate, kl_k3, ppo_clip_loss
from .rollout import RolloutBatch


class Agent:
    """GRPO's credit assignment and PPO loss; subclasses override :meth:`credit_mask` or a config default.

    ``defaults`` holds the class's own :class:`AgentConfig` defaults (user values override them).
    """

    name: ClassVar[str] = "base"
    defaults: ClassVar[dict[str, Any]] = {}
    uses_rollout_entropy: ClassVar[bool] = False
    """Whether :meth:`credit_mask` reads ``batch.entropy`` (then the trainer scores the rollout before the update)."""

    def __init__(self, config: AgentConfig | None = None, **overrides: Any) -> None:
        base = AgentConfig(**self.defaults)
        self.config = replace(config or base, **overrides)

    @property
    def needs_entropy_grad(self) -> bool:
        """Whether the loss differentiates through token entropy (the trainer then computes it with grad)."""
        return self.config.entropy_coef > 0

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor | None:
        """Bool[N, T] of the tokens whose advantage is amplified, or None for plain GRPO credit."""
        return None

    def token_advantages(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor:
        """Float[N, T]: group-centred rewards, amplified on :meth:`credit_mask` tokens when it gives one."""
        adv = group_advantages(batch.rewards, batch.group_ids, normalize_std=self.config.normalize_std)
        mask = self.credit_mask(batch, generator)
        if mask is None:
            return adv[:, None].expand_as(batch.old_logprobs).clone()
        return hicra_advantages(adv, mask & batch.response_mask, alpha=self.config.alpha)

    def loss(
        self,
        batch: RolloutBatch,
        logprobs: torch.Tensor,
        advantages: torch.Tensor,
        entropy: torch.Tensor | None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """PPO clip-higher surrogate + ``kl_coef`` * k3 KL - ``entropy_coef`` * token entropy, aggregated."""
        cfg = self.config
        loss, stats = ppo_clip_loss(
            logprobs,
            batch.old_logprobs,
            advantages,
            batch.response_mask,
            eps_low=cfg.eps_low,
            eps_high=cfg.eps_high,
            aggregation=cfg.aggregation,
        )
        if cfg.kl_coef > 0:
            if batch.ref_logprobs is None:
                raise ValueError("kl_coef > 0 needs ref_logprobs in the rollout batch")
            kl = aggregate(kl_k3(logprobs, batch.ref_logprobs), batch.response_mask, cfg.aggregation)
            loss = loss + cfg.kl_coef * kl
            stats["kl"] = float(kl.detach())
        if cfg.entropy_coef > 0:
            if entropy is None:
                raise ValueError("entropy_coef > 0 needs token entropy computed with grad")
            ent = aggregate(entropy, batch.response_mask, cfg.aggregation)
            loss = loss - cfg.entropy_coef * ent
            stats["entropy_bonus"] = float(ent.detach())
        return loss, stats
