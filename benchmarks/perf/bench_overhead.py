"""HICRA's step-time overhead over GRPO (target <= 3%), measured on identical rollout batches.

    python -m hicra.benchmarks.perf.bench_overhead [--envs hicra/Arithmetic-v0,hicra/WorkBackwards-v0]
        [--batches 2] [--reps 6] [--steps 4] [--threads 2] [--out runs/bench]

The agents differ only in credit assignment: HICRA's ``credit_mask`` returns the planning mask, which
``hicra_advantages`` amplifies. The planning mask itself is computed in ``Trainer.rollout`` for every agent (the
logged metrics need it), so it is not HICRA's cost; its share of the step is reported on its own. Per env, with
the tiny policy (warm-started on Arithmetic; on other envs its texts serve for timing all the same):

1. Shared rollout: ``batches`` batches from ``Trainer.rollout`` (generate, verify, old log-probs and entropy,
   planning mask); the planning mask and ``rollout_metrics`` are then timed on their own.
2. Controlled phase: on the same batch each agent runs ``credit`` + ``Trainer.update`` from the same
   model and optimiser state (restored before every run), the agents alternating, ``reps`` times per batch.
3. HICRA's extra work exactly: ``credit`` alone, many calls per agent.
4. Full steps: two trainers from the same weights and seed run ``train_step`` in turn (``steps`` each after a
   warm-up). Response lengths drift apart once HICRA's updates differ, so these are reported, not used.

Step time of an agent = median rollout + median ``rollout_metrics`` + median phase of that agent; the overhead is
(hicra - grpo) / grpo step time, from the paired phase differences and, tighter, from the advantage timings.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from hicra.agents import Policy, TrainConfig, Trainer, make_agent
from hicra.agents.planning import planning_ratio
from hicra.agents.records import UpdateResult, step_metrics
from hicra.agents.rollout import TokenScores

from .report import BenchResult, finish, md_table, ms, pct
from .timing import interleaved, machine, machine_note, per_call, set_threads, start_verifier_pool, summary

ENVS = ("hicra/Arithmetic-v0", "hicra/WorkBackwards-v0")
AGENTS = ("grpo", "hicra")
TARGET = 0.03


def _snapshot(trainer: Trainer) -> tuple[dict, dict]:
    model = {k: v.detach().clone() for k, v in trainer.policy.model.state_dict().items()}
    return model, copy.deepcopy(trainer.optimizer.state_dict())


def _restore(trainer: Trainer, snapshot: tuple[dict, dict]) -> None:
    trainer.policy.model.load_state_dict(snapshot[0])
    trainer.optimizer.load_state_dict(snapshot[1])


def _metrics(trainer: Trainer, batch) -> None:
    """The step's metrics from a rollout (scores and credit as the update would give them)."""
    scores = TokenScores(torch.zeros_like(batch.sampler_logprobs), torch.zeros_like(batch.sampler_logprobs))
    credit = trainer.agent.credit(batch, torch.Generator().manual_seed(0))
    update = UpdateResult(loss=0.0, clip_frac=0.0, grad_norm=0.0, skipped=False, scores=scores)
    step_metrics(0, batch, credit, update, trainer.grams, perplexity0=None, tis_cap=2.0, timings={})


def shared_rollouts(trainer: Trainer, batches: int) -> tuple[list, dict]:
    """``batches`` rollout batches (distinct problems) and the median time of each rollout part."""
    out, parts = [], {"generate": [], "verify": [], "logprobs_and_mask": [], "planning_mask": [], "metrics": []}
    for i in tqdm(range(batches), desc="rollouts", leave=False):
        trainer.step, timings = i, {}
        batch = trainer.rollout(timings)
        mask = lambda b=batch: trainer.grams.token_mask(  # noqa: E731
            trainer.policy.tokenizer, b.response_ids, b.response_mask, texts=b.texts
        )
        parts["generate"].append(timings["generate"])
        parts["verify"].append(timings["verify"])
        parts["logprobs_and_mask"].append(timings["mask"])
        parts["planning_mask"].append(statistics.median(per_call(mask, 1) for _ in range(5)))
        parts["metrics"].append(statistics.median(per_call(lambda b=batch: _metrics(trainer, b), 1)
                                                  for _ in range(5)))  # fmt: skip
        out.append(batch)
    trainer.step = 0
    return out, {name: statistics.median(values) for name, values in parts.items()}


