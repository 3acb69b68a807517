"""The LLM policy: load any causal LM, sample G responses per prompt, per-token log-probs and entropy.

``Policy.from_pretrained`` takes a Hugging Face name, a local directory, or a preset (``"tiny"``,
``"smollm2-135m-instruct"``, see :mod:`hicra.agents.presets`). Sampling uses ``model.generate`` with a KV cache;
log-probs go through :func:`hicra.agents.logprobs.chunked_logprobs` so the full ``[N, L, V]`` logits never exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from .logprobs import chunked_logprobs
from .presets import resolve_model

logger = logging.getLogger(__name__)

Dtype = Literal["float32", "bfloat16", "float16"]
_DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class SamplingConfig:
    """How responses are sampled."""

    temperature: float = 1.0
    """Softmax temperature, >= 0; 0 means greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling mass, in (0, 1]; 1 disables it."""
    max_new_tokens: int = 256
    """Longest response in tokens, >= 1; a response that hits it is cut without EOS."""

    def __post_init__(self) -> None:
        if not (isinstance(self.temperature, int | float) and 0 <= self.temperature < float("inf")):
            raise ValueError(f"SamplingConfig.temperature must be a finite number >= 0, got {self.temperature!r}")
        if not (isinstance(self.top_p, int | float) and 0 < self.top_p <= 1):
            raise ValueError(f"SamplingConfig.top_p must be in (0, 1], got {self.top_p!r}")
        if isinstance(self.max_new_tokens, bool) or not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ValueError(f"SamplingConfig.max_new_tokens must be an int >= 1, got {self.max_new_tokens!r}")


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

    def __init__(self, model, tokenizer, *, chunk_size: int = 1024) -> None:
        from transformers import GenerationConfig

        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if tokenizer.eos_token_id is None:
            raise ValueError("the tokenizer has no eos_token: set tokenizer.eos_token so responses can stop")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        self.model, self.tokenizer, self.chunk_size = model, tokenizer, chunk_size
        self.eos_token_ids = _eos_ids(tokenizer, model.generation_config)
        # A clean generation config: no model-shipped top-k / repetition penalty, so sampling follows
        # softmax(logits / T) with top-p exactly and matches token_logprobs.
        model.generation_config = GenerationConfig(
            eos_token_id=self.eos_token_ids, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id
        )

    @classmethod
    def from_pretrained(
        cls, name_or_path: str, *, device: str | torch.device = "cpu", dtype: Dtype = "float32", chunk_size: int = 1024
    ) -> Policy:
        """Load a preset name (``"tiny"``, ``"smollm2-135m-instruct"``), a local directory or a hub id."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        device = _check_device(device)
        path = resolve_model(name_or_path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=_DTYPES[dtype])
        except OSError as err:
            raise ValueError(f"could not load a causal LM from {name_or_path!r}: {err}") from err
        model.to(device).eval()
        logger.info("loaded %s (%s, %s) on %s", name_or_path, type(model).__name__, dtype, device)
        return cls(model, tokenizer, chunk_size=chunk_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def format_prompt(self, prompt: str) -> str:
        """The text the model sees: the chat template as one user turn when the tokenizer has one, else ``prompt``."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return prompt

    def encode_prompts(self, prompts: Sequence[str]) -> dict[str, Tensor]:
        """Raw prompts -> left-padded ``input_ids`` / ``attention_mask`` Long[B, P] (``format_prompt`` applied)."""
        if isinstance(prompts, str) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise ValueError(f"prompts must be a non-empty list of strings, got {type(prompts).__name__}")
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        texts = [self.format_prompt(p) for p in prompts]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not templated)
        return {"input_ids": enc["input_ids"].to(self.device), "attention_mask": enc["attention_mask"].to(self.device)}

    @torch.no_grad()
    def generate(
        self,
        prompts: Sequence[str],
        *,
        num_samples: int = 1,
        sampling: SamplingConfig | None = None,
        seed: int | None = None,
    ) -> Generation:
        """Sample ``num_samples`` responses to each raw prompt (``format_prompt`` is applied here).

        Rows are prompt-major: row ``i * num_samples + g`` answers ``prompts[i]``. With ``seed`` the result is
        reproducible and the global torch RNG is left untouched.
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be an int >= 1, got {num_samples!r}")
        sampling = sampling or SamplingConfig()
        enc = self.encode_prompts(prompts)
        num_prompts = enc["input_ids"].shape[0]
        # Expanded here rather than with num_return_sequences, which greedy decoding rejects.
        enc = {key: value.repeat_interleave(num_samples, dim=0) for key, value in enc.items()}
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices, enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            sequences = self.model.generate(**enc, **self._generate_kwargs(sampling))
        return self._to_generation(enc, sequences, num_prompts, num_samples)

    def _generate_kwargs(self, sampling: SamplingConfig) -> dict:
        greedy = sampling.temperature == 0
        kwargs = {"max_new_tokens": sampling.max_new_tokens, "use_cache": True}
        if greedy:
            return {**kwargs, "do_sample": False}
        return {**kwargs, "do_sample": True, "temperature": float(sampling.temperature), "top_p": sampling.top_p}

    def _to_generation(
        self, enc: dict[str, Tensor], sequences: Tensor, num_prompts: int, num_samples: int
    ) -> Generation:
        prompt_length = enc["input_ids"].shape[1]
        response_ids = sequences[:, prompt_length:]
        response_mask = response_mask_from_eos(response_ids, self.eos_token_ids)
        response_ids = response_ids.masked_fill(~response_mask, self.tokenizer.pad_token_id)
        prompt_ids, prompt_mask = enc["input_ids"], enc["attention_mask"]
        return Generation(
            input_ids=torch.cat([prompt_ids, response_ids], dim=1),
            attention_mask=torch.cat([prompt_mask, response_mask.long()], dim=1),
            prompt_length=prompt_length,
            response_ids=response_ids,
            response_mask=response_mask,
            texts=self.tokenizer.batch_decode(response_ids, skip_special_tokens=True),
            prompt_index=torch.arange(num_prompts, device=sequences.device).repeat_interleave(num_samples),
        )

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
        position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        out = self.model.base_model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        )
        hidden = out.last_hidden_state[:, prompt_length - 1 : -1]
        targets = input_ids[:, prompt_length:]
        valid = attention_mask[:, prompt_length:].bool()
        logp, ent = chunked_logprobs(
            hidden[valid],
            targets[valid],
            self.model.get_output_embeddings(),
            temperature=temperature,
            with_entropy=with_entropy,
            chunk_size=chunk_size or self.chunk_size,
        )
        return _scatter(logp, valid), (_scatter(ent, valid) if ent is not None else None)


def _scatter(values: Tensor, mask: Tensor) -> Tensor:
    """values [M] into zeros shaped like Bool mask [N, T] (M = mask.sum()), differentiably."""
    return torch.zeros(mask.shape, dtype=values.dtype, device=values.device).masked_scatter(mask, values)


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
