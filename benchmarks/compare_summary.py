"""The comparison table: one row per agent, 95% Student-t intervals across seeds.

- held-out accuracy: the last held-out evaluation of each run (problems no run trained on, the same for every
  agent; ``TrainConfig.heldout_problems``), averaged per seed;
- training accuracy: the mean over the first / last ``final_fraction`` of the steps, and their difference;
- steps to target: the first step whose 5-step smoothed training accuracy reaches ``target_accuracy``;
- planning ratio and semantic entropy over the last ``final_fraction`` of the steps;
- the change points of :mod:`.analyze` (execution perplexity and semantic entropy: break step, slopes before
  and after; the boundary between the two phases).

A second table (:func:`paired_contrasts`) gives paired differences of held-out accuracy against a reference
agent (:mod:`.stats`), on the out-of-distribution split too where the runs have one, and ``summary.json`` keeps
the per-seed held-out results they used. The mechanism tables (strategy mix, accuracy given the strategy, execution
perplexity by strategy) come from :mod:`.compare_mechanism`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .analyze import PHASE_COLUMNS, cell, phase_report
from .compare_config import CompareConfig
from .compare_mechanism import MechanismTable, mechanism_markdown
from .curves import Break, Interval, mean_interval, steps_to_reach, window_mean
from .runs import RunLog, by_agent
from .stats import PairedT, SignTest, holm, pair_by_seed, paired_t, sign_test

HELDOUT = "heldout_accuracy"
HELDOUT_OOD = "heldout_ood_accuracy"


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
    perplexity_break: Break | None
    semantic_entropy_break: Break | None
    phase_boundary: int | None
    heldout_ood_accuracy: Interval | None = None
    """The out-of-distribution split's last evaluation, for runs that have one (None otherwise)."""


def summarize_agent(agent: str, runs: list[RunLog], config: CompareConfig) -> AgentSummary:
    frac = config.final_fraction
    acc = [r.curve("accuracy") for r in runs]
    first = [window_mean(a, frac, tail=False) for a in acc]
    last = [window_mean(a, frac, tail=True) for a in acc]
    phases = phase_report(agent, runs)
    ood = [r.final_heldout(HELDOUT_OOD) for r in runs]
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
        perplexity_break=phases.perplexity_break,
        semantic_entropy_break=phases.semantic_entropy_break,
        phase_boundary=phases.boundary,
        heldout_ood_accuracy=mean_interval(ood) if any(v == v for v in ood) else None,
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
    """One row per agent; a column for the out-of-distribution split when some run has one."""
    pct = round(config.final_fraction * 100)
    ood = any(s.heldout_ood_accuracy is not None for s in summaries)
    columns = [
        "agent", "seeds", "held-out acc", *(["held-out acc, OOD"] if ood else []), f"train acc, first {pct}%",
        f"train acc, last {pct}%", "gain", f"steps to {config.target_accuracy:.2f} (median, seeds reaching)",
        "planning ratio", "semantic entropy (bits)", *PHASE_COLUMNS,
    ]  # fmt: skip
    rows = [
        [
            s.agent,
            str(s.seeds),
            str(s.heldout_accuracy),
            *([str(s.heldout_ood_accuracy or "n/a")] if ood else []),
            str(s.initial_accuracy),
            str(s.final_accuracy),
            str(s.accuracy_gain),
            _steps_cell(s.steps_to_target),
            f"{s.final_planning_ratio:.3f}",
            f"{s.final_semantic_entropy:.3f}",
            cell(s.perplexity_break),
            cell(s.semantic_entropy_break),
            cell(s.phase_boundary),
        ]
        for s in summaries
    ]
    return _row(columns) + _row(["---"] * len(columns)) + "".join(_row(r) for r in rows)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |\n"


@dataclass(frozen=True)
class Contrast:
    """One row of the paired table: held-out accuracy of ``agent`` minus ``reference``, on the seeds both ran."""

    agent: str
    reference: str
    seeds: list[int]
    differences: list[float]
    """Float[n]: agent - reference, one per paired seed (in ``seeds`` order)."""
    test: PairedT | None
    """Paired t (mean, SD, 95% interval, p); None without any paired seed."""
    sign: SignTest | None
    p_holm: float
    """Holm-corrected p over the contrasts of the table (NaN where the paired t has no p)."""
    note: str = ""
    """Why a cell is empty ("no runs", "1 paired seed"); "" when the row is complete."""


