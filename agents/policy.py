"""The LLM policy: load any causal LM, sample G responses per prompt, per-token log-probs and entropy.

``Policy.from_pretrained`` takes a Hugging Face name, a local directory, or a preset (``"tiny"``,
``"smollm2-135m-instruct"``, see :mod:`hicra.agents.presets`). Sampling goes through a rollout engine
(:mod:`hicra.agents.engines`, ``hf`` by default) that returns the sampler's own log-probs; scoring log-probs go
through :func:`hicra.agents.logprobs.chunked_logprobs`, so the full ``[N, L, V]`` logits never exist.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .engines import make_engine, resolve_engine
from .engines.base import Completions, RolloutEngine
from .engines.hf import HFEngine, left_pad
from .logprobs import TokenScorer, output_head
from .lora import LoraConfig, WithoutAdapters, adapter_base, check_qlora_device, is_adapter_dir, quantization_config
from .lora import with_adapters as _with_adapters
from .presets import resolve_model
from .rollout import TokenScores
from .sampling import SamplingConfig

logger = logging.getLogger(__name__)

Dtype = Literal["float32", "bfloat16", "float16"]
_DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class Generation:
    """G sampled responses per prompt; row ``i * G + g`` answers prompt ``i``."""

    input_ids: Tensor
    """Long[N, P+T]: left-padded prompt, then the response right-padded with the pad token."""
    attention_mask: Tensor
    """Long[N, P+T]: 1 on real prompt tokens and on response tokens up to and including EOS."""
    prompt_length: int
    """P, the padded prompt width; the response starts at column P."""
    response_ids: Tensor
    """Long[N, T]: generated tokens, pad after EOS."""
    response_mask: Tensor
    """Bool[N, T]: True on generated tokens up to and including the first EOS."""
    logprobs: Tensor
    """Float[N, T]: the sampler's own log-prob of each generated token (0 on padding)."""
    texts: list[str]
    """Decoded responses, special tokens skipped."""
    prompt_index: Tensor
    """Long[N]: which prompt each row answers."""


def response_mask_from_eos(response_ids: Tensor, eos_ids: Sequence[int]) -> Tensor:
    """Long[N, T] -> Bool[N, T], True up to and including the first EOS of each row (all True without one)."""
    is_eos = torch.isin(response_ids, torch.tensor(list(eos_ids), device=response_ids.device))
    eos_before = torch.cumsum(is_eos.long(), dim=1) - is_eos.long()
    return eos_before == 0


