"""Frozen, validated configuration of an agent (credit assignment + loss) and of a training run."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Aggregation = Literal["token_mean", "seq_mean_token_mean"]
_AGGREGATIONS = ("token_mean", "seq_mean_token_mean")


def _check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    bad = not math.isfinite(value) or value > high or (value <= low if low_open else value < low)
    if bad:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name}: expected a value in {bracket}{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class AgentConfig:
    """How an agent assigns credit and what its loss adds to the PPO surrogate."""

    alpha: float = 0.2
    """HICRA amplification: planning tokens get ``A + alpha * |A|`` (paper: 0.2)."""
    normalize_std: bool = False
    """Divide group-centred rewards by the group std (the paper only centres; GRPO and HICRA share it)."""
    eps_low: float = 0.2
    """Lower PPO clip range: the ratio is clipped below at ``1 - eps_low``."""
    eps_high: float = 0.28
    """Upper PPO clip range (clip-higher): the ratio is clipped above at ``1 + eps_high``."""
    aggregation: Aggregation = "token_mean"
    """``token_mean`` (mean over all response tokens) or ``seq_mean_token_mean``."""
    kl_coef: float = 0.0
    """Weight of the k3 KL to a frozen reference policy; 0 disables it (and the reference model)."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus: the loss subtracts ``entropy_coef * mean token entropy``."""
    rho: float = 0.2
    """high_entropy ablation: fraction of response tokens (highest entropy) that get amplified."""

    def __post_init__(self) -> None:
        _check_range("alpha", self.alpha, 0.0, 10.0)
        _check_range("eps_low", self.eps_low, 0.0, 1.0)
        _check_range("eps_high", self.eps_high, 0.0, 10.0)
        _check_range("kl_coef", self.kl_coef, 0.0, 1e3)
        _check_range("entropy_coef", self.entropy_coef, 0.0, 1e3)
        _check_range("rho", self.rho, 0.0, 1.0, low_open=True)
        if self.aggregation not in _AGGREGATIONS:
            hint = difflib.get_close_matches(str(self.aggregation), _AGGREGATIONS, n=1)
            tip = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"aggregation: expected one of {_AGGREGATIONS}, got {self.aggregation!r}{tip}")


@dataclass(frozen=True)
class TrainConfig:
    """One training run: task, policy, sampling budget and optimiser."""

    env_id: str = "hicra/Arithmetic-v0"
    """Gymnasium id of the task (any ``hicra/*`` id or a user-registered MathEnv)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make`` (e.g. ``data_path``, ``template``, ``difficulty``)."""
    model: str = "tiny"
    """Policy: a preset name (``tiny``, ``smollm2-135m-instruct``) or a ``from_pretrained`` name or path."""
    device: str = "cpu"
    """Torch device of the policy."""
    dtype: Literal["float32", "bfloat16"] = "float32"
    """Parameter dtype of the policy."""
    steps: int = 40
    """Optimiser steps (one rollout batch each)."""
    prompts_per_step: int = 8
    """Problems per step (B)."""
    group_size: int = 8
    """Responses per problem (G); advantages are centred within each group."""
    max_new_tokens: int = 48
    """Longest response, in tokens."""
    temperature: float = 1.0
    """Sampling temperature; log-probs are computed at the same temperature."""
    top_p: float = 1.0
    """Nucleus sampling threshold."""
    ppo_epochs: int = 1
    """Passes over each rollout batch (one optimiser step per pass)."""
    micro_batch_size: int = 16
    """Responses per forward/backward; gradients accumulate over micro-batches."""
    lr: float = 1e-4
    """AdamW learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    seed: int = 0
    """Seeds problems, sampling and shuffling; equal seeds give equal problem sequences across agents."""
    checkpoint_every: int = 0
    """Write a checkpoint every this many steps (0: only at the end of ``train``)."""
    keep_checkpoints: int = 2
    """How many recent checkpoints to keep on disk."""

    def __post_init__(self) -> None:
        for name in ("steps", "prompts_per_step", "group_size", "max_new_tokens", "ppo_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        if not isinstance(self.micro_batch_size, int) or self.micro_batch_size < 1:
            raise ValueError(f"micro_batch_size: expected an integer >= 1, got {self.micro_batch_size!r}")
        for name in ("checkpoint_every", "seed"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name}: expected an integer >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.keep_checkpoints, int) or self.keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints: expected an integer >= 1, got {self.keep_checkpoints!r}")
        _check_range("temperature", self.temperature, 0.0, 100.0, low_open=True)
        _check_range("top_p", self.top_p, 0.0, 1.0, low_open=True)
        _check_range("lr", self.lr, 0.0, 1.0, low_open=True)
        _check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        _check_range("max_grad_norm", self.max_grad_norm, 0.0, 1e6, low_open=True)
        if self.dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype: expected 'float32' or 'bfloat16', got {self.dtype!r}")


def config_from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build ``cls`` (a config dataclass) from a dict, naming unknown keys with a "did you mean"."""
    known = [f.name for f in fields(cls)]
    for key in values:
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            tip = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
            raise ValueError(f"unknown {cls.__name__} key {key!r}{tip}")
    return cls(**values)
