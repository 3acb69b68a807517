"""Agent comparison: every agent on the same task, problems, seeds, model and budget; table and figures.

A comparison is a base :class:`~hicra.agents.RunConfig` (task, policy, budget: a preset file in
``benchmarks/presets/``) run for every agent and seed. Layout of the output folder::

    out/<agent>/seed<k>/{config.json, metrics.jsonl, heldout.jsonl, checkpoints/}
    out/summary.json, out/summary.md, out/plots/*.png (contrasts.png: the paired differences)

Problems and sampling are seeded by (seed, step), so every agent sees the same problem sequence and, before its
first update, samples the same responses. The table (:mod:`.compare_summary`) reports held-out accuracy (problems
no run trained on, the same for every agent) beside training accuracy, and a second table the paired
differences of held-out accuracy against a reference agent (``CompareConfig.reference``), with paired t
intervals and Holm-corrected p over the contrasts (``CompareConfig.contrasts``).

A run folder that already holds a run is never trained into again by accident: ``resume=True`` (``hicra compare
--resume``) skips the runs whose logs are complete and continues the others from their newest checkpoint (bit for
bit, :meth:`~hicra.agents.Trainer.resume`), after checking that each was written with the same settings; without
it such a folder is an error.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from hicra.agents.records import read_jsonl
from hicra.agents.run_config import RunConfig

from .compare_config import CompareConfig
from .compare_mechanism import mechanism_tables
from .compare_summary import HELDOUT_OOD, AgentSummary, paired_contrasts, summarize, write_summary
from .plots import plot_contrasts, plot_runs
from .runs import find_runs

log = logging.getLogger(__name__)


def _run_one(run: RunConfig, run_dir: str, threads: int, progress_queue=None) -> str:
    """One (agent, seed) training run, in a worker process when ``jobs > 1``; a started one is resumed."""
    import torch

    from hicra.agents import Trainer

    torch.set_num_threads(threads)
    on_step = (lambda _metrics: progress_queue.put(1)) if progress_queue is not None else None
    if run_started(Path(run_dir)):
        trainer = Trainer.resume(run_dir)
        if progress_queue is not None:
            progress_queue.put(trainer.step)
    else:
        trainer = Trainer(run.make_agent(), run.train, run_dir=run_dir)
    trainer.train(progress=False, on_step=on_step)
    return run_dir


def run_started(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds (part of) a run: its step log or a checkpoint."""
    return (run_dir / "metrics.jsonl").is_file() or (run_dir / "checkpoints").is_dir()


def run_finished(run_dir: Path, run: RunConfig) -> bool:
    """Whether ``run_dir``'s logs hold all ``run.train.steps`` steps and, with held-out problems, the final
    held-out row (the trainer writes both before its last checkpoint)."""
    metrics = read_jsonl(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").is_file() else []
    if not metrics or metrics[-1].get("step") != run.train.steps - 1:
        return False
    if not run.train.heldout_problems:
        return True
    heldout = read_jsonl(run_dir / "heldout.jsonl") if (run_dir / "heldout.jsonl").is_file() else []
    return bool(heldout) and heldout[-1].get("step") == run.train.steps


def check_same_settings(run: RunConfig, run_dir: Path) -> None:
    """Raise ``ValueError`` naming the first differing fields when ``run_dir/config.json`` records other settings
    than ``run`` (resolved by its agent, as the trainer records them)."""
    recorded_path = run_dir / "config.json"
    if not recorded_path.is_file():
        raise ValueError(f"{run_dir}: holds a run but no config.json; delete the folder or choose another --out")
    recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
    resolved = RunConfig(agent=run.agent, agent_config=run.make_agent().config, train=run.train)
    wanted = json.loads(json.dumps(resolved.to_dict()))
    diffs = [f"{section}.{key}: recorded {recorded.get(section, {}).get(key)!r}, asked {value!r}"
             for section in ("agent", "train") for key, value in wanted[section].items()
             if recorded.get(section, {}).get(key) != value]  # fmt: skip
    if diffs:
        raise ValueError(
            f"{run_dir}: written with other settings ({'; '.join(diffs[:3])}); resume only continues the same "
            "comparison: choose another --out, or delete the folder"
        )


def runs_to_train(jobs: list[tuple[RunConfig, str]], resume: bool) -> list[tuple[RunConfig, str]]:
    """The runs still to train: with ``resume``, the unfinished ones (each checked against its recorded
    settings); without, all of them, refusing any folder that already holds a run."""
    todo = []
    for run, run_dir in jobs:
        folder = Path(run_dir)
        if not run_started(folder):
            todo.append((run, run_dir))
            continue
        if not resume:
            raise FileExistsError(
                f"{folder} already holds a run: pass --resume to skip finished runs and continue the others, "
                "or choose another --out"
            )
        check_same_settings(run, folder)
        if run_finished(folder, run):
            log.info("compare: %s is complete, skipped", folder)
        else:
            todo.append((run, run_dir))
    return todo


def _prepare_model(run: RunConfig) -> None:
    """Build or convert a preset model once, here, before the runs start (not once per worker process)."""
    from hicra.agents.presets import resolve_model

    resolve_model(run.train.model)


def run_compare(
    config: CompareConfig, out_dir: str | Path, *, plots: bool = True, resume: bool = False
) -> list[AgentSummary]:
    """Train every (agent, seed), then write ``summary.json``, ``summary.md`` and the plots (``resume``: skip the
    finished runs already in ``out_dir`` and continue the started ones)."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    gym.make(config.run.train.env_id, **config.run.train.env_kwargs).close()  # a bad env id fails before training
    missing = [a for a in (config.reference_agent, *config.contrast_agents) if a not in config.agents]
    if missing:
        log.warning("compare: %s not among the agents run (%s): no paired differences for them",
                    ", ".join(missing), ", ".join(config.agents))  # fmt: skip
    _prepare_model(config.run)
    out = Path(out_dir)
    every = config.runs()
    jobs = runs_to_train([(run, str(out / folder)) for run, folder in every], resume)
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
    contrasts = paired_contrasts(runs, config)
    ood = paired_contrasts(runs, config, HELDOUT_OOD)
    mechanism = mechanism_tables(runs, config.final_fraction)
    write_summary(
        summaries,
        config,
        out,
        wall_seconds=wall,
        contrasts=contrasts,
        ood_contrasts=ood,
        mechanism=mechanism,
        skipped_runs=len(every) - len(jobs),
    )
    if plots:
        plot_runs(runs, out / "plots")
        plot_contrasts(contrasts, out / "plots")
        plot_contrasts(ood, out / "plots")
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
