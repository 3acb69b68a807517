"""The TRL side of the throughput comparison: configure ``GRPOTrainer`` like our trainer, and time its optimiser
steps and the parts of each step.

TRL is not a project dependency and the benchmark never installs anything: it comes with the extra
``pip install 'hicra[bench]'``; without it :func:`import_trl` says so and the benchmark reports it.
"""

from __future__ import annotations

import importlib
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch

TRL_VERSION = "1.16.0"
TIMED_METHODS = {
    "_generate_and_score_completions": "rollout",
    "_generate_single_turn": "generate",
    "_calculate_rewards": "reward",
    "_compute_loss": "loss_forward",
}
"""GRPOTrainer methods wrapped with a clock -> the name of their time in the profile."""


def import_trl() -> tuple[object | None, str]:
    """``(trl module, "")``, or ``(None, what is missing and how to install it)``; never installs anything."""
    try:
        return importlib.import_module("trl"), ""
    except ImportError as err:
        return None, f"trl is not installed ({err}): install the benchmark extra, pip install 'hicra[bench]'"
    except Exception as err:  # an installed but broken trl: report it exactly
        return None, f"trl is installed but `import trl` failed: {type(err).__name__}: {err}"


def grpo_config(trl, out_dir: Path, *, steps: int, lr: float, group: int, prompts: int, micro: int, max_new: int):
    """A ``GRPOConfig`` doing what one ``Trainer.train_step`` does with the defaults of ``TrainConfig``.

    One optimiser step per generation batch of ``prompts x group`` completions, accumulated over micro-batches
    of ``micro``; PPO clip-higher 0.2 / 0.28, token-mean loss over the whole batch (``dapo``), group-centred
    rewards without std scaling, no KL and no reference model, constant learning rate, float32 on CPU, no
    gradient checkpointing, no logging, saving or evaluation.
    """
    if (group * prompts) % micro:
        raise ValueError(f"micro: expected a divisor of {group * prompts} completions per step, got {micro}")
    return trl.GRPOConfig(
        output_dir=str(out_dir), max_steps=steps, seed=0,
        per_device_train_batch_size=micro, gradient_accumulation_steps=group * prompts // micro,
        num_generations=group, max_completion_length=max_new, temperature=1.0, top_p=1.0, top_k=0,
        num_iterations=1, beta=0.0, epsilon=0.2, epsilon_high=0.28, loss_type="dapo", scale_rewards="none",
        learning_rate=lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        optim="adamw_torch", shuffle_dataset=False, use_cpu=True, bf16=False, fp16=False,
        gradient_checkpointing=False, report_to="none", save_strategy="no", eval_strategy="no",
        logging_steps=10**6, log_completions=False, dataloader_num_workers=0, disable_tqdm=True,
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
    """A ``TrainerCallback`` recording, per optimiser step, its wall time, the ``clock`` totals within it, and the
    mean completion length and reward TRL logged for it (read from ``callback.trainer`` once that is set); then
    it calls ``after_step(step index)``, outside the timed span (to interleave another trainer's steps)."""
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self) -> None:
            self.steps: list[dict[str, float]] = []
            self.trainer = None

        def on_step_begin(self, args, state, control, **kwargs):
            clock.totals.clear()
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            row = {"wall": time.perf_counter() - self.start, **clock.totals, "torch_threads": torch.get_num_threads()}
            logged = self.trainer._metrics["train"] if self.trainer is not None else {}
            for key, name in (("completions/mean_length", "response_length"), ("reward", "reward")):
                row[name] = logged[key][-1] if logged.get(key) else float("nan")
            self.steps.append(row)
            if after_step is not None:
                after_step(len(self.steps) - 1)

    return StepClock()


def run_trl(
    trl, model_path: str, rows: list[dict], reward_fn: Callable, out_dir: Path, after_step=None, **config
) -> dict:
    """Train with ``GRPOTrainer`` on ``rows`` (``{"prompt": text, "problem_id": id}``, in step order); returns the
    per-step rows of :func:`step_clock` (which calls ``after_step`` after each step)."""
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype="float32")
    args = grpo_config(trl, out_dir, **config)
    clock = MethodClock()
    steps = step_clock(clock, after_step)
    trainer = trl.GRPOTrainer(
        model=model, reward_funcs=[reward_fn], args=args, train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer, callbacks=[steps],
    )  # fmt: skip
    clock.wrap(trainer, TIMED_METHODS)
    steps.trainer = trainer
    start = time.perf_counter()
    trainer.train()
    return {
        "steps": steps.steps,
        "train_s": time.perf_counter() - start,
        "missing_methods": clock.missing,
        "trl_version": trl.__version__,
    }
