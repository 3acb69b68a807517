"""Who generates and scores ``hicra eval``'s batches: this process's policy, or ``data_parallel_size`` worker
processes, each with its own policy (vLLM engine or transformers) on its own GPUs (``tensor_parallel_size`` each)
or CPU cores.

Either way a batch is one :class:`BatchJob` (sample keys, prompts, one seed per sample) and comes back as its
:class:`~.eval_records.SampleRecord` list; only the calling process writes records, so resume works the same.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .eval_records import SampleRecord
from .suites import Suite

log = logging.getLogger(__name__)

DEFAULT_BATCH = {"hf": 16, "vllm": 256}
"""Responses per batch by engine: vLLM schedules a large batch itself; a batch is also the unit of resume."""


@dataclass(frozen=True)
class BatchJob:
    """One batch of samples of one suite: what a generator needs to produce and score them."""

    suite: Suite
    env_kwargs: dict[str, Any]
    keys: tuple[tuple[str, int], ...]
    """(problem id, sample index) of each response."""
    prompts: tuple[str, ...]
    seeds: tuple[int, ...]
    """One sampling seed per response (:func:`sample_seed`): a sample does not depend on the batch it is in."""


def sample_seed(seed: int, suite: str, key: tuple[str, int]) -> int:
    """The sampling seed of one sample: from the run's seed, the suite and the sample's key (problem id, index)."""
    return zlib.crc32(f"{seed}:{suite}:{key[0]}:{key[1]}".encode()) & 0x7FFFFFFF


def load_policy(
    model: str,
    *,
    device: str = "auto",
    dtype: str | None = None,
    engine: str = "hf",
    adapter: str | None = None,
    **engine_options,
):
    """``Policy.from_pretrained`` with ``device="auto"`` (CUDA when available), a device-dependent dtype
    (float32 on CPU, bfloat16 on GPU) and the rollout engine ``engine`` (``hf``, ``vllm``, ``auto``); ``adapter``
    (or a ``model`` that is an adapter folder) is a saved LoRA adapter, merged into its base."""
    import torch

    from hicra.agents.policy import Policy

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = dtype or ("float32" if str(device).startswith("cpu") else "bfloat16")
    return Policy.from_pretrained(
        model, device=device, dtype=dtype, engine=engine, engine_options=engine_options, adapter=adapter
    )


def make_suite_env(suite: Suite, data_dir: Path | None, **env_kwargs: Any):
    """The suite's env: its template, strict extraction unless ``env_kwargs`` names a ``mode``, local data when
    ``data_dir`` is given (``env_kwargs``, e.g. ``multiple`` and ``mode``, go to ``gymnasium.make``)."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    kwargs: dict[str, Any] = {"template": suite.template, "mode": "strict", **env_kwargs}
    path = suite.data_path(data_dir)
    if path is not None:
        kwargs["data_path"] = str(path)
    return gym.make(suite.env_id, **kwargs)


def generate_batch(policy, env, job: BatchJob) -> list[SampleRecord]:
    """Sample one response per key with ``policy``, score them with one ``env`` call, as records."""
    from hicra.agents.sampling import SamplingConfig

    suite = job.suite
    sampling = SamplingConfig(temperature=suite.temperature, top_p=suite.top_p, max_new_tokens=suite.max_new_tokens)
    gen = policy.generate(list(job.prompts), num_samples=1, sampling=sampling, seeds=list(job.seeds))
    _, infos = env.get_wrapper_attr("evaluate")([pid for pid, _ in job.keys], gen.texts)
    tokens = gen.response_mask.sum(dim=1).tolist()
    return [
        SampleRecord(
            problem_id=pid,
            sample=s,
            response=text,
            extracted=info["extracted"],
            correct=bool(info["correct"]),
            reason=str(info["reason"]),
            gold=str(info["answer"]),
            tokens=int(ntok),
        )
        for (pid, s), text, info, ntok in zip(job.keys, gen.texts, infos, tokens)
    ]


class LocalGenerator:
    """Generates every batch in this process, with ``policy``; ``env_for(suite)`` gives each suite's env."""

    def __init__(self, policy, env_for) -> None:
        self.policy, self.env_for = policy, env_for

    def run(self, jobs: list[BatchJob]) -> Iterator[list[SampleRecord]]:
        for job in jobs:
            yield generate_batch(self.policy, self.env_for(job.suite), job)

    def close(self) -> None:
        pass


_WORKER: dict[str, Any] = {}
"""The worker process's policy and envs (one worker, one model)."""


def _init_worker(options: dict[str, Any], ranks) -> None:
    rank, workers, tp = ranks.get(), options.pop("workers"), options.get("tensor_parallel_size", 1)
    device = options.get("device", "auto")
    if device == "cpu" or (device == "auto" and not _has_gpus()):
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    else:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        gpus = visible.split(",") if visible else [str(i) for i in range(workers * tp)]
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[rank * tp : (rank + 1) * tp])
    data_dir = options.pop("data_dir")
    _WORKER.update(policy=load_policy(**options), envs={}, data_dir=data_dir)
    log.info("eval worker %d of %d ready", rank, workers)


def _has_gpus() -> bool:
    import shutil

    return shutil.which("nvidia-smi") is not None or bool(os.environ.get("CUDA_VISIBLE_DEVICES"))


def _work(job: BatchJob) -> list[SampleRecord]:
    envs = _WORKER["envs"]
    if job.suite.name not in envs:
        envs[job.suite.name] = make_suite_env(job.suite, _WORKER["data_dir"], **job.env_kwargs)
    return generate_batch(_WORKER["policy"], envs[job.suite.name], job)


class PoolGenerator:
    """Generates batches in ``workers`` spawned processes, each holding its own policy (``load_options``)."""

    def __init__(self, workers: int, load_options: dict[str, Any], data_dir: Path | None) -> None:
        context = get_context("spawn")
        ranks = context.Manager().Queue()
        for rank in range(workers):
            ranks.put(rank)
        options = {**load_options, "workers": workers, "data_dir": data_dir}
        self.pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(options, ranks)
        )

    def run(self, jobs: list[BatchJob]) -> Iterator[list[SampleRecord]]:
        futures = [self.pool.submit(_work, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
