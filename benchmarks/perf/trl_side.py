"""The TRL side of the throughput comparison: configure ``GRPOTrainer`` like our trainer, and time its optimiser
steps and the parts of each step.

TRL is not a project dependency and the benchmark never installs anything: it comes with the extra
``pip install 'hicra[bench]'``; without it :func:`import_trl` says so and the benchmark reports it.

TRL generates either with transformers ``generate`` (its default, ``generation="hf"``) or with its own colocated
vLLM engine (``use_vllm=True, vllm_mode="colocate"``); on CPU the latter needs the patches of :mod:`.trl_vllm`.
"""

from __future__ import annotations

import importlib
import os
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch

TRL_VERSION = "1.16.0"
TrlGeneration = Literal["hf", "vllm", "vllm-unpatched"]
"""``hf``: transformers ``generate`` (TRL's default); ``vllm``: TRL's colocated vLLM with our CPU patches
(:func:`.trl_vllm.patch_for_cpu`); ``vllm-unpatched``: TRL's colocated vLLM exactly as shipped."""

TIMED_METHODS = {
    "_generate_and_score_completions": "rollout_s",
    "_generate_single_turn": "generate_s",
    "_calculate_rewards": "reward_fn_s",
    "_compute_loss": "loss_forward_s",
}
"""GRPOTrainer methods wrapped with a clock -> the key of their time (seconds) in a step's row."""
LOGGED = {"completions/mean_length": "response_tokens", "reward": "reward_mean"}
"""TRL's logged metrics copied into a step's row -> their key there (not times: a length and a mean reward)."""


def import_trl() -> tuple[object | None, str]:
    """``(trl module, "")``, or ``(None, what is missing and how to install it)``; never installs anything."""
    try:
        return importlib.import_module("trl"), ""
    except ImportError as err:
        return None, f"trl is not installed ({err}): install the benchmark extra, pip install 'hicra[bench]'"
    except Exception as err:  # an installed but broken trl: report it exactly
        return None, f"trl is installed but `import trl` failed: {type(err).__name__}: {err}"


def grpo_config(
    trl, out_dir: Path, *, steps: int, lr: float, group: int, prompts: int, micro: int, max_new: int,
    generation: TrlGeneration = "hf", vllm_memory: float = 0.1,
):  # fmt: skip
    """A ``GRPOConfig`` doing what one ``Trainer.train_step`` does with the same ``TrainConfig`` values.

    One optimiser step per generation batch of ``prompts x group`` completions, accumulated over micro-batches
    of ``micro``; PPO clip-higher 0.2 / 0.28, token-mean loss over the whole batch (``dapo``), group-centred
    rewards without std scaling, no KL and no reference model, constant learning rate, float32 on CPU, no
    gradient checkpointing, no logging, saving or evaluation. With vLLM generation: colocated in this process,
    TRL's default truncated importance-sampling correction, no sleep mode (a no-op on CPU).
    """
    if (group * prompts) % micro:
        raise ValueError(f"micro: expected a divisor of {group * prompts} completions per step, got {micro}")
    vllm = {} if generation == "hf" else {
        "use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": vllm_memory,
        "vllm_enable_sleep_mode": False,
    }  # fmt: skip
    return trl.GRPOConfig(
        output_dir=str(out_dir), max_steps=steps, seed=0,
        per_device_train_batch_size=micro, gradient_accumulation_steps=group * prompts // micro,
        num_generations=group, max_completion_length=max_new, temperature=1.0, top_p=1.0, top_k=0,
        num_iterations=1, beta=0.0, epsilon=0.2, epsilon_high=0.28, loss_type="dapo", scale_rewards="none",
        learning_rate=lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", shuffle_dataset=False, use_cpu=True, bf16=False, fp16=False,
        gradient_checkpointing=False, report_to="none", save_strategy="no", eval_strategy="no",
        logging_steps=10**6, log_completions=False, dataloader_num_workers=0, disable_tqdm=True, **vllm,
    )  # fmt: skip


class MethodClock:
    """Wraps methods of an object so each call adds its duration to ``totals[name]``."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.missing: list[str] = []

    def wrap(self, obj: object, methods: dict[str, str]) -> None:
        for attr, name in methods.items():
            fn = getattr(obj, attr, None)
            if fn is None:
                self.missing.append(attr)
                continue
            setattr(obj, attr, self._timed(fn, name))

    def _timed(self, fn: Callable, name: str) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.totals[name] += time.perf_counter() - start

        return timed


def step_clock(clock: MethodClock, after_step: Callable[[int], None] | None = None):
    """A ``TrainerCallback`` recording, per optimiser step, its wall time (``wall_s``), the ``clock`` totals within
    it, and the mean completion length and reward TRL logged for it (read from ``callback.trainer`` once that is
    set); then it calls ``after_step(step index)``, outside the timed span (to interleave another trainer's steps)."""
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.steps: list[dict[str, float]] = []
            self.trainer = None

        def on_step_begin(self, args, state, control, **kwargs):
            clock.totals.clear()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            row = {"wall_s": time.perf_counter() - self.start, **clock.totals}
            logged = self.trainer._metrics["train"] if self.trainer is not None else {}
            for key, name in LOGGED.items():
                row[name] = logged[key][-1] if logged.get(key) else float("nan")
            self.steps.append(row)
            if after_step is not None:
                after_step(len(self.steps) - 1)

    return StepClock()


def build_trainer(trl, model_path: str, rows: list[dict], reward_fn: Callable, args, callbacks: list):
    """``GRPOTrainer`` on ``rows`` (``{"prompt": text, "problem_id": id}``, in step order) from ``model_path``."""
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype="float32")
    return trl.GRPOTrainer(
        model=model, reward_funcs=[reward_fn], args=args, train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer, callbacks=callbacks,
    )  # fmt: skip


def run_trl(
    trl, model_path: str, rows: list[dict], reward_fn: Callable, out_dir: Path, after_step=None,
    generation: TrlGeneration = "hf", **config,
) -> dict:  # fmt: skip
    """Train with ``GRPOTrainer`` on ``rows``; returns the per-step rows of :func:`step_clock` (which calls
    ``after_step`` after each step). ``generation`` picks TRL's generator (see :data:`TrlGeneration`)."""
    from . import trl_vllm

    if generation != "hf":  # TRL sizes its engine's KV cache from a share of RAM minus what the process uses
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB, as vLLM documents for CPU
    args = grpo_config(trl, out_dir, generation=generation, **config)
    clock = MethodClock()
    steps = step_clock(clock, after_step)
    with trl_vllm.float32_engine(generation == "vllm"):
        trainer = build_trainer(trl, model_path, rows, reward_fn, args, [steps])
    if generation == "vllm":
        trl_vllm.patch_for_cpu(trainer)
    clock.wrap(trainer, TIMED_METHODS)
    if generation != "hf":
        clock.wrap(trainer.vllm_generation, {"sync_weights": "weight_sync_s"})
    steps.trainer = trainer
    start = time.perf_counter()
    try:
        trainer.train()
    except Exception as err:
        err.completed_steps = len(steps.steps)  # type: ignore[attr-defined]  (read by the report)
        raise
    return {
        "steps": steps.steps,
        "train_s": time.perf_counter() - start,
        "missing_methods": clock.missing,
        "trl_version": trl.__version__,
        "torch_threads": torch.get_num_threads(),
    }
