"""Training throughput against Hugging Face TRL's ``GRPOTrainer``: same model, prompts, reward and batch shape.

    python -m hicra.benchmarks.perf.bench_trl [--steps 20] [--warmup 2] [--threads 2] [--out runs/bench]

Both sides train the tiny policy from the same weights on hicra/Arithmetic-v0 on CPU, in one process: the same
prompts in the same order (``hicra.agents.seeds.draw_problems``, as ``Trainer`` draws them; for TRL
formatted with ``Policy.format_prompt`` and passed as plain-text prompts so the token inputs match), 8 prompts x
8 completions per optimiser step, at most 48 new tokens, temperature 1, one update per step accumulated over
micro-batches of 16, learning rate 1e-4, the same reward (the env's verifier). TRL (``trl==1.16.0``, from the extra
``pip install 'hicra[bench]'``; the benchmark never installs anything) is configured by :func:`.trl_side.grpo_config`.

Timing: ``warmup`` steps of each side are discarded, then ``steps`` optimiser steps each, taking turns (after
each timed TRL step a callback runs one of ours), so a machine whose speed drifts slows both alike. Reported:
median seconds per step, our steps/s over TRL's (target >= 1.0x, goal 1.5x) from the medians, from the pairs
(median of TRL step / our next step) and from the fastest steps, where each step's time goes (ours:
``StepMetrics`` timings; TRL: its rollout, generation, reward and loss-forward methods wrapped with a clock), and
generated tokens/s (the two sides' responses differ in length once their samples do).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import gymnasium as gym

from hicra.agents import Policy, TrainConfig, Trainer, make_agent
from hicra.agents.presets import resolve_model
from hicra.agents.seeds import draw_problems

from .report import BenchResult, finish, md_table
from .timing import machine, machine_note, set_threads, start_verifier_pool
from .trl_side import TRL_VERSION, import_trl, run_trl

TARGET, GOAL = 1.0, 1.5


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


def run_ours(trainer: Trainer, steps: int) -> list[dict[str, float]]:
    """``steps`` calls of ``train_step`` with their wall time and ``StepMetrics`` timings."""
    rows = []
    for _ in range(steps):
        start = time.perf_counter()
        m = trainer.train_step()
        rows.append({
            "wall": time.perf_counter() - start, "generate": m.time_generate, "verify": m.time_verify,
            "logprobs_and_mask": m.time_mask + m.time_score, "update_and_metrics": m.time_update,
            "response_length": m.response_length, "reward": m.reward,
        })  # fmt: skip
    return rows


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r.get(key, 0.0) for r in rows) for key in rows[0]} if rows else {}


def run(steps: int = 20, warmup: int = 2, threads: int = 2, seed: int = 0) -> BenchResult:
    """Our warm-up steps, then TRL's warm-up steps, then TRL and our steps taking turns (``steps`` each)."""
    set_threads(threads)
    config = TrainConfig(steps=warmup + steps, seed=seed)
    shape = {"group": config.group_size, "prompts": config.prompts_per_step, "micro": config.micro_batch_size,
             "max_new": config.max_new_tokens, "lr": config.lr}  # fmt: skip
    trainer = Trainer(make_agent("grpo"), config)
    start_verifier_pool()
    results: dict = {"machine": machine(), "steps": steps, "warmup": warmup, "config": shape, "failed": None}
    run_ours(trainer, warmup)
    ours: list[dict[str, float]] = []
    trl, failure = import_trl()
    if trl is not None:
        env = gym.make(config.env_id)
        rows = problem_rows(env, trainer.policy, seed, warmup + steps, config.prompts_per_step)

        def ours_in_turn(trl_step: int) -> None:
            if trl_step >= warmup:
                ours.extend(run_ours(trainer, 1))

        try:
            with tempfile.TemporaryDirectory() as tmp:
                out = run_trl(trl, resolve_model(config.model), rows, correctness_reward(env), Path(tmp),
                              after_step=ours_in_turn, steps=warmup + steps, **shape)  # fmt: skip
            results["trl"] = {**out, "timed": out["steps"][warmup:]}
        except Exception:
            failure = f"GRPOTrainer (trl {getattr(trl, '__version__', '?')}) failed:\n{traceback.format_exc()}"
    results["failed"] = failure or None
    ours.extend(run_ours(trainer, steps - len(ours)))  # all of them when TRL did not run
    results["ours"] = {"timed": ours}
    results["summary"] = _summary(results)
    return BenchResult("trl", results, _markdown(results))