def controlled_phase(trainer: Trainer, agents: dict, batches: list, reps: int) -> dict[str, list[float]]:
    """Seconds of ``credit`` + ``update`` per agent on each batch from one saved state, alternating."""
    snapshot = _snapshot(trainer)
    times: dict[str, list[float]] = {name: [] for name in agents}
    runs = [(r, b) for r in range(reps) for b in range(len(batches))]
    for r, b in tqdm(runs, desc="advantages + update", leave=False):
        order = list(agents) if (r + b) % 2 == 0 else list(agents)[::-1]
        for name in order:
            _restore(trainer, snapshot)
            trainer.agent = agents[name]
            start = time.perf_counter()
            credit = agents[name].credit(batches[b], torch.Generator().manual_seed(0))
            trainer.update(batches[b], credit)
            times[name].append(time.perf_counter() - start)
    _restore(trainer, snapshot)
    return times


def advantage_cost(agents: dict, batches: list, calls: int = 50, reps: int = 7) -> dict[str, float]:
    """Median seconds of one ``credit`` call per agent (``calls`` calls per timing, agents in turn)."""
    gen = torch.Generator().manual_seed(0)
    variants = {name: (lambda a=agent: [a.credit(b, gen) for b in batches]) for name, agent in agents.items()}
    times = interleaved({name: (lambda f=f: per_call(f, calls)) for name, f in variants.items()}, reps)
    return {name: statistics.median(t) / (calls * len(batches)) for name, t in times.items()}


def full_steps(base: Policy, config: TrainConfig, steps: int) -> dict:
    """Alternating ``train_step`` of a GRPO and a HICRA trainer from the same weights (one warm-up step each)."""
    trainers = {
        name: Trainer(make_agent(name), config, policy=Policy(copy.deepcopy(base.model), base.tokenizer))
        for name in AGENTS
    }
    rows: dict[str, list[dict]] = {name: [] for name in AGENTS}
    for s in tqdm(range(steps + 1), desc="full steps", leave=False):
        for name in AGENTS if s % 2 == 0 else AGENTS[::-1]:
            start = time.perf_counter()
            m = trainers[name].train_step()
            wall = time.perf_counter() - start
            if s > 0:
                rows[name].append({"wall": wall, "generate": m.time_generate, "verify": m.time_verify,
                                   "logprobs": m.time_mask + m.time_score, "update": m.time_update,
                                   "response_length": m.response_length})  # fmt: skip
    return {name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for name, rs in rows.items()}


def measure_env(env_id: str, batches: int, reps: int, steps: int, seed: int = 0) -> dict:
    """All four measurements on one env."""
    config = TrainConfig(env_id=env_id, seed=seed, steps=max(steps, batches) + 1)
    base = Policy.from_pretrained(config.model)
    trainer = Trainer(make_agent("grpo"), config, policy=Policy(copy.deepcopy(base.model), base.tokenizer))
    agents = {name: make_agent(name) for name in AGENTS}
    rollouts, parts = shared_rollouts(trainer, batches)
    phase = controlled_phase(trainer, agents, rollouts, reps)
    diffs = [h - g for g, h in zip(phase["grpo"], phase["hicra"])]
    adv = advantage_cost(agents, rollouts)
    shared = parts["generate"] + parts["verify"] + parts["logprobs_and_mask"] + parts["metrics"]
    step = {name: shared + statistics.median(phase[name]) for name in AGENTS}
    return {
        "env_id": env_id,
        "planning_ratio": float(np.mean([planning_ratio(b.planning_mask, b.response_mask) for b in rollouts])),
        "response_length": float(np.mean([float(b.response_mask.sum(1).float().mean()) for b in rollouts])),
        "rollout_parts": parts,
        "phase": {name: summary(t) for name, t in phase.items()} | {"paired_diff": summary(diffs)},
        "advantages_per_call": adv,
        "step_time": step,
        "overhead_phase": statistics.median(diffs) / step["grpo"],
        "overhead_extra_work": (adv["hicra"] - adv["grpo"]) / step["grpo"],
        "mask_share_of_step": parts["planning_mask"] / step["grpo"],
        "overhead_if_mask_were_hicra_only": (adv["hicra"] - adv["grpo"] + parts["planning_mask"]) / step["grpo"],
        "full_steps": full_steps(base, config, steps),
    }


def run(envs=ENVS, batches: int = 2, reps: int = 6, steps: int = 4, threads: int = 2) -> BenchResult:
    set_threads(threads)
    start_verifier_pool()
    per_env = {env_id: measure_env(env_id, batches, reps, steps) for env_id in envs}
    results = {"machine": machine(), "batches": batches, "reps": reps, "steps": steps, "target": TARGET,
               "envs": per_env}  # fmt: skip
    results["meets_target"] = all(
        max(r["overhead_phase"], r["overhead_extra_work"]) <= TARGET for r in per_env.values()
    )
    return BenchResult("overhead", results, _markdown(results))