class Policy:
    """A causal LM and its tokenizer, with sampling and chunked per-token log-probs.

    Args:
        model: a ``transformers`` causal LM (has ``base_model`` and ``get_output_embeddings()``).
        tokenizer: its tokenizer; a missing pad token is set to EOS, padding is on the left.
        chunk_size: tokens per chunk when computing log-probs (see :func:`chunked_logprobs`).
    """

    def __init__(self, model, tokenizer, *, chunk_size: int = 1024, path: str | None = None, adapter=None) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no eos_token: set tokenizer.eos_token so responses can stop")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.model, self.tokenizer, self.chunk_size, self.path = model, tokenizer, chunk_size, path
        self.adapter = adapter
        """peft's ``PeftModel`` around :attr:`model` when it trains LoRA adapters (:mod:`hicra.agents.lora`), else
        None; :attr:`model` is the adapted transformers model itself."""
        self.shares_model = False
        """True for :meth:`frozen_copy` of a LoRA policy: it runs this same model, adapters disabled."""
        self.eos_token_ids = _eos_ids(tokenizer, model.generation_config)
        self.head = output_head(model)
        """The LM head with the model's own logit post-processing (softcapping, scaling): what scoring uses."""
        self.scorer: torch.nn.Module = TokenScorer(model, self.head)
        """Runs :meth:`token_logprobs`; the trainer wraps it for data-parallel training (DDP, FSDP2)."""
        self.engine: RolloutEngine = HFEngine(model, eos_ids=self.eos_token_ids, pad_id=tokenizer.pad_token_id)
        """Samples responses; ``hf`` by default, see :meth:`use_engine`."""

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        *,
        device: str | torch.device = "cpu",
        dtype: Dtype = "float32",
        chunk_size: int = 1024,
        engine: str = "hf",
        engine_options: dict | None = None,
        lora: LoraConfig | None = None,
        adapter: str | None = None,
    ) -> Policy:
        """Load a preset name (``"tiny"``, ``"smollm2-135m-instruct"``), a local directory or a hub id.

        ``engine`` (``hf``, ``vllm`` or ``auto``) and ``engine_options`` choose the rollout engine (:meth:`use_engine`).
        ``lora`` adds fresh LoRA adapters to train (:mod:`hicra.agents.lora`); ``adapter`` is a saved peft adapter
        folder, merged into the base for sampling. A ``name_or_path`` that is an adapter folder loads its recorded
        base model with it.
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        device = _check_device(device)
        check_qlora_device(lora, device.type)
        if lora is not None and (adapter is not None or is_adapter_dir(name_or_path)):
            raise ValueError(f"lora: expected a base model to add new adapters to, got the adapter {name_or_path!r}")
        if lora is not None and lora.load_in_4bit and engine != "hf":
            raise ValueError(f"lora.load_in_4bit: QLoRA samples with engine 'hf', got {engine!r}")
        engine = resolve_engine(engine, device.type)  # an engine that cannot run fails before the model loads
        if adapter is None and is_adapter_dir(name_or_path):
            adapter, name_or_path = name_or_path, adapter_base(name_or_path)
        path = resolve_model(name_or_path)
        quantized = {} if lora is None or not lora.load_in_4bit else {
            "quantization_config": quantization_config(lora, _DTYPES[dtype]), "device_map": {"": device}
        }  # fmt: skip
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=_DTYPES[dtype], **quantized)
        except OSError as err:
            raise ValueError(f"could not load a causal LM from {name_or_path!r}: {err}") from err
        if not quantized:
            model.to(device)
        model.eval()
        logger.info("loaded %s (%s, %s) on %s", name_or_path, type(model).__name__, dtype, device)
        model, peft_model = _with_adapters(model, name_or_path, lora, adapter)
        policy = cls(model, tokenizer, chunk_size=chunk_size, path=path, adapter=peft_model)
        if engine != "hf":
            policy.use_engine(engine, **(engine_options or {}))
        return policy

    def use_engine(self, kind: str, **options) -> RolloutEngine:
        """Sample with engine ``kind``: ``hf`` (transformers, this model object), ``vllm`` (vLLM loading
        :attr:`path`, then given this model's weights) or ``auto`` (vllm when installed for this device).

        ``options`` go to :class:`~hicra.agents.engines.vllm.VLLMEngine` (``kv_cache_gib``, ``max_model_len``, ...).
        Raises :class:`~hicra.agents.engines.EngineUnavailableError` when vllm is asked for but not installed.
        """
        dtype = {value: key for key, value in _DTYPES.items()}[next(self.model.parameters()).dtype]
        eos, pad = self.eos_token_ids, self.tokenizer.pad_token_id
        self.engine = make_engine(kind, self.model, path=self.path, eos_ids=eos, pad_id=pad, dtype=dtype, **options)
        return self.engine

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def format_prompt(self, prompt: str) -> str:
        """The text the model sees: the chat template as one user turn when the tokenizer has one, else ``prompt``."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return prompt

    def prompt_token_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        """Raw prompts -> token ids of what the model sees (``format_prompt`` applied), one list per prompt."""
        if isinstance(prompts, str) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"prompts: expected a non-empty list of strings, got {type(prompts).__name__}")
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        texts = [self.format_prompt(p) for p in prompts]
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=not templated)["input_ids"]]

    def generate(
        self,
        prompts: Sequence[str],
        *,
        num_samples: int = 1,
        sampling: SamplingConfig | None = None,
        seed: int | None = None,
        seeds: Sequence[int] | None = None,
    ) -> Generation:
        """Sample ``num_samples`` responses to each raw prompt with the policy's rollout engine.

        Rows are prompt-major: row ``i * num_samples + g`` answers ``prompts[i]``. Tokens are drawn exactly from
        :func:`~hicra.agents.sampling.sampling_logprobs` (no hidden top-k) and ``Generation.logprobs`` holds the
        sampler's own log-probs. With ``seed`` the result is reproducible and the global torch RNG is untouched;
        with ``seeds`` (one per prompt) each prompt's samples are its own, whatever the other prompts of the call
        (``hicra eval`` results then do not depend on the batch size).
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples: expected an int >= 1, got {num_samples!r}")
        prompt_ids = self.prompt_token_ids(prompts)
        per_request = {} if seeds is None else {"seeds": list(seeds)}  # engines without it still take seed=
        completions = self.engine.generate(
            prompt_ids, num_samples=num_samples, sampling=sampling or SamplingConfig(), seed=seed, **per_request
        )
        return self._to_generation(prompt_ids, completions, num_samples)

    def _to_generation(self, prompt_ids: list[list[int]], completions: Completions, num_samples: int) -> Generation:
        rows = [p for p in prompt_ids for _ in range(num_samples)]
        prompt, prompt_mask = left_pad(rows, self.tokenizer.pad_token_id, self.device)
        n, width = len(rows), max(1, max(map(len, completions.token_ids)))
        response_ids = torch.full((n, width), self.tokenizer.pad_token_id, dtype=torch.long)
        logprobs = torch.zeros((n, width), dtype=torch.float32)
        for i, (ids, lps) in enumerate(zip(completions.token_ids, completions.logprobs)):
            response_ids[i, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
            logprobs[i, : len(lps)] = torch.as_tensor(lps, dtype=torch.float32)
        lengths = torch.tensor([len(ids) for ids in completions.token_ids])
        response_mask = torch.arange(width)[None, :] < lengths[:, None]
        response_ids, response_mask = response_ids.to(self.device), response_mask.to(self.device)
        return Generation(
            input_ids=torch.cat([prompt, response_ids], dim=1),
            attention_mask=torch.cat([prompt_mask, response_mask.long()], dim=1),
            prompt_length=prompt.shape[1],
            response_ids=response_ids,
            response_mask=response_mask,
            logprobs=logprobs.to(self.device),
            texts=self.tokenizer.batch_decode(response_ids, skip_special_tokens=True),
            prompt_index=torch.arange(len(prompt_ids), device=self.device).repeat_interleave(num_samples),
        )

    @torch.no_grad()
    def score(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        prompt_length: int,
        *,
        temperature: float,
        micro_batch_size: int,
    ) -> TokenScores:
        """:meth:`token_logprobs` with entropy, without grad, ``micro_batch_size`` rows at a time."""
        logps, ents = [], []
        for rows in torch.arange(input_ids.shape[0]).split(micro_batch_size):
            lp, ent = self.token_logprobs(
                input_ids[rows], attention_mask[rows], prompt_length, temperature=temperature, with_entropy=True
            )
            logps.append(lp)
            ents.append(ent)
        return TokenScores(torch.cat(logps), torch.cat(ents))

    def frozen_copy(self) -> Policy:
        """A copy of this policy whose weights never change and take no gradient (a KL reference).

        With LoRA adapters it is no copy: the same model with its adapters disabled, i.e. the frozen base.
        """
        if self.adapter is not None:
            reference = copy.copy(self)
            reference.scorer, reference.shares_model = WithoutAdapters(self.scorer, self.adapter), True
            return reference
        model = copy.deepcopy(self.model).eval().requires_grad_(False)
        return Policy(model, self.tokenizer, chunk_size=self.chunk_size)

    def token_logprobs(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        prompt_length: int,
        *,
        temperature: float = 1.0,
        with_entropy: bool = False,
        chunk_size: int | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Log-probs of the response tokens and entropies of the full next-token distributions.

        Args:
            input_ids, attention_mask: Long[N, P+T] as in :class:`Generation`.
            prompt_length: P; the response is columns ``P:``.
            temperature: logits are divided by it (use the sampling temperature for PPO ratios).
            with_entropy: also return the entropy of each full next-token distribution.
            chunk_size: tokens per LM-head chunk (default: the policy's ``chunk_size``).

        Returns:
            ``(logprobs [N, T], entropy [N, T] | None)``, float32, zero where ``attention_mask[:, P:]`` is 0;
            differentiable when grad is enabled.
        """
        _check_logprob_inputs(input_ids, attention_mask, prompt_length)
        return self.scorer(
            input_ids, attention_mask, prompt_length,
            temperature=temperature, with_entropy=with_entropy, chunk_size=chunk_size or self.chunk_size,
        )  # fmt: skip


def _check_logprob_inputs(input_ids: Tensor, attention_mask: Tensor, prompt_length: int) -> None:
    if input_ids.ndim != 2 or input_ids.shape != attention_mask.shape:
        raise ValueError(
            f"expected input_ids and attention_mask of the same shape [N, P+T], got "
            f"{tuple(input_ids.shape)} and {tuple(attention_mask.shape)}"
        )
    if not 1 <= prompt_length <= input_ids.shape[1]:
        raise ValueError(f"prompt_length must be in [1, {input_ids.shape[1]}], got {prompt_length}")


def _eos_ids(tokenizer, generation_config) -> list[int]:
    ids = {tokenizer.eos_token_id}
    extra = getattr(generation_config, "eos_token_id", None) if generation_config is not None else None
    ids.update(extra if isinstance(extra, list) else [extra] if extra is not None else [])
    return sorted(ids)


def _check_device(device: str | torch.device) -> torch.device:
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be like 'cpu' or 'cuda:0', got {device!r}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} requested but CUDA is not available: use device='cpu'")
    return device
