"""Reading training runs back from disk: a run directory holds ``config.json``, ``metrics.jsonl`` and, with
held-out evaluation, ``heldout.jsonl``."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hicra.agents.records import read_jsonl


@dataclass(frozen=True)
class RunLog:
    """One (agent, seed) run: its directory, and each logged metric as a step-indexed array."""

    path: Path
    agent: str
    seed: int
    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    heldout: list[dict] = field(default_factory=list)
    """The ``heldout.jsonl`` rows (``step``, ``heldout_accuracy``, ...), in order; empty without held-out eval.
    An out-of-distribution split, when the run has one, logs ``heldout_ood_accuracy`` in these rows or its own."""

    def final_heldout(self, key: str = "heldout_accuracy") -> float:
        """``key`` of the last held-out row that has it (NaN when no row does)."""
        rows = [row for row in self.heldout if row.get(key) is not None]
        return float(rows[-1][key]) if rows else math.nan

    def curve(self, name: str) -> np.ndarray:
        if name not in self.metrics:
            raise KeyError(f"{self.path}: unknown metric {name!r}; expected one of: {', '.join(self.metrics)}")
        return self.metrics[name]


def load_run(path: Path) -> RunLog:
    """Read one run directory (``config.json`` + ``metrics.jsonl``)."""
    config = json.loads((path / "config.json").read_text())
    rows = read_jsonl(path / "metrics.jsonl")
    names = [k for k in (rows[0] if rows else {}) if k not in ("step", "skipped")]
    metrics = {k: np.array([math.nan if r.get(k) is None else float(r[k]) for r in rows], dtype=float) for k in names}
    steps = np.array([r["step"] for r in rows], dtype=int)
    heldout = read_jsonl(path / "heldout.jsonl") if (path / "heldout.jsonl").is_file() else []
    return RunLog(path, config["agent"]["name"], int(config["train"]["seed"]), steps, metrics, heldout)


def find_runs(paths: list[str | Path]) -> list[RunLog]:
    """Every run under the given directories (a run directory itself, or a compare directory of runs)."""
    runs = []
    for root in map(Path, paths):
        if not root.exists():
            raise FileNotFoundError(
                f"run directory: expected a folder of runs, got {str(root)!r}, which does not exist"
            )
        found = sorted(p.parent for p in root.rglob("metrics.jsonl") if (p.parent / "config.json").is_file())
        if not found:
            raise FileNotFoundError(f"{root}: expected run folders with config.json and metrics.jsonl, found none")
        runs.extend(load_run(p) for p in found)
    return runs


def by_agent(runs: list[RunLog]) -> dict[str, list[RunLog]]:
    """Runs grouped by agent name, in first-seen order, each group sorted by seed."""
    groups: dict[str, list[RunLog]] = defaultdict(list)
    for run in runs:
        groups[run.agent].append(run)
    return {agent: sorted(rs, key=lambda r: r.seed) for agent, rs in groups.items()}


def stack(runs: list[RunLog], name: str) -> np.ndarray:
    """Float[seeds, steps] of one metric, truncated to the shortest run."""
    length = min(len(r.steps) for r in runs)
    return np.stack([r.curve(name)[:length] for r in runs])
