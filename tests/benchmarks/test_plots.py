"""The strategy-mix figure: which strategies a family's panel shows, and a real PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hicra.benchmarks.plots import plot_runs, plot_strategy_mix, strategy_families
from hicra.benchmarks.runs import RunLog

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(agent: str, seed: int, strategy: dict[str, list[float]]) -> RunLog:
    metrics = {
        name: np.linspace(1.0, 1.1, 4) for name in ("accuracy", "semantic_entropy", "relative_execution_perplexity")
    }
    metrics.update({key: np.array(values, dtype=float) for key, values in strategy.items()})
    return RunLog(Path(f"{agent}/seed{seed}"), agent, seed, np.arange(4), metrics)


MIX = {
    "strategy/march/backtrack": [0.5, 0.4, 0.3, 0.2],
    "strategy/march/apply": [0.0, 0.0, 0.0, 0.0],  # a gram-less strategy never gets its own label
    "strategy/march/no_gram": [0.5, 0.6, 0.7, 0.8],
    "strategy/digits/remainder": [0.5, 0.7, np.nan, 1.0],  # NaN: no digits problem that step
    "strategy/digits/no_gram": [0.5, 0.3, np.nan, 0.0],
}


def test_strategy_families_keep_the_gram_strategies_some_run_chose():
    runs = [_run("grpo", 0, MIX), _run("hicra", 0, {**MIX, "strategy/march/apply": [0.0, 0.1, 0.0, 0.0]})]
    assert strategy_families(runs) == {"march": ["backtrack", "apply"], "digits": ["remainder"]}
    assert strategy_families(runs[:1]) == {"march": ["backtrack"], "digits": ["remainder"]}
    assert strategy_families([_run("grpo", 0, {})]) == {}


def test_strategy_mix_png_only_for_tasks_with_strategy_families(tmp_path):
    runs = [_run(agent, seed, MIX) for agent in ("grpo", "hicra") for seed in (0, 1)]
    path = plot_strategy_mix(runs, tmp_path)
    assert path == tmp_path / "strategy_mix.png" and path.read_bytes()[:8] == PNG_MAGIC
    assert path.stat().st_size > 5_000
    assert plot_strategy_mix([_run("grpo", 0, {})], tmp_path / "none") is None
    assert (tmp_path / "all" / "strategy_mix.png") in plot_runs(runs, tmp_path / "all")
