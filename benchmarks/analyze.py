"""``hicra analyze RUN_DIR...``: redraw the plots and print the two-phase diagnostics from logs.

The paper's two phases: first procedural consolidation (execution-token perplexity falls, then flattens), then
strategic exploration (semantic entropy of Strategic Grams rises). For each agent (mean curve over seeds) this
reports the step where smoothed relative execution perplexity reaches within ``tolerance`` of its later minimum
("stops falling") and the step after which smoothed semantic entropy rises for good ("starts rising").
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .curves import plateau_step, rise_step
from .plots import plot_runs
from .runs import RunLog, by_agent, find_runs, stack

WINDOW = 5
PERPLEXITY_TOLERANCE = 0.02  # relative
ENTROPY_TOLERANCE = 0.05  # bits


@dataclass(frozen=True)
class PhaseReport:
    agent: str
    seeds: int
    steps: int
    perplexity_plateau: int | None
    semantic_entropy_rise: int | None


def phase_reports(runs: list[RunLog]) -> list[PhaseReport]:
    reports = []
    for agent, agent_runs in by_agent(runs).items():
        with np.errstate(all="ignore"):
            ppl = np.nanmean(stack(agent_runs, "relative_execution_perplexity"), axis=0)
            sem = np.nanmean(stack(agent_runs, "semantic_entropy"), axis=0)
        reports.append(
            PhaseReport(
                agent, len(agent_runs), ppl.size,
                plateau_step(ppl, WINDOW, PERPLEXITY_TOLERANCE), rise_step(sem, WINDOW, ENTROPY_TOLERANCE),
            )
        )  # fmt: skip
    return reports


def format_reports(reports: list[PhaseReport]) -> str:
    def cell(step):
        return "—" if step is None else str(step)

    lines = [
        "| agent | seeds | steps | execution perplexity stops falling | semantic entropy starts rising |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.agent} | {r.seeds} | {r.steps} | {cell(r.perplexity_plateau)} | {cell(r.semantic_entropy_rise)} |"
        for r in reports
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    runs = find_runs(args.run_dirs)
    out = Path(args.out) if args.out else Path(args.run_dirs[0]) / "plots"
    paths = plot_runs(runs, out)
    print(format_reports(phase_reports(runs)))
    print(f"plots: {len(paths)} PNG files in {out}")
    return 0
