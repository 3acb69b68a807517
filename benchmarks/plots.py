"""Matplotlib PNGs of training dynamics (one line per agent, mean over seeds, with a min-max seed band) and of a
comparison's paired contrasts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np

from .analyze import phase_report
from .curves import smooth
from .runs import RunLog, by_agent, stack

if TYPE_CHECKING:
    from .compare_summary import ContrastTable

PANELS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("accuracy", ("accuracy",), "training accuracy (dotted: phase boundary)"),
    ("semantic_entropy", ("semantic_entropy",), "semantic entropy of Strategic Grams (bits)"),
    ("token_entropy", ("planning_entropy", "execution_entropy"), "token entropy (nats): planning —, execution --"),
    (
        "relative_perplexity",
        ("relative_planning_perplexity", "relative_execution_perplexity"),
        "perplexity / first step: planning —, execution --",
    ),
    ("response_length", ("response_length",), "response length (tokens)"),
    ("planning_ratio", ("planning_ratio",), "planning-token ratio"),
)
"""(file name, metrics (solid, dashed), title) of each figure; ``dynamics.png`` holds them all."""


def _draw(
    ax, runs: list[RunLog], metric: str, color, label: str | None, style: str, window: int, band: bool = True
) -> None:
    if metric not in runs[0].metrics:
        return
    data = np.stack([smooth(row, window) for row in stack(runs, metric)])
    steps = runs[0].steps[: data.shape[1]]
    with np.errstate(all="ignore"):
        mean = np.nanmean(data, axis=0)
    ax.plot(steps, mean, style, color=color, label=label)
    if band and data.shape[0] > 1:
        ax.fill_between(steps, np.nanmin(data, axis=0), np.nanmax(data, axis=0), color=color, alpha=0.15)


def plot_runs(runs: list[RunLog], out_dir: str | Path, *, window: int = 5) -> list[Path]:
    """Write one PNG per panel plus ``dynamics.png`` (all panels) to ``out_dir``, and ``strategy_mix.png`` for a
    task with strategy families (:func:`plot_strategy_mix`); returns the paths.

    One line per agent (mean over seeds, ``window``-step moving average) with a min-max band over seeds; the
    accuracy panel marks each agent's phase boundary (:mod:`.analyze`) with a dotted line."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups = by_agent(runs)
    boundaries = {agent: phase_report(agent, agent_runs).boundary for agent, agent_runs in groups.items()}
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    written = []
    grid, axes = plt.subplots(2, 3, figsize=(15, 8))
    for (name, metrics, title), grid_ax in zip(PANELS, axes.flat, strict=True):
        fig, ax = plt.subplots(figsize=(6, 4))
        for target in (ax, grid_ax):
            for i, (agent, agent_runs) in enumerate(groups.items()):
                color = colors[i % len(colors)]
                for metric, style in zip(metrics, ("-", "--"), strict=False):
                    label = agent if metric == metrics[0] else None
                    _draw(target, agent_runs, metric, color, label, style, window)
                if name == "accuracy" and boundaries.get(agent) is not None:
                    target.axvline(boundaries[agent], color=color, linestyle=":", linewidth=1.2)
            target.set_title(title, fontsize=9)
            target.set_xlabel("step")
            target.grid(alpha=0.3)
            target.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    grid.suptitle(f"training dynamics (mean over seeds, band = min-max, {window}-step moving average)")
    grid.tight_layout()
    grid.savefig(out / "dynamics.png", dpi=100)
    plt.close(grid)
    mix = plot_strategy_mix(runs, out)
    return [*written, out / "dynamics.png", *([mix] if mix else [])]


def plot_contrasts(table: ContrastTable, out_dir: str | Path) -> Path | None:
    """``contrasts.png``: for each contrast of ``table`` (first on top), its per-seed differences (grey dots) and
    their mean with the 95% paired t interval (bar), beside the Holm-corrected p (``contrasts_<metric>.png`` for
    another metric than held-out accuracy); None when no contrast has a paired seed."""
    rows = [row for row in table.rows if row.differences]
    if not rows:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jitter = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(8, 0.7 * len(rows) + 1.6))
    for y, row in enumerate(reversed(rows)):
        d = np.asarray(row.differences, dtype=float)
        ax.scatter(d, y + jitter.uniform(-0.15, 0.15, d.size), s=14, color="grey", alpha=0.6, zorder=2)
        test = row.test
        if test is not None and test.low == test.low:
            bar = [[test.mean - test.low], [test.high - test.mean]]
            ax.errorbar(test.mean, y, xerr=bar, fmt="o", color="C0", capsize=5, linewidth=2, zorder=3)
        else:
            ax.plot(float(np.nanmean(d)), y, "o", color="C0", zorder=3)
    ax.axvline(0.0, color="black", linewidth=1)
    labels = [f"{row.agent} - {row.reference}\nHolm p {row.p_holm:.3f}, {len(row.seeds)} seeds" for row in rows]
    ax.set_yticks(range(len(rows)), list(reversed(labels)), fontsize=8)
    ax.set_xlabel(f"{table.metric}, paired by seed (dots: seeds; bar: mean and 95% paired t interval)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    path = out / ("contrasts.png" if table.metric == "heldout_accuracy" else f"contrasts_{table.metric}.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


STYLES = ("-", "--", ":", "-.")


def strategy_families(runs: list[RunLog]) -> dict[str, list[str]]:
    """Family -> the strategies with Strategic Grams that some run chose (``strategy/<family>/<label>`` metrics,
    :mod:`hicra.agents.strategy_metrics`), in logged order; ``no_gram`` (one minus their sum) is left out."""
    families: dict[str, list[str]] = {}
    for key in runs[0].metrics if runs else ():
        if not key.startswith("strategy/") or key.count("/") != 2:
            continue
        _, family, label = key.split("/")
        chosen = any(key in r.metrics and np.nanmax(np.nan_to_num(r.metrics[key], nan=0.0)) > 0 for r in runs)
        families.setdefault(family, [])
        if label != "no_gram" and chosen:
            families[family].append(label)
    return {family: labels for family, labels in families.items() if labels}


def plot_strategy_mix(runs: list[RunLog], out_dir: str | Path, *, window: int = 10) -> Path | None:
    """``strategy_mix.png``: per family, the share of each gram strategy among the step's responses to that
    family's problems (mean over seeds, ``window``-step moving average), one colour per agent and one line style
    per strategy; None for a task without strategy families."""
    families = strategy_families(runs)
    if not families:
        return None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups = by_agent(runs)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, len(families), figsize=(4.6 * len(families), 4), squeeze=False)
    for ax, (family, labels) in zip(axes[0], families.items(), strict=True):
        for i, (agent, agent_runs) in enumerate(groups.items()):
            for label, style in zip(labels, STYLES, strict=False):
                name = agent if label == labels[0] else None
                _draw(ax, agent_runs, f"strategy/{family}/{label}", colors[i % len(colors)], name, style, window, False)
        legend = ", ".join(f"{label} ({style})" for label, style in zip(labels, STYLES, strict=False))
        ax.set_title(f"{family}: {legend}", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("share of the family's responses")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"strategy mix by family (mean over seeds, {window}-step moving average)")
    fig.tight_layout()
    path = out / "strategy_mix.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