def _summary(results: dict) -> dict:
    n = results["config"]["group"] * results["config"]["prompts"]
    ours = _medians(results["ours"]["timed"])
    out = {"ours": ours, "ours_steps_per_s": 1 / ours["wall"]}
    out["ours_tokens_per_s"] = n * ours["response_length"] / ours["wall"]
    if "trl" in results and results["trl"]["timed"]:
        trl = _medians(results["trl"]["timed"])
        trl["backward_optimizer_other"] = trl["wall"] - trl.get("rollout", 0.0) - trl.get("loss_forward", 0.0)
        out.update(trl=trl, trl_steps_per_s=1 / trl["wall"], speedup=trl["wall"] / ours["wall"])
        pairs = zip(results["trl"]["timed"], results["ours"]["timed"])
        out["speedup_paired"] = statistics.median(t["wall"] / o["wall"] for t, o in pairs)
        fastest = {side: min(r["wall"] for r in results[side]["timed"]) for side in ("trl", "ours")}
        out["speedup_fastest"] = fastest["trl"] / fastest["ours"]
        out["trl_tokens_per_s"] = n * trl["response_length"] / trl["wall"]
        out["speedup_tokens_per_s"] = out["ours_tokens_per_s"] / out["trl_tokens_per_s"]
    return out


def _markdown(results: dict) -> str:
    s, cfg = results["summary"], results["config"]
    lines = [
        f"# Training throughput: hicra Trainer vs TRL GRPOTrainer ({TRL_VERSION})",
        "",
        f"Tiny policy, hicra/Arithmetic-v0, {cfg['prompts']} prompts x {cfg['group']} completions per optimiser "
        f"step, <= {cfg['max_new']} new tokens, micro-batch {cfg['micro']}, lr {cfg['lr']}, CPU; median of "
        f"{results['steps']} steps per side after {results['warmup']} warm-up steps.",
        "",
    ]
    if results["failed"]:
        lines += ["**TRL did not run**; what failed:", "", "```", results["failed"].strip(), "```", ""]
    o = s["ours"]
    rows = [["hicra Trainer", f"{o['wall']:.3f}", f"{s['ours_steps_per_s']:.3f}", f"{o['response_length']:.1f}",
             f"{s['ours_tokens_per_s']:,.0f}"]]  # fmt: skip
    if "trl" in s:
        t = s["trl"]
        rows.append(["TRL GRPOTrainer", f"{t['wall']:.3f}", f"{s['trl_steps_per_s']:.3f}",
                     f"{t['response_length']:.1f}", f"{s['trl_tokens_per_s']:,.0f}"])  # fmt: skip
    lines += [md_table(["trainer", "s / step", "steps / s", "response tokens", "generated tokens / s"], rows), ""]
    if "trl" in s:
        verdict = "goal met" if s["speedup"] >= GOAL else "target met" if s["speedup"] >= TARGET else "target NOT met"
        lines += [
            f"**Ours / TRL steps per second: {s['speedup']:.2f}x** ({verdict}; target >= {TARGET}x, goal {GOAL}x). "
            f"Median of the step pairs: {s['speedup_paired']:.2f}x; fastest step each: {s['speedup_fastest']:.2f}x; "
            f"per generated token: {s['speedup_tokens_per_s']:.2f}x.",
            "",
        ]
    lines += [
        "Where a step's time goes (medians, seconds):",
        "",
        _profile_table(s),
        "",
        machine_note(results["machine"]),
    ]
    return "\n".join(lines)


def _profile_table(s: dict) -> str:
    o = s["ours"]
    rows = [
        ["hicra", "generate", f"{o['generate']:.3f}"],
        ["hicra", "verify (reward)", f"{o['verify']:.3f}"],
        ["hicra", "old log-probs + entropy (no grad) + planning mask", f"{o['logprobs_and_mask']:.3f}"],
        ["hicra", "update (forward + backward + optimiser) + rollout metrics", f"{o['update_and_metrics']:.3f}"],
        ["hicra", "total step", f"{o['wall']:.3f}"],
    ]
    if "trl" in s:
        t = s["trl"]
        rows += [
            ["TRL", "_generate_and_score_completions (rollout, all of it)", f"{t.get('rollout', 0.0):.3f}"],
            ["TRL", "  of which generate (_generate_single_turn)", f"{t.get('generate', 0.0):.3f}"],
            ["TRL", "  of which reward (_calculate_rewards)", f"{t.get('reward', 0.0):.3f}"],
            ["TRL", "loss forward (_compute_loss, all micro-batches)", f"{t.get('loss_forward', 0.0):.3f}"],
            ["TRL", "backward + optimiser + other (the rest)", f"{t['backward_optimizer_other']:.3f}"],
            ["TRL", "total step", f"{t['wall']:.3f}"],
        ]
    return md_table(["trainer", "part", "seconds"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed optimiser steps per side (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps per side (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for trl.json and trl.md")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        parser.error(f"expected --steps >= 1 and --warmup >= 0, got {args.steps} and {args.warmup}")
    return finish(args.out, run(args.steps, args.warmup, args.threads))


if __name__ == "__main__":
    raise SystemExit(main())
