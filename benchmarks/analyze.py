"""The paper's two phases, read off training logs with a change-point rule.

First procedural consolidation (execution-token perplexity falls, then flattens), then strategic exploration
(semantic entropy of Strategic Grams rises). For each agent (mean curve over seeds) :func:`phase_reports` fits
each of the two curves with :func:`~hicra.benchmarks.curves.change_point`: one line against a continuous
two-segment line with a minimum segment length, the break kept when it lowers BIC. Each curve's break is
reported with its slopes before and after ("none" when one line fits as well). The phase boundary is the
semantic-entropy break when entropy rises after it, faster than it moved before
(:attr:`~.curves.Break.starts_rising`), and it comes at or after a perplexity break where perplexity stops
falling (:attr:`~.curves.Break.stops_falling`): the two phases in the paper's order. Otherwise there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import Break, change_point
from .runs import RunLog, by_agent, stack


@dataclass(frozen=True)
class PhaseReport:
    agent: str
    seeds: int
    steps: int
    perplexity_break: Break | None
    """Change point of the mean relative execution perplexity (None: one line fits as well)."""
    semantic_entropy_break: Break | None
    """Change point of the mean semantic entropy (None: one line fits as well)."""

    @property
    def perplexity_plateau(self) -> int | None:
        """The step where execution perplexity stops falling (its break, when it falls before and less after)."""
        b = self.perplexity_break
        return b.step if b is not None and b.stops_falling else None

    @property
    def semantic_entropy_rise(self) -> int | None:
        """The step where semantic entropy starts rising (its break, when it rises after faster than it moved
        before)."""
        b = self.semantic_entropy_break
        return b.step if b is not None and b.starts_rising else None

    @property
    def boundary(self) -> int | None:
        """The step where execution perplexity has stopped falling and semantic entropy starts rising, or None."""
        plateau, rise = self.perplexity_plateau, self.semantic_entropy_rise
        return rise if plateau is not None and rise is not None and rise >= plateau else None


def phase_report(agent: str, runs: list[RunLog]) -> PhaseReport:
    """The change points of one agent's mean curves over its seeds (at logged step numbers)."""
    with np.errstate(all="ignore"):
        ppl = np.nanmean(stack(runs, "relative_execution_perplexity"), axis=0)
        sem = np.nanmean(stack(runs, "semantic_entropy"), axis=0)
    steps = runs[0].steps[: ppl.size]
    return PhaseReport(agent, len(runs), ppl.size, change_point(ppl, steps), change_point(sem, steps))


def phase_reports(runs: list[RunLog]) -> list[PhaseReport]:
    return [phase_report(agent, agent_runs) for agent, agent_runs in by_agent(runs).items()]


def cell(value: Break | int | None) -> str:
    """A table cell: "none" for None, else the step or the break with its slopes."""
    return "none" if value is None else str(value)


PHASE_COLUMNS = (
    "execution perplexity: break (slope before -> after)",
    "semantic entropy: break (slope before -> after)",
    "phase boundary (perplexity stopped falling, then entropy starts rising)",
)
"""Headers of the phase columns, shared by ``hicra analyze`` and the ``hicra compare`` table."""


def format_reports(reports: list[PhaseReport]) -> str:
    lines = [
        "| agent | seeds | steps | " + " | ".join(PHASE_COLUMNS) + " |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.agent} | {r.seeds} | {r.steps} | {cell(r.perplexity_break)} | {cell(r.semantic_entropy_break)} "
        f"| {cell(r.boundary)} |"
        for r in reports
    ]
    rule = (
        "Breaks: a continuous two-segment least-squares line against one line on the mean curve over seeds, "
        "kept when it lowers BIC (segments of at least 10% of the steps); slopes are per step."
    )
    return "\n".join([*lines, "", rule])