SUMMARY_HEADERS = [
    "env", "planning tokens", "response tokens", "step grpo", "step hicra", "overhead (phase)", "HICRA extra work",
    "planning mask share (all agents)", "overhead if mask counted as HICRA's",
]  # fmt: skip
PARTS_HEADERS = [
    "env", "generate", "verify", "old log-probs + entropy", "planning mask", "rollout_metrics", "adv + update grpo",
    "adv + update hicra", "paired diff [min, max]", "credit grpo / hicra",
]  # fmt: skip
FULL_HEADERS = [
    "env", "grpo", "hicra", "hicra / grpo", "response tokens grpo / hicra", "generate grpo / hicra",
    "verify grpo / hicra", "log-probs + mask grpo / hicra", "update grpo / hicra",
]  # fmt: skip


def _summary_row(env_id: str, r: dict) -> list:
    step, adv = r["step_time"], r["advantages_per_call"]
    return [
        env_id, f"{100 * r['planning_ratio']:.1f}%", f"{r['response_length']:.1f}", ms(step["grpo"]),
        ms(step["hicra"]), f"**{pct(r['overhead_phase'])}**",
        f"{pct(r['overhead_extra_work'])} ({ms(adv['hicra'] - adv['grpo'])})", pct(r["mask_share_of_step"]),
        pct(r["overhead_if_mask_were_hicra_only"]),
    ]  # fmt: skip


def _parts_row(env_id: str, r: dict) -> list:
    p, ph, adv = r["rollout_parts"], r["phase"], r["advantages_per_call"]
    diff = ph["paired_diff"]
    return [
        env_id, ms(p["generate"]), ms(p["verify"]), ms(p["logprobs_and_mask"] - p["planning_mask"]),
        ms(p["planning_mask"]), ms(p["metrics"]), ms(ph["grpo"]["median"]), ms(ph["hicra"]["median"]),
        f"{ms(diff['median'])} [{ms(diff['min'])}, {ms(diff['max'])}]",
        f"{ms(adv['grpo'])} / {ms(adv['hicra'])}",
    ]  # fmt: skip


def _full_row(env_id: str, r: dict) -> list:
    g, h = r["full_steps"]["grpo"], r["full_steps"]["hicra"]
    return [
        env_id, ms(g["wall"]), ms(h["wall"]), f"{h['wall'] / g['wall']:.3f}",
        f"{g['response_length']:.1f} / {h['response_length']:.1f}",
        *(f"{ms(g[part])} / {ms(h[part])}" for part in ("generate", "verify", "logprobs", "update")),
    ]  # fmt: skip


def _markdown(results: dict) -> str:
    envs = results["envs"].items()
    verdict = "met" if results["meets_target"] else "**NOT met**"
    intro = (
        f"Target: overhead <= {100 * results['target']:.0f}% ({verdict}). Step time = shared rollout (median of "
        f"{results['batches']} batches) + `rollout_metrics` + the agent's `credit` + `update`, the last "
        f"timed on identical batches from one restored state, agents alternating ({results['reps']} reps per "
        "batch). Overhead (phase) = median paired difference / GRPO step; extra work = HICRA's "
        "`credit` minus GRPO's. The planning mask is computed in the rollout for every agent."
    )
    full = (
        f"Full `train_step` (median of {results['steps']} per agent after a warm-up, alternating; not controlled: "
        "the batches differ once the agents' weights do):"
    )
    lines = [
        "# HICRA step-time overhead over GRPO", "", intro, "",
        md_table(SUMMARY_HEADERS, [_summary_row(e, r) for e, r in envs]), "",
        "Where the time goes (medians):", "",
        md_table(PARTS_HEADERS, [_parts_row(e, r) for e, r in envs]), "",
        full, "",
        md_table(FULL_HEADERS, [_full_row(e, r) for e, r in envs]), "",
        machine_note(results["machine"]),
    ]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default=",".join(ENVS), help="comma-separated env ids")
    parser.add_argument("--batches", type=int, default=2, help="shared rollout batches per env (default 2)")
    parser.add_argument("--reps", type=int, default=6, help="timed advantage+update runs per agent and batch")
    parser.add_argument("--steps", type=int, default=4, help="full train_step per agent after a warm-up (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for overhead.json and .md")
    args = parser.parse_args(argv)
    result = run(tuple(args.envs.split(",")), args.batches, args.reps, args.steps, args.threads)
    return finish(args.out, result)


if __name__ == "__main__":
    raise SystemExit(main())
