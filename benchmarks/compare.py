"""``hicra compare``: every agent on the same env, problems, seeds, model and budget; table and plots.

Layout of the output directory::

    out/<agent>/seed<k>/{config.json, metrics.jsonl, checkpoints/}
    out/summary.json, out/summary.md, out/plots/*.png

Problems are drawn from seeds derived from (seed, step), so every agent sees the same problem sequence for a
given seed. "Final accuracy" is the mean training accuracy over the last ``final_fraction`` of the steps
(each step samples fresh procedural problems, so it is an on-policy estimate on unseen problems), averaged per
seed; the interval is a 95% Student-t interval across seeds.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from .config_file import load_run_file
from .curves import Interval, mean_interval, steps_to_reach, window_mean
from .errors import UsageError, check_names, parse_list
from .plots import plot_runs
from .runs import RunLog, by_agent, find_runs

log = logging.getLogger(__name__)

DEFAULT_AGENTS = ("grpo", "hicra", "entropy_grpo")
EMBEDDED_DEFAULT: dict[str, object] = {"env_kwargs": {"num_problems": 32}, "lr": 5e-4}
"""``TrainConfig`` fields of the embedded default (the default env with the tiny policy): a fixed training set of
32 Arithmetic problems that every step draws 8 of, as RL runs iterate over a finite dataset, and a learning rate
for a 0.5M-parameter model. :meth:`CompareConfig.train_config` applies them only when neither the env nor the
model differs from the default; ``train_overrides`` (a ``--config`` file, flags) override them."""


@dataclass(frozen=True)
class CompareConfig:
    """What ``hicra compare`` runs. The defaults are the embedded default (tiny policy, CPU)."""

    agents: tuple[str, ...] = DEFAULT_AGENTS
    """Agent names from ``hicra.agents.AGENTS``."""
    env_id: str = "hicra/Arithmetic-v0"
    """Task every agent trains on."""
    seeds: int = 3
    """Seeds per agent (0, 1, ...)."""
    steps: int = 60
    """Optimiser steps per run."""
    model: str = "tiny"
    """Policy preset or ``from_pretrained`` name/path."""
    train_overrides: tuple[tuple[str, object], ...] = ()
    """Extra ``TrainConfig`` fields (name, value) applied to every run, over :data:`EMBEDDED_DEFAULT` if it applies."""
    agent_overrides: tuple[tuple[str, object], ...] = ()
    """``AgentConfig`` fields (name, value) applied to every agent (over each agent's own defaults)."""
    target_accuracy: float = 0.5
    """Threshold of the "steps to reach" column (on 5-step smoothed accuracy)."""
    final_fraction: float = 0.25
    """Share of the last (and first) steps averaged for final (and initial) accuracy."""
    jobs: int = 2
    """Runs in parallel (processes); each uses ``max(1, cores // jobs)`` torch threads."""

    def __post_init__(self) -> None:
        if self.seeds < 1 or self.steps < 1 or self.jobs < 1:
            raise UsageError(f"seeds, steps and jobs must be >= 1, got {self.seeds}, {self.steps}, {self.jobs}")
        if not 0 < self.final_fraction <= 1:
            raise UsageError(f"final fraction: expected a value in (0, 1], got {self.final_fraction}")

    def train_config(self, seed: int):
        """The ``TrainConfig`` of one run: defaults, then :data:`EMBEDDED_DEFAULT` on the default env and model,
        then ``train_overrides``."""
        from hicra.agents import TrainConfig

        embedded = EMBEDDED_DEFAULT if (self.env_id, self.model) == (type(self).env_id, type(self).model) else {}
        train = TrainConfig(env_id=self.env_id, model=self.model, steps=self.steps, seed=seed)
        return replace(train, **{**embedded, **dict(self.train_overrides)})


@dataclass(frozen=True)
class AgentSummary:
    """One row of the comparison table."""

    agent: str
    seeds: int
    initial_accuracy: Interval
    final_accuracy: Interval
    accuracy_gain: Interval
    steps_to_target: list[int | None]
    final_planning_ratio: float
    final_semantic_entropy: float


def _run_one(agent: str, seed: int, config: CompareConfig, run_dir: str, threads: int) -> str:
    """One (agent, seed) training run; in a worker process when ``jobs > 1``."""
    import torch

    from hicra.agents import Trainer, make_agent

    torch.set_num_threads(threads)
    agent_obj = make_agent(agent, **dict(config.agent_overrides))
    Trainer(agent_obj, config.train_config(seed), run_dir=run_dir).train(progress=config.jobs == 1)
    return run_dir


def run_compare(config: CompareConfig, out_dir: str | Path, *, plots: bool = True) -> list[AgentSummary]:
    """Train every (agent, seed), then write ``summary.json``, ``summary.md`` and the plots."""
    from hicra.agents import AGENTS

    check_names(config.agents, AGENTS, "agent")
    out = Path(out_dir)
    jobs = [(a, s, str(out / a / f"seed{s}")) for a in config.agents for s in range(config.seeds)]
    threads = max(1, (os.cpu_count() or 1) // config.jobs)
    start = time.perf_counter()
    if config.jobs == 1:
        for agent, seed, run_dir in jobs:
            log.info("training %s seed %d", agent, seed)
            _run_one(agent, seed, config, run_dir, threads)
    else:
        with ProcessPoolExecutor(config.jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_run_one, a, s, config, d, threads) for a, s, d in jobs]
            for future in tqdm(as_completed(futures), total=len(futures), desc="compare runs", unit="run"):
                future.result()
    wall = time.perf_counter() - start
    summaries = summarize(find_runs([out]), config)
    write_summary(summaries, config, out, wall_seconds=wall)
    if plots:
        plot_runs(find_runs([out]), out / "plots")
    return summaries


def summarize(runs: list[RunLog], config: CompareConfig) -> list[AgentSummary]:
    """Per-agent initial/final accuracy (95% t-intervals over seeds), gain, steps to target."""
    rows = []
    for agent, agent_runs in by_agent(runs).items():
        acc = [r.curve("accuracy") for r in agent_runs]
        first = [window_mean(a, config.final_fraction, tail=False) for a in acc]
        last = [window_mean(a, config.final_fraction, tail=True) for a in acc]
        rows.append(
            AgentSummary(
                agent=agent,
                seeds=len(agent_runs),
                initial_accuracy=mean_interval(first),
                final_accuracy=mean_interval(last),
                accuracy_gain=mean_interval([b - a for a, b in zip(first, last)]),
                steps_to_target=[steps_to_reach(a, config.target_accuracy, 5) for a in acc],
                final_planning_ratio=mean_interval(
                    [window_mean(r.curve("planning_ratio"), config.final_fraction, tail=True) for r in agent_runs]
                ).mean,
                final_semantic_entropy=mean_interval(
                    [window_mean(r.curve("semantic_entropy"), config.final_fraction, tail=True) for r in agent_runs]
                ).mean,
            )
        )
    return rows


def _steps_cell(steps: list[int | None]) -> str:
    reached = sorted(s for s in steps if s is not None)
    if not reached:
        return f"never (0/{len(steps)})"
    return f"{reached[len(reached) // 2]} ({len(reached)}/{len(steps)})"


def markdown_table(summaries: list[AgentSummary], config: CompareConfig) -> str:
    pct = round(config.final_fraction * 100)
    head = (
        f"| agent | seeds | initial acc (first {pct}%) | final acc (last {pct}%) | gain | "
        f"steps to {config.target_accuracy:.2f} (median, seeds reaching) | planning ratio | semantic entropy |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    body = "".join(
        f"| {s.agent} | {s.seeds} | {s.initial_accuracy} | {s.final_accuracy} | {s.accuracy_gain} | "
        f"{_steps_cell(s.steps_to_target)} | {s.final_planning_ratio:.3f} | {s.final_semantic_entropy:.3f} |\n"
        for s in summaries
    )
    return head + body


def write_summary(summaries: list[AgentSummary], config: CompareConfig, out: Path, *, wall_seconds: float) -> None:
    table = markdown_table(summaries, config)
    header = (
        f"# hicra compare: {config.env_id}, model {config.model}, {config.steps} steps, {config.seeds} seeds\n\n"
        f"Wall time {wall_seconds:.0f} s. Intervals: 95% Student-t across seeds.\n\n"
    )
    (out / "summary.md").write_text(header + table)
    payload = {
        "config": asdict(config),
        "train_config": {k: v for k, v in asdict(config.train_config(seed=0)).items() if k != "seed"},
        "wall_seconds": wall_seconds,
        "agents": [asdict(s) for s in summaries],
    }
    (out / "summary.json").write_text(json.dumps(payload, indent=2, default=str))


def main(args: argparse.Namespace) -> int:
    from .train import check_env_id, flag_overrides

    file = load_run_file(args.config)
    train = {**file.train, **flag_overrides(args)}
    train.pop("seed", None)  # compare runs seeds 0..S-1
    env_id, model = train.pop("env_id", CompareConfig.env_id), train.pop("model", CompareConfig.model)
    steps = train.pop("steps", CompareConfig.steps)
    check_env_id(env_id)
    config = CompareConfig(
        agents=tuple(parse_list(args.agents, "--agents")),
        env_id=env_id,
        seeds=args.seeds,
        steps=steps,
        model=model,
        train_overrides=tuple(train.items()),
        agent_overrides=tuple(file.agent.items()),
        target_accuracy=args.target_accuracy if args.target_accuracy is not None else CompareConfig.target_accuracy,
        jobs=args.jobs,
    )
    summaries = run_compare(config, args.out, plots=not args.no_plots)
    print((Path(args.out) / "summary.md").read_text())
    if not summaries:
        raise UsageError("compare produced no runs")
    return 0
