"""One comparison of the TRL benchmark, in this process: our ``Trainer`` and TRL's ``GRPOTrainer`` taking turns.

    python -m hicra.benchmarks.perf.trl_pair --comparison '{"name": "x", "ours": "vllm", "trl": "hf"}' --out x.json

Both sides train the same model from the same weights on hicra/Arithmetic-v0 on CPU: the same prompts in the same
order (``hicra.agents.seeds.draw_problems``, as ``Trainer`` draws them; for TRL formatted with
``Policy.format_prompt`` and passed as plain-text prompts so the token inputs match), ``prompts x group``
completions per optimiser step, at most ``max_new`` new tokens, temperature 1, top-p 1, no top-k, one update per
step accumulated over micro-batches, learning rate 1e-4, the same reward (the env's verifier). Our warm-up steps
run first, then TRL's (after it is built); then each timed TRL step is followed by one of ours (a callback), so a
machine whose speed drifts slows both alike. :mod:`.bench_trl` runs each comparison in a fresh process: vLLM's
state is process-global, and an engine makes ``torch.set_num_threads`` a no-op.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import gymnasium as gym

from hicra.agents import Policy, TrainConfig, Trainer, make_agent
from hicra.agents.presets import resolve_model
from hicra.agents.seeds import draw_problems

from .timing import machine, set_threads, start_verifier_pool
from .trl_side import MethodClock, TrlGeneration, import_trl, run_trl


@dataclass(frozen=True)
class Comparison:
    """One pairing: our engine against one TRL generation mode, on one model and batch shape."""

    name: str
    ours: Literal["hf", "vllm", "none"] = "hf"
    """Our rollout engine; ``none`` runs TRL alone (to record how it fails)."""
    trl: TrlGeneration = "hf"
    model: str = "tiny"
    prompts: int = 8
    group: int = 8
    max_new: int = 48
    micro: int = 16
    micro_tokens: int | None = None
    """hicra's micro-batches by token budget (``train.micro_batch_tokens``) instead of ``micro`` rows; TRL keeps
    ``micro`` rows (it has no token budget)."""
    steps: int = 20
    """Timed optimiser steps per side."""
    warmup: int = 2
    """Untimed first steps per side."""
    kv_cache_gib: float = 1.0
    """KV cache of each vLLM engine on CPU, GiB."""


def problem_rows(env, policy: Policy, seed: int, steps: int, prompts: int) -> list[dict[str, str]]:
    """The prompts ``Trainer`` draws at steps ``0..steps-1``, in order, as TRL dataset rows."""
    rows = []
    for step in range(steps):
        raw, ids = draw_problems(env, seed, step, prompts)
        rows += [{"prompt": policy.format_prompt(p), "problem_id": i} for p, i in zip(raw, ids, strict=True)]
    return rows


def correctness_reward(env):
    """A TRL reward function: the env's verifier reward of each completion (1.0 when correct)."""

    def correctness(prompts, completions, problem_id, **kwargs) -> list[float]:
        rewards, _ = env.get_wrapper_attr("evaluate")(list(problem_id), list(completions))
        return [float(r) for r in rewards]

    return correctness


class OurSide:
    """Our ``Trainer`` for ``comparison``, with the engine's weight push timed apart from the update."""

    def __init__(self, comparison: Comparison, seed: int) -> None:
        c = comparison
        self.config = TrainConfig(
            model=c.model, engine="hf" if c.ours == "none" else c.ours, steps=c.warmup + c.steps, seed=seed,
            prompts_per_step=c.prompts, group_size=c.group, max_new_tokens=c.max_new, micro_batch_size=c.micro,
            micro_batch_tokens=c.micro_tokens, vllm_kv_cache_gib=c.kv_cache_gib,
        )  # fmt: skip
        self.trainer = Trainer(make_agent("grpo"), self.config)
        self.clock = MethodClock()
        self.clock.wrap(self.trainer.policy.engine, {"load_weights": "weight_push_s"})
        self.timed: list[dict[str, float]] = []

    def step(self) -> dict[str, float]:
        """One ``train_step``: its wall time and where it went (seconds), mean response length and reward."""
        self.clock.totals.clear()
        start = time.perf_counter()
        m = self.trainer.train_step()
        wall, push = time.perf_counter() - start, self.clock.totals.get("weight_push_s", 0.0)
        return {
            "wall_s": wall, "generate_s": m.time_generate, "verify_s": m.time_verify,
            "logprobs_and_mask_s": m.time_mask + m.time_score, "update_s": m.time_update - push,
            "weight_push_s": push, "response_tokens": m.response_length, "reward_mean": m.reward,
        }  # fmt: skip


def _failure(what: str) -> dict[str, str]:
    """The exception being handled: its last line exactly, the frames it passed through, and the traceback."""
    text, err = traceback.format_exc(), sys.exc_info()[1]
    frames = [f"{f.name} ({Path(f.filename).name}:{f.lineno})" for f in traceback.extract_tb(sys.exc_info()[2])]
    return {"what": what, "error": text.strip().splitlines()[-1], "call_chain": " -> ".join(frames),
            "completed_steps": getattr(err, "completed_steps", None), "traceback": text}  # fmt: skip


def run_pair(comparison: Comparison, *, seed: int = 0, threads: int = 2) -> dict:
    """Run ``comparison``: our warm-up steps, TRL's, then TRL's and ours taking turns. Returns the timed rows."""
    c = comparison
    set_threads(threads)  # before any vLLM engine exists: afterwards set_num_threads is a no-op on CPU
    out: dict = {"comparison": asdict(c), "machine": machine(), "failed": None, "ours": {"timed": []}, "trl": None}
    ours = OurSide(c, seed) if c.ours != "none" else None
    start_verifier_pool()
    for _ in range(c.warmup if ours else 0):
        ours.step()
    trl, missing = import_trl()
    if trl is None:
        out["failed"] = {"what": "import trl", "error": missing, "call_chain": "", "traceback": ""}
    else:
        out["trl"], out["failed"] = _run_trl_side(trl, c, ours, seed)
    while ours is not None and len(ours.timed) < c.steps:  # all of them when TRL did not run
        ours.timed.append(ours.step())
    out["ours"]["timed"] = ours.timed if ours else []
    out["machine_after"] = machine()
    return out


def _run_trl_side(trl, c: Comparison, ours: OurSide | None, seed: int) -> tuple[dict | None, dict | None]:
    env = gym.make("hicra/Arithmetic-v0")
    policy = ours.trainer.policy if ours else Policy.from_pretrained(c.model)
    rows = problem_rows(env, policy, seed, c.warmup + c.steps, c.prompts)

    def ours_in_turn(trl_step: int) -> None:
        if ours is not None and trl_step >= c.warmup:
            ours.timed.append(ours.step())

    shape = {"group": c.group, "prompts": c.prompts, "micro": c.micro, "max_new": c.max_new, "lr": 1e-4}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_trl(trl, resolve_model(c.model), rows, correctness_reward(env), Path(tmp),
                             after_step=ours_in_turn, steps=c.warmup + c.steps, generation=c.trl, **shape)  # fmt: skip
    except Exception:
        return None, _failure(f"GRPOTrainer (trl {getattr(trl, '__version__', '?')}, generation {c.trl!r})")
    return {**result, "timed": result["steps"][c.warmup :]}, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparison", required=True, help="a Comparison as JSON")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    result = run_pair(Comparison(**json.loads(args.comparison)), threads=args.threads)
    from .report import _jsonable

    args.out.write_text(json.dumps(_jsonable(result), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
