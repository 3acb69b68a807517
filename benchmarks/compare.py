"""Agent comparison: every agent on the same task, problems, seeds, model and budget; table and figures.

A comparison is a base :class:`~hicra.agents.RunConfig` (task, policy, budget: a preset file in
``benchmarks/presets/``) run for every agent and seed. Layout of the output folder::

    out/<agent>/seed<k>/{config.json, metrics.jsonl, heldout.jsonl, checkpoints/}
    out/summary.json, out/summary.md, out/plots/*.png

Problems and sampling are seeded by (seed, step), so every agent sees the same problem sequence and, before its
first update, samples the same responses. The table (:mod:`.compare_summary`) reports held-out accuracy (problems
no run trained on, the same for every agent) beside training accuracy.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from hicra.agents.run_config import RunConfig

from .compare_summary import AgentSummary, summarize, write_summary
from .plots import plot_runs
from .runs import find_runs

log = logging.getLogger(__name__)

DEFAULT_PRESET = "miniature"
STUDY_KEYS = ("study_agents", "study_seeds")
"""Keys of a preset's ``[compare]`` table that describe its full study (``hicra compare --study``)."""


@dataclass(frozen=True)
class CompareConfig:
    """What a comparison runs: ``run`` for every agent in ``agents`` and every seed."""

    run: RunConfig = field(default_factory=RunConfig)
    """The base run: task, policy, budget, and the agent settings every agent shares (its agent name is ignored)."""
    agents: tuple[str, ...] = ("grpo", "hicra", "entropy_grpo")
    """Agent names from ``hicra.agents.AGENTS``."""
    seeds: int = 3
    """Seeds per agent: ``first_seed .. first_seed + seeds - 1``."""
    first_seed: int = 0
    """The first seed (rerun on seeds nobody used by raising it)."""
    jobs: int = 2
    """Runs in parallel processes, each with ``max(1, cores // jobs)`` torch threads."""
    target_accuracy: float = 0.5
    """Threshold of the "steps to target" column (on 5-step smoothed training accuracy)."""
    final_fraction: float = 0.25
    """Share of the last (and first) steps averaged for final (and initial) training accuracy."""

    def __post_init__(self) -> None:
        for agent in self.agents:
            replace(self.run, agent=agent)  # RunConfig checks the name
        for name, low in (("seeds", 1), ("first_seed", 0), ("jobs", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
        if not self.agents:
            raise ValueError("agents: expected at least one agent name, got none")
        if not 0 <= self.target_accuracy <= 1:
            raise ValueError(f"target_accuracy: expected a number in [0, 1], got {self.target_accuracy!r}")
        if not 0 < self.final_fraction <= 1:
            raise ValueError(f"final_fraction: expected a number in (0, 1], got {self.final_fraction!r}")

    def runs(self) -> list[tuple[RunConfig, str]]:
        """Every (run config, ``<agent>/seed<k>`` folder) of the comparison, agent-major."""
        seeds = range(self.first_seed, self.first_seed + self.seeds)
        return [
            (replace(self.run, agent=agent, train=replace(self.run.train, seed=seed)), f"{agent}/seed{seed}")
            for agent in self.agents
            for seed in seeds
        ]


def preset_names() -> list[str]:
    """The presets shipped in ``benchmarks/presets/`` (``<name>.toml``)."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files(__package__).joinpath("presets").iterdir()
                  if p.name.endswith(".toml"))  # fmt: skip


def preset_path(name: str) -> Path:
    """The file of preset ``name``; ``KeyError`` names the presets there are."""
    if name not in preset_names():
        raise KeyError(f"unknown preset {name!r}; expected one of: {', '.join(preset_names())}")
    return Path(str(resources.files(__package__).joinpath("presets", f"{name}.toml")))


def compare_config(data: dict[str, Any], *, study: bool = False) -> CompareConfig:
    """A :class:`CompareConfig` from a preset's dict: ``[agent]``/``[train]`` make the base run, ``[compare]``
    the rest (``study``: its ``study_agents`` and ``study_seeds`` instead of ``agents`` and ``seeds``)."""
    data = dict(data)
    section = dict(data.pop("compare", None) or {})
    known = [f.name for f in fields(CompareConfig) if f.name != "run"]
    for key in section:
        if key not in (*known, *STUDY_KEYS):
            raise KeyError(f"unknown compare field {key!r}; expected one of: {', '.join([*known, *STUDY_KEYS])}")
    study_values = {key.removeprefix("study_"): section.pop(key) for key in STUDY_KEYS if key in section}
    if study:
        section.update(study_values)
    if "agents" in section:
        section["agents"] = tuple(section["agents"])
    return CompareConfig(run=RunConfig.from_dict(data), **section)


def _run_one(run: RunConfig, run_dir: str, threads: int, progress_queue=None) -> str:
    """One (agent, seed) training run, in a worker process when ``jobs > 1``."""
    import torch

    from hicra.agents import Trainer

    torch.set_num_threads(threads)
    on_step = (lambda _metrics: progress_queue.put(1)) if progress_queue is not None else None
    Trainer(run.make_agent(), run.train, run_dir=run_dir).train(progress=False, on_step=on_step)
    return run_dir


def _prepare_model(run: RunConfig) -> None:
    """Build or convert a preset model once, here, before the runs start (not once per worker process)."""
    from hicra.agents.presets import resolve_model

    resolve_model(run.train.model)


def run_compare(config: CompareConfig, out_dir: str | Path, *, plots: bool = True) -> list[AgentSummary]:
    """Train every (agent, seed), then write ``summary.json``, ``summary.md`` and the plots."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    gym.make(config.run.train.env_id, **config.run.train.env_kwargs).close()  # a bad env id fails before training
    _prepare_model(config.run)
    out = Path(out_dir)
    jobs = [(run, str(out / folder)) for run, folder in config.runs()]
    threads = max(1, (os.cpu_count() or 1) // config.jobs)
    total = sum(run.train.steps for run, _ in jobs)
    start = time.perf_counter()
    with tqdm(total=total, desc=f"compare: {len(jobs)} runs", unit="step") as bar:
        if config.jobs == 1:
            for run, run_dir in jobs:
                _run_one(run, run_dir, threads, _BarQueue(bar))
        else:
            _run_parallel(jobs, config.jobs, threads, bar)
    wall = time.perf_counter() - start
    runs = find_runs([out])
    summaries = summarize(runs, config)
    write_summary(summaries, config, out, wall_seconds=wall)
    if plots:
        plot_runs(runs, out / "plots")
    return summaries


class _BarQueue:
    """A queue-like front of a tqdm bar for in-process runs."""

    def __init__(self, bar) -> None:
        self.bar = bar

    def put(self, n: int) -> None:
        self.bar.update(n)


def _run_parallel(jobs: list[tuple[RunConfig, str]], workers: int, threads: int, bar) -> None:
    context = get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        queue = manager.Queue()
        futures = [pool.submit(_run_one, run, run_dir, threads, queue) for run, run_dir in jobs]
        pending = set(futures)
        while pending:
            while not queue.empty():
                bar.update(queue.get())
            pending = {f for f in pending if not f.done()}
            time.sleep(0.2)
        while not queue.empty():
            bar.update(queue.get())
        for future in as_completed(futures):
            future.result()