@dataclass(frozen=True)
class ContrastTable:
    """The paired differences of a comparison against its reference agent, and the per-seed values they used."""

    reference: str
    metric: str
    rows: list[Contrast]
    records: list[dict]
    """One per run: agent, seed, the step of its last held-out evaluation, held-out accuracy (None without one)
    and, when the run has an out-of-distribution split, ``heldout_ood_accuracy``."""
    note: str = ""
    """Why the table is empty or thin (the reference has no runs; one seed); "" otherwise."""


def _finite(value: float) -> float | None:
    return value if value == value else None  # NaN -> None (JSON null)


def heldout_records(runs: list[RunLog]) -> list[dict]:
    """The per-seed held-out results of ``runs`` (agent order of first appearance, then seed)."""
    records = []
    for agent, agent_runs in by_agent(runs).items():
        for run in agent_runs:
            steps = [row["step"] for row in run.heldout if row.get(HELDOUT) is not None]
            record = {"agent": agent, "seed": run.seed, "step": steps[-1] if steps else None}
            record[HELDOUT] = _finite(run.final_heldout(HELDOUT))
            if any(row.get(HELDOUT_OOD) is not None for row in run.heldout):
                record[HELDOUT_OOD] = _finite(run.final_heldout(HELDOUT_OOD))
            records.append(record)
    return records


def _contrast(agent: str, reference: str, values: dict[str, dict[int, float]]) -> Contrast:
    if agent not in values:
        return Contrast(agent, reference, [], [], None, None, math.nan, f"no runs of {agent}")
    seeds, d = pair_by_seed(values[agent], values[reference])
    test, sign = (paired_t(d), sign_test(d)) if seeds else (None, None)
    note = "no seed with held-out accuracy for both" if not seeds else ""
    note = f"{len(seeds)} paired seed: no interval or p" if len(seeds) == 1 else note
    note = "the same difference on every seed: no p" if test is not None and test.sd == 0 else note
    return Contrast(agent, reference, seeds, [float(x) for x in d], test, sign, math.nan, note)


def paired_contrasts(runs: list[RunLog], config: CompareConfig, metric: str = HELDOUT) -> ContrastTable:
    """Held-out accuracy (each run's last evaluation; ``metric`` = :data:`HELDOUT_OOD` for the out-of-distribution
    split) of every contrast agent minus the reference, paired by seed, with the paired t test, the sign test and
    Holm's correction over the contrasts (:mod:`.stats`)."""
    reference, records = config.reference_agent, heldout_records(runs)
    values: dict[str, dict[int, float]] = {}
    for record in records:
        value = record.get(metric)
        values.setdefault(record["agent"], {})[record["seed"]] = math.nan if value is None else value
    if not any(record.get(metric) is not None for record in records):
        return ContrastTable(reference, metric, [], records, f"no paired differences: no run logged {metric}")
    if reference not in values:
        agents = ", ".join(values)
        note = f"no paired differences: the reference agent {reference} has no runs here (agents: {agents})"
        return ContrastTable(reference, metric, [], records, note)
    agents = [agent for agent in config.contrast_agents if agent in config.agents]  # others were not asked for
    rows = [_contrast(agent, reference, values) for agent in agents]
    adjusted = holm([row.test.p if row.test else math.nan for row in rows])
    rows = [replace(row, p_holm=p) for row, p in zip(rows, adjusted, strict=True)]
    note = ""
    if rows and max(len(row.seeds) for row in rows) < 2:
        note = "one seed: a paired t interval and p need at least 2 seeds per agent (raise --seeds)"
    if not rows:
        note = f"no contrasts: {reference} is the only agent"
    return ContrastTable(reference, metric, rows, records, note)


def _p(p: float) -> str:
    return "n/a" if p != p else ("<0.001" if p < 0.001 else f"{p:.3f}")


