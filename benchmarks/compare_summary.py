"""The comparison table: one row per agent, 95% Student-t intervals across seeds.

- held-out accuracy: the last held-out evaluation of each run (problems no run trained on, the same for every
  agent; ``TrainConfig.heldout_problems``), averaged per seed;
- training accuracy: the mean over the first / last ``final_fraction`` of the steps, and their difference;
- steps to target: the first step whose 5-step smoothed training accuracy reaches ``target_accuracy``;
- planning ratio and semantic entropy over the last ``final_fraction`` of the steps;
- the phase points of :mod:`.analyze` (execution perplexity stops falling, semantic entropy starts rising,
  the boundary between the two phases).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .analyze import cell, phase_report
from .compare_config import CompareConfig
from .curves import Interval, mean_interval, steps_to_reach, window_mean
from .runs import RunLog, by_agent


@dataclass(frozen=True)
class AgentSummary:
    """One row of the comparison table."""

    agent: str
    seeds: int
    heldout_accuracy: Interval
    initial_accuracy: Interval
    final_accuracy: Interval
    accuracy_gain: Interval
    steps_to_target: list[int | None]
    final_planning_ratio: float
    final_semantic_entropy: float
    perplexity_plateau: int | None
    semantic_entropy_rise: int | None
    phase_boundary: int | None


def summarize_agent(agent: str, runs: list[RunLog], config: CompareConfig) -> AgentSummary:
    frac = config.final_fraction
    acc = [r.curve("accuracy") for r in runs]
    first = [window_mean(a, frac, tail=False) for a in acc]
    last = [window_mean(a, frac, tail=True) for a in acc]
    phases = phase_report(agent, runs)
    return AgentSummary(
        agent=agent,
        seeds=len(runs),
        heldout_accuracy=mean_interval([r.final_heldout() for r in runs]),
        initial_accuracy=mean_interval(first),
        final_accuracy=mean_interval(last),
        accuracy_gain=mean_interval([b - a for a, b in zip(first, last)]),
        steps_to_target=[steps_to_reach(a, config.target_accuracy, 5) for a in acc],
        final_planning_ratio=mean_interval(
            [window_mean(r.curve("planning_ratio"), frac, tail=True) for r in runs]
        ).mean,
        final_semantic_entropy=mean_interval(
            [window_mean(r.curve("semantic_entropy"), frac, tail=True) for r in runs]
        ).mean,
        perplexity_plateau=phases.perplexity_plateau,
        semantic_entropy_rise=phases.semantic_entropy_rise,
        phase_boundary=phases.boundary,
    )


def summarize(runs: list[RunLog], config: CompareConfig) -> list[AgentSummary]:
    """One :class:`AgentSummary` per agent, in the order the agents first appear."""
    return [summarize_agent(agent, agent_runs, config) for agent, agent_runs in by_agent(runs).items()]


def _steps_cell(steps: list[int | None]) -> str:
    reached = sorted(s for s in steps if s is not None)
    if not reached:
        return f"never (0/{len(steps)})"
    return f"{reached[len(reached) // 2]} ({len(reached)}/{len(steps)})"


def markdown_table(summaries: list[AgentSummary], config: CompareConfig) -> str:
    pct = round(config.final_fraction * 100)
    head = (
        f"| agent | seeds | held-out acc | train acc, first {pct}% | train acc, last {pct}% | gain | "
        f"steps to {config.target_accuracy:.2f} (median, seeds reaching) | planning ratio | semantic entropy (bits) | "
        "perplexity stops falling | semantic entropy starts rising | phase boundary |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    body = "".join(
        f"| {s.agent} | {s.seeds} | {s.heldout_accuracy} | {s.initial_accuracy} | {s.final_accuracy} | "
        f"{s.accuracy_gain} | {_steps_cell(s.steps_to_target)} | {s.final_planning_ratio:.3f} | "
        f"{s.final_semantic_entropy:.3f} | {cell(s.perplexity_plateau)} | {cell(s.semantic_entropy_rise)} | "
        f"{cell(s.phase_boundary)} |\n"
        for s in summaries
    )
    return head + body


def write_summary(summaries: list[AgentSummary], config: CompareConfig, out: Path, *, wall_seconds: float) -> None:
    """``summary.md`` (header and table) and ``summary.json`` (the config, wall time and every row)."""
    train = config.run.train
    seeds = f"seeds {config.first_seed}..{config.first_seed + config.seeds - 1}"
    heldout = (
        f"{train.heldout_problems} held-out problems x {train.heldout_samples} samples"
        if train.heldout_problems
        else "no held-out problems"
    )
    header = (
        f"# hicra compare: {train.env_id}, model {train.model}, {train.steps} steps, {seeds}\n\n"
        f"Wall time {wall_seconds:.0f} s. Intervals: 95% Student-t across seeds. Held-out accuracy: {heldout}.\n\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(header + markdown_table(summaries, config), encoding="utf-8")
    payload = {
        "config": {**{k: v for k, v in asdict(config).items() if k != "run"}, "run": config.run.to_dict()},
        "wall_seconds": wall_seconds,
        "agents": [asdict(s) for s in summaries],
    }
    (out / "summary.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
