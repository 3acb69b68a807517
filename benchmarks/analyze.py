"""The paper's two phases, read off training logs.

First procedural consolidation (execution-token perplexity falls, then flattens), then strategic exploration
(semantic entropy of Strategic Grams rises). For each agent (mean curve over seeds) :func:`phase_reports` gives
the step where smoothed relative execution perplexity comes within ``PERPLEXITY_TOLERANCE`` of its later minimum
("stops falling"), the step after which smoothed semantic entropy rises for good ("starts rising"), and the
phase boundary: the rise step when it comes at or after the plateau (the two phases in the paper's order), else
none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import plateau_step, rise_step
from .runs import RunLog, by_agent, stack

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

    @property
    def boundary(self) -> int | None:
        """The step where execution perplexity has stopped falling and semantic entropy starts rising, or None."""
        plateau, rise = self.perplexity_plateau, self.semantic_entropy_rise
        return rise if plateau is not None and rise is not None and rise >= plateau else None


def phase_report(agent: str, runs: list[RunLog]) -> PhaseReport:
    """The phase points of one agent's mean curves over its seeds (as logged step numbers)."""
    with np.errstate(all="ignore"):
        ppl = np.nanmean(stack(runs, "relative_execution_perplexity"), axis=0)
        sem = np.nanmean(stack(runs, "semantic_entropy"), axis=0)
    steps = runs[0].steps

    def step(index: int | None) -> int | None:
        return None if index is None else int(steps[index])

    plateau, rise = plateau_step(ppl, WINDOW, PERPLEXITY_TOLERANCE), rise_step(sem, WINDOW, ENTROPY_TOLERANCE)
    return PhaseReport(agent, len(runs), ppl.size, step(plateau), step(rise))


def phase_reports(runs: list[RunLog]) -> list[PhaseReport]:
    return [phase_report(agent, agent_runs) for agent, agent_runs in by_agent(runs).items()]


def cell(step: int | None) -> str:
    return "none" if step is None else str(step)


def format_reports(reports: list[PhaseReport]) -> str:
    lines = [
        "| agent | seeds | steps | execution perplexity stops falling | semantic entropy starts rising "
        "| phase boundary |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.agent} | {r.seeds} | {r.steps} | {cell(r.perplexity_plateau)} | {cell(r.semantic_entropy_rise)} "
        f"| {cell(r.boundary)} |"
        for r in reports
    ]
    return "\n".join(lines)