def _contrast_cells(row: Contrast) -> list[str]:
    name = f"{row.agent} - {row.reference}"
    if row.test is None:
        return [name, "0", "n/a", "n/a", "n/a", "n/a", f"n/a ({row.note})"]
    t = row.test
    interval = "n/a" if t.low != t.low else f"[{t.low:+.3f}, {t.high:+.3f}]"
    ties = f", {row.sign.ties} tied" if row.sign.ties else ""
    wins = f"{row.sign.wins}/{t.n}{ties} (sign test p {_p(row.sign.p)})"
    if row.note:
        wins += f"; {row.note}"
    return [name, str(t.n), f"{t.mean:+.3f}", interval, _p(t.p), _p(row.p_holm), wins]


def contrast_markdown(table: ContrastTable) -> str:
    """The paired table: an explanation line, then one row per contrast (or the table's note alone)."""
    split = "out-of-distribution held-out accuracy" if table.metric == HELDOUT_OOD else "held-out accuracy"
    tested = sum(1 for row in table.rows if row.test is not None and row.test.p == row.test.p)
    title = (
        f"Paired differences of {split} (each run's last evaluation), agent - {table.reference}, "
        f"per seed: mean, 95% paired t interval, two-sided paired t p, Holm-corrected p over the "
        f"{tested} contrasts with a p, wins = seeds where the agent is higher.\n\n"
    )
    if not table.rows:
        return title + f"{table.note}.\n"
    columns = ["contrast", "paired seeds", "mean difference", "95% paired t interval", "p", "p (Holm)", "wins/seeds"]
    body = "".join(_row(_contrast_cells(row)) for row in table.rows)
    note = f"\n{table.note}.\n" if table.note else ""
    return title + _row(columns) + _row(["---"] * len(columns)) + body + note


def write_summary(
    summaries: list[AgentSummary],
    config: CompareConfig,
    out: Path,
    *,
    wall_seconds: float,
    contrasts: ContrastTable | None = None,
    ood_contrasts: ContrastTable | None = None,
    mechanism: list[MechanismTable] = (),
    skipped_runs: int = 0,
) -> None:
    """``summary.md`` (header, table, paired tables, mechanism tables) and ``summary.json`` (the config, wall time,
    every row, the paired tables, the per-seed held-out results they used and the mechanism tables).
    ``skipped_runs``: finished runs that this invocation did not train (``--resume``), so its wall time leaves
    them out."""
    train = config.run.train
    seeds = f"seeds {config.first_seed}..{config.first_seed + config.seeds - 1}"
    heldout = (
        f"{train.heldout_problems} held-out problems x {train.heldout_samples} samples"
        if train.heldout_problems
        else "no held-out problems"
    )
    skipped = f" ({skipped_runs} finished runs skipped by --resume: not in it)" if skipped_runs else ""
    header = (
        f"# hicra compare: {train.env_id}, model {train.model}, {train.steps} steps, {seeds}\n\n"
        f"Wall time {wall_seconds:.0f} s{skipped}. Intervals: 95% Student-t across seeds. "
        f"Held-out accuracy: {heldout}.\n\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    paired = "" if contrasts is None else "\n" + contrast_markdown(contrasts)
    if ood_contrasts is not None and ood_contrasts.rows:
        paired += "\n" + contrast_markdown(ood_contrasts)
    agents = {s.agent: s.seeds for s in summaries}
    tables = "\n" + mechanism_markdown(list(mechanism), agents) if mechanism else ""
    (out / "summary.md").write_text(header + markdown_table(summaries, config) + paired + tables, encoding="utf-8")
    payload = {
        "config": {**{k: v for k, v in asdict(config).items() if k != "run"}, "run": config.run.to_dict()},
        "wall_seconds": wall_seconds,
        "skipped_runs": skipped_runs,
        "agents": [asdict(s) for s in summaries],
    }
    if contrasts is not None:
        payload["contrasts"] = {k: v for k, v in asdict(contrasts).items() if k != "records"}
        payload["heldout_per_seed"] = contrasts.records
    if ood_contrasts is not None and ood_contrasts.rows:
        payload["contrasts_ood"] = {k: v for k, v in asdict(ood_contrasts).items() if k != "records"}
    if mechanism:
        payload["mechanism"] = {t.name: {"title": t.title, "rows": asdict(t)["rows"]} for t in mechanism}
    text = json.dumps(_json_safe(payload), indent=2, default=str, allow_nan=False)
    (out / "summary.json").write_text(text, encoding="utf-8")


def _json_safe(value):
    """``value`` with every NaN or infinite float replaced by None (JSON null), through dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
