"""``hicra eval``: sample n responses per problem of each suite, verify them, write records and summaries.

For each suite, in ``<out>/<suite>/``: ``samples.jsonl`` (one :class:`~.eval_records.SampleRecord` per
(problem, sample)), ``run.json`` (generation settings), ``summary.json`` and ``summary.md``; in ``<out>/``:
``summary.json`` and ``summary.md`` over the suites of this run. A rerun of the same command generates only the
missing samples (see :mod:`hicra.benchmarks.eval_records`), so an interrupted run resumes where it stopped,
and a larger ``--n`` or ``--limit`` extends an earlier one.

Prompts come from the suite's env (``gymnasium.make(env_id, template=..., mode="strict", data_path=...)``),
the policy adds its chat template, responses are generated ``batch_size`` at a time and scored with one
``MathEnv.evaluate`` call (one ``verify_batch``) per batch. Each batch is seeded from ``seed`` and the key of
its first sample, so a run is reproducible for the same batch size and device.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .eval_records import SAMPLES_FILE, SampleRecord, append_records, check_run_settings, load_records
from .eval_summary import SuiteSummary, summarize, write_overall_summary, write_suite_summary
from .suites import Suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    """One ``hicra eval`` run."""

    model: str
    """Preset, local directory or hub id (recorded in the outputs)."""
    suites: tuple[Suite, ...]
    """Suites with their (possibly overridden) n and sampling settings."""
    out: Path
    """Output folder."""
    ks: tuple[int, ...] | None = None
    """k values for pass@k / maj@k; None: each suite's :meth:`Suite.default_ks`. ks above a suite's n are skipped."""
    limit: int | None = None
    """Only the first ``limit`` problems of each suite."""
    data_dir: Path | None = None
    """Folder of ``<suite>.jsonl`` files; None loads from the hub."""
    batch_size: int = 16
    """Responses per ``Policy.generate`` call."""
    seed: int = 0
    """Base sampling seed."""
    progress: bool = True
    """Show a tqdm bar (samples, with ETA) per suite."""
    device: str = "auto"
    """Torch device of the policy; ``auto``: CUDA when available, else CPU."""
    dtype: str | None = None
    """Policy dtype; None: float32 on CPU, bfloat16 on GPU."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra ``gymnasium.make`` keyword arguments for every suite's env."""
    multiple: str = "last"
    """Several different final answers in one response: ``"last"`` counts the last (the field's convention),
    ``"reject"`` marks the response wrong (recorded in ``run.json``)."""
    engine: str = "hf"
    """Rollout engine: ``hf``, ``vllm`` or ``auto`` (see :mod:`hicra.agents.engines`)."""
    tensor_parallel_size: int = 1
    """vllm: GPUs per model replica."""
    data_parallel_size: int = 1
    """vllm: model replicas (a suite's prompts are spread over them)."""

    def __post_init__(self) -> None:
        if not self.suites:
            raise ValueError("suites: expected at least one suite, got none")
        for name in ("batch_size", "limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        if self.ks is not None and (not self.ks or min(self.ks) < 1):
            raise ValueError(f"ks: expected a non-empty list of integers >= 1, got {self.ks!r}")


def make_suite_env(suite: Suite, data_dir: Path | None, **env_kwargs: Any):
    """The suite's env: its template, strict extraction, local data when ``data_dir`` is given (``env_kwargs``,
    e.g. ``multiple``, go to ``gymnasium.make``)."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    kwargs: dict[str, Any] = {"template": suite.template, "mode": "strict", **env_kwargs}
    path = suite.data_path(data_dir)
    if path is not None:
        kwargs["data_path"] = str(path)
    return gym.make(suite.env_id, **kwargs)


def load_policy(model: str, *, device: str = "auto", dtype: str | None = None):
    """``Policy.from_pretrained`` with ``device="auto"`` (CUDA when available) and a device-dependent dtype."""
    import torch

    from hicra.agents.policy import Policy

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = dtype or ("float32" if str(device).startswith("cpu") else "bfloat16")
    return Policy.from_pretrained(model, device=device, dtype=dtype)


def _batch_seed(seed: int, suite: str, key: tuple[str, int]) -> int:
    return zlib.crc32(f"{seed}:{suite}:{key[0]}:{key[1]}".encode()) & 0x7FFFFFFF


def _pending(prompts: dict[str, str], n: int, done: dict[tuple[str, int], SampleRecord]) -> list[tuple[str, int]]:
    return [(pid, s) for pid in prompts for s in range(n) if (pid, s) not in done]


def _generate_batch(policy, env, suite: Suite, batch: list[tuple[str, int]], prompts: dict[str, str], seed: int):
    from hicra.agents.policy import SamplingConfig

    sampling = SamplingConfig(temperature=suite.temperature, top_p=suite.top_p, max_new_tokens=suite.max_new_tokens)
    gen = policy.generate([prompts[pid] for pid, _ in batch], num_samples=1, sampling=sampling, seed=seed)
    _, infos = env.get_wrapper_attr("evaluate")([pid for pid, _ in batch], gen.texts)
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
        for (pid, s), text, info, ntok in zip(batch, gen.texts, infos, tokens)
    ]


def _suite_prompts(env, limit: int | None) -> dict[str, str]:
    """problem_id -> prompt for the first ``limit`` problems of the env, in order."""
    size = len(env.get_wrapper_attr("source"))
    count = size if limit is None else min(limit, size)
    prompts = {}
    for index in range(count):
        prompt, info = env.reset(options={"index": index})
        prompts[info["problem_id"]] = prompt
    return prompts


def _settings(config: EvalConfig, suite: Suite) -> dict[str, Any]:
    """What makes two samples comparable: recorded in ``run.json`` and checked on resume."""
    return {
        "model": config.model,
        "env_id": suite.env_id,
        "template": suite.template,
        "mode": "strict",
        "multiple": config.multiple,
        "temperature": suite.temperature,
        "top_p": suite.top_p,
        "max_new_tokens": suite.max_new_tokens,
    }


def run_suite(policy, suite: Suite, config: EvalConfig) -> SuiteSummary:
    """Generate the missing samples of one suite, then summarise all n samples of its first problems."""
    env = make_suite_env(suite, config.data_dir, multiple=config.multiple, **config.env_kwargs)
    prompts = _suite_prompts(env, config.limit)
    folder = config.out / suite.name
    settings = _settings(config, suite)
    check_run_settings(folder, settings)
    path = folder / SAMPLES_FILE
    done = load_records(path)
    todo = _pending(prompts, suite.n, done)
    total = len(prompts) * suite.n
    log.info("%s: %d problems x %d samples, %d to generate", suite.name, len(prompts), suite.n, len(todo))
    with tqdm(
        total=total, initial=total - len(todo), unit="sample", desc=suite.name, disable=not config.progress
    ) as bar:
        for start in range(0, len(todo), config.batch_size):
            batch = todo[start : start + config.batch_size]
            seed = _batch_seed(config.seed, suite.name, batch[0])
            records = _generate_batch(policy, env, suite, batch, prompts, seed)
            append_records(path, records)
            done.update((r.key, r) for r in records)
            bar.update(len(batch))
    rows = [[done[(pid, s)] for s in range(suite.n)] for pid in prompts]
    ks = list(config.ks) if config.ks else suite.default_ks()
    del settings["mode"]
    summary = summarize(rows, ks, n=suite.n, suite=suite.name, **settings)
    write_suite_summary(summary, folder)
    return summary


def run_eval(config: EvalConfig, policy=None) -> list[SuiteSummary]:
    """Evaluate ``policy`` (default: loaded from ``config.model``) on every suite; writes all outputs."""
    for suite in config.suites:
        suite.data_path(config.data_dir)  # a missing data file fails before the model loads
    policy = policy if policy is not None else load_policy(config.model, device=config.device, dtype=config.dtype)
    config.out.mkdir(parents=True, exist_ok=True)
    summaries = [run_suite(policy, suite, config) for suite in config.suites]
    write_overall_summary(summaries, config.out)
    log.info("wrote samples and summaries to %s", config.out)
    return summaries


def default_out(model: str) -> Path:
    """``runs/eval/<model name>``: the last path component of the model, made filesystem-safe."""
    name = Path(model.rstrip("/")).name or "model"
    return Path("runs") / "eval" / re.sub(r"[^A-Za-z0-9._-]+", "_", name)
