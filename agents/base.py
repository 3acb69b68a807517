"""The agent interface: an agent differs from another in how it computes advantages, which tokens its credit
assignment amplifies, or one default of the shared loss (a typed :class:`AgentConfig` field). The training loop
(``trainer.py``) and the loss are shared by all of them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import torch

from .advantages import group_advantages, hicra_advantages
from .config import AgentConfig
from .entropy_masks import top_quantile_mask
from .losses import aggregate, cispo_loss, kl_k3, ppo_clip_loss, truncated_is_weights
from .rollout import RolloutBatch

SURROGATE_LOSSES = {"clip": ppo_clip_loss, "cispo": cispo_loss}
"""The per-token policy-gradient term of each ``AgentConfig.surrogate``."""


@dataclass(frozen=True)
class Credit:
    """What credit assignment gives each response token."""

    advantages: torch.Tensor
    """Float[N, T]: the token advantages the loss uses."""
    amplified: torch.Tensor
    """Bool[N, T]: the response tokens whose advantage was amplified (none for GRPO)."""
    loss_mask: torch.Tensor | None = None
    """Bool[N, T]: the response tokens that carry policy gradient (forking tokens); None: every response token."""

    def select(self, rows: torch.Tensor) -> Credit:
        """The credit of the given rows (a mini- or micro-batch)."""
        mask = None if self.loss_mask is None else self.loss_mask[rows]
        return Credit(self.advantages[rows], self.amplified[rows], mask)


class Agent:
    """GRPO's credit assignment and PPO loss; subclasses override :meth:`advantages`, :meth:`credit_mask` or a
    default.

    ``AgentConfig`` fields left ``None`` take the agent's value from ``defaults``: this constructor is the one
    place where that happens, so ``AGENTS[name](AgentConfig())``, ``AGENTS[name]()`` and ``make_agent(name)``
    all build the same agent. With ``AgentConfig.base`` set, the base agent's defaults and :meth:`advantages` come
    first and this agent's own (its :meth:`credit_mask` and the defaults it changes) on top.
    """

    name: ClassVar[str] = "base"
    defaults: ClassVar[dict[str, Any]] = {
        "entropy_coef": 0.0, "normalize_std": False, "eps_low": 0.2, "eps_high": 0.28, "aggregation": "token_mean",
        "ratio_level": "token", "surrogate": "clip", "top_entropy_quantile": 1.0, "dynamic_sampling": False,
        "overlong_buffer": 0.0, "base": None, "first_k": None,
    }  # fmt: skip
    """Values of the ``AgentConfig`` fields whose default depends on the agent (used where the config has None)."""
    reads_entropy: ClassVar[bool] = False
    """Whether credit reads ``batch.entropy``, the rollout's token entropy (computed before credit)."""

    def __init__(self, config: AgentConfig | None = None, **overrides: Any) -> None:
        config = replace(config or AgentConfig(), **overrides)
        defaults, self.base = {**Agent.defaults, **self.defaults}, None  # a subclass may list only its changes
        if config.base is not None:
            from .registry import AGENTS

            if config.base == self.name:
                raise ValueError(f"base: expected another agent than {self.name!r} itself, got {config.base!r}")
            own = {k: v for k, v in defaults.items() if Agent.defaults.get(k) != v}
            defaults = {**Agent.defaults, **AGENTS[config.base].defaults, **own}
        unset = {f.name: defaults[f.name] for f in fields(config) if getattr(config, f.name) is None}
        self.config = replace(config, **unset)
        if config.base is not None:
            self.base = AGENTS[config.base](replace(self.config, base=None))
        self.reads_entropy = type(self).reads_entropy or self.config.top_entropy_quantile < 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"

    def advantages(self, batch: RolloutBatch) -> torch.Tensor:
        """Float[N] response advantages: group-centred rewards (divided by the group std if ``normalize_std``)."""
        return group_advantages(batch.rewards, batch.group_ids, normalize_std=self.config.normalize_std)

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> torch.Tensor | None:
        """Bool[N, T] of the tokens whose advantage is amplified, or None for plain GRPO credit."""
        return None

    def loss_mask(self, batch: RolloutBatch) -> torch.Tensor | None:
        """Bool[N, T] of the tokens that carry policy gradient: with ``top_entropy_quantile < 1`` the global batch's
        top-entropy share (forking tokens); None (every token) otherwise."""
        quantile = self.config.top_entropy_quantile
        if quantile >= 1:
            return None
        if batch.entropy is None:
            raise ValueError("top_entropy_quantile < 1 needs batch.entropy (the rollout's entropy); score it first")
        return top_quantile_mask(batch.entropy, batch.response_mask, quantile)

    def credit(self, batch: RolloutBatch, generator: torch.Generator) -> Credit:
        """:meth:`advantages` (the base agent's, when there is one), amplified on :meth:`credit_mask` tokens
        (``A + alpha |A|``) when it gives one, and the gradient mask of :meth:`loss_mask`."""
        adv = (self.base or self).advantages(batch)
        mask, loss_mask = self.credit_mask(batch, generator), self.loss_mask(batch)
        if mask is None:
            none = torch.zeros_like(batch.response_mask)
            return Credit(adv[:, None].expand(batch.response_mask.shape).clone(), none, loss_mask)
        mask = mask & batch.response_mask
        return Credit(hicra_advantages(adv, mask, alpha=self.config.alpha), mask, loss_mask)

    def loss(
        self,
        batch: RolloutBatch,
        logprobs: torch.Tensor,
        advantages: torch.Tensor,
        entropy: torch.Tensor,
        *,
        token_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The ``surrogate`` (PPO clip-higher, per token or per sequence, or CISPO), importance-weighted against the
        sampler, + ``kl_coef`` k3 KL - ``entropy_coef`` token entropy, aggregated.

        Args:
            batch: the (micro-)batch; ``batch.old_logprobs`` None means these weights sampled it (first pass), so
                the old log-probs are ``logprobs`` detached.
            logprobs, entropy: Float[N, T] of the current weights, with grad.
            advantages: Float[N, T] from :meth:`credit`.
            token_mask: Bool[N, T] ``Credit.loss_mask`` rows of this batch (None: every response token).
        """
        cfg = self.config
        old = logprobs.detach() if batch.old_logprobs is None else batch.old_logprobs
        weights = None
        if cfg.tis_cap > 0:
            weights = truncated_is_weights(old, batch.sampler_logprobs, batch.response_mask, cap=cfg.tis_cap)
        loss, stats = SURROGATE_LOSSES[cfg.surrogate](
            logprobs, old, advantages, batch.response_mask, eps_low=cfg.eps_low, eps_high=cfg.eps_high,
            aggregation=cfg.aggregation, weights=weights, ratio_level=cfg.ratio_level, token_mask=token_mask,
            norm_length=batch.max_new_tokens,
        )  # fmt: skip
        if cfg.kl_coef > 0:
            if batch.ref_logprobs is None:
                raise ValueError("kl_coef > 0 needs ref_logprobs in the rollout batch")
            kl_t = kl_k3(logprobs, batch.ref_logprobs)
            kl = aggregate(kl_t, batch.response_mask, cfg.aggregation, norm_length=batch.max_new_tokens)
            loss = loss + cfg.kl_coef * kl
            stats["kl"] = float(kl.detach())
        if cfg.entropy_coef > 0:
            ent = aggregate(entropy, batch.response_mask, cfg.aggregation, norm_length=batch.max_new_tokens)
            loss = loss - cfg.entropy_coef * ent
            stats["entropy_bonus"] = float(ent.detach())
        return loss, stats
