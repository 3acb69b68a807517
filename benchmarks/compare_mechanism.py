"""The mechanism tables of a comparison: what the agents changed, not only how often they were right.

- strategy mix: each family's share of every strategy label (``strategy_n/<family>/<label>``, gram-less responses
  counted as ``no_gram``), over the last ``final_fraction`` of the steps: the label's responses over the family's;
- accuracy given the strategy: the label's right responses over its responses in the same steps
  (``strategy_acc`` weighted by ``strategy_n``); a run where the label never occurs there has no value;
- execution perplexity by strategy: the teacher-forced execution perplexity of the fixed held-out texts
  (``heldout_exec_perplexity/<family>/<strategy>``) at each run's last held-out evaluation, so that a change in the
  strategy mix cannot pass for a change in procedure.

Each cell is a mean with a 95% Student-t interval across the seeds that have a value (:func:`.curves.mean_interval`);
columns that no run logged are left out, so a run without strategy labels gets no table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .curves import Interval, mean_interval
from .runs import RunLog, by_agent

COUNT = "strategy_n/"
ACCURACY = "strategy_acc/"
EXEC_PERPLEXITY = "heldout_exec_perplexity/"


@dataclass(frozen=True)
class MechanismTable:
    """One mechanism table: a row per agent, a column per ``family/label``."""

    name: str
    title: str
    columns: list[str]
    rows: dict[str, dict[str, Interval]]
    """agent -> column -> mean and interval across the seeds with a value (``n`` = how many)."""


def _tail(x: np.ndarray, fraction: float) -> np.ndarray:
    return x[-max(1, round(fraction * x.size)) :]


def strategy_columns(runs: list[RunLog]) -> list[str]:
    """Every ``family/label`` with at least one response in some run, families in logged order."""
    logged = [(k[len(COUNT) :], v) for run in runs for k, v in run.metrics.items() if k.startswith(COUNT)]
    seen = {name for name, counts in logged if np.nansum(counts) > 0}
    return [name for name in dict.fromkeys(name for name, _ in logged) if name in seen]


def run_strategy_share(run: RunLog, column: str, fraction: float) -> float:
    """The label's share of its family's responses over the last ``fraction`` of the run's steps (NaN without any)."""
    family = column.split("/")[0]
    counts = {k: np.nansum(_tail(v, fraction)) for k, v in run.metrics.items() if k.startswith(f"{COUNT}{family}/")}
    total = sum(counts.values())
    return float(counts.get(COUNT + column, 0.0) / total) if total > 0 else math.nan


def run_strategy_accuracy(run: RunLog, column: str, fraction: float) -> float:
    """Right responses of the label over its responses in the last ``fraction`` of the steps (NaN without any)."""
    if COUNT + column not in run.metrics or ACCURACY + column not in run.metrics:
        return math.nan
    n = _tail(run.metrics[COUNT + column], fraction)
    acc = _tail(run.metrics[ACCURACY + column], fraction)
    seen = np.isfinite(n) & (n > 0) & np.isfinite(acc)
    return float((acc[seen] * n[seen]).sum() / n[seen].sum()) if seen.any() else math.nan


def run_exec_perplexity(run: RunLog) -> dict[str, float]:
    """``family/strategy`` -> execution perplexity at the run's last held-out evaluation that has any."""
    for row in reversed(run.heldout):
        names = {k: k[len(EXEC_PERPLEXITY) :] for k in row if k.startswith(EXEC_PERPLEXITY)}
        values = {name: float(row[k]) for k, name in names.items() if "/" in name and row[k] is not None}
        if values:
            return values
    return {}


def _table(name: str, title: str, runs: list[RunLog], columns: list[str], value) -> MechanismTable | None:
    rows = {
        agent: {c: mean_interval([value(run, c) for run in agent_runs]) for c in columns}
        for agent, agent_runs in by_agent(runs).items()
    }
    return MechanismTable(name, title, columns, rows) if columns else None


def mechanism_tables(runs: list[RunLog], final_fraction: float) -> list[MechanismTable]:
    """The strategy mix, the accuracy given the strategy and the execution perplexity by strategy (where logged)."""
    pct = round(final_fraction * 100)
    columns = strategy_columns(runs)
    perplexities = {run.path: run_exec_perplexity(run) for run in runs}
    families = list(dict.fromkeys(c.split("/")[0] for c in columns))
    logged = list(dict.fromkeys(c for values in perplexities.values() for c in values))
    rank = {family: i for i, family in enumerate(families)}
    exec_columns = sorted(logged, key=lambda c: rank.get(c.split("/")[0], len(rank)))  # stable: logged order within
    tables = [
        _table(
            "strategy_mix", f"Strategy mix: each label's share of its family's responses, last {pct}% of the steps",
            runs, columns, lambda run, c: run_strategy_share(run, c, final_fraction),
        ),
        _table(
            "strategy_accuracy", f"Accuracy given the strategy, last {pct}% of the steps",
            runs, columns, lambda run, c: run_strategy_accuracy(run, c, final_fraction),
        ),
        _table(
            "execution_perplexity", "Execution perplexity by strategy, teacher-forced on the fixed held-out texts, "
            "last held-out evaluation", runs, exec_columns, lambda run, c: perplexities[run.path].get(c, math.nan),
        ),
    ]  # fmt: skip
    return [t for t in tables if t is not None]


def _cell(interval: Interval, seeds: int) -> str:
    if interval.n == 0:
        return "n/a"
    text = str(interval)
    return text if interval.n == seeds else f"{text} ({interval.n}/{seeds})"


def mechanism_markdown(tables: list[MechanismTable], seeds: dict[str, int]) -> str:
    """Each table as markdown under its title; a cell from fewer seeds than the agent ran says how many."""
    out = []
    for table in tables:
        head = "| agent | " + " | ".join(table.columns) + " |\n" + "| --- " * (len(table.columns) + 1) + "|\n"
        body = "".join(
            f"| {agent} | " + " | ".join(_cell(row[c], seeds[agent]) for c in table.columns) + " |\n"
            for agent, row in table.rows.items()
        )
        out.append(f"{table.title} (mean ± 95% t interval across seeds).\n\n{head}{body}")
    return "\n".join(out)
