"""``hicra eval``: sample n responses per problem of each suite, verify them, write records and summaries.

For each suite, in ``<out>/<suite>/``: ``samples.jsonl`` (one :class:`~.eval_records.SampleRecord` per
(problem, sample)), ``run.json`` (generation settings), ``summary.json`` and ``summary.md``; in ``<out>/``:
``summary.json`` and ``summary.md`` over the suites of this run. A rerun of the same command generates only the
missing samples (see :mod:`hicra.benchmarks.eval_records`), so an interrupted run resumes where it stopped,
and a larger ``--n`` or ``--limit`` extends an earlier one.

Prompts come from the suite's env (``gymnasium.make(env_id, template=..., mode=..., data_path=...)``; ``--template``
and ``--mode`` override the suite's template and strict extraction),
the policy adds its chat template, responses are generated ``batch_size`` at a time (by this process or by
``data_parallel_size`` worker processes, see :mod:`.eval_generate`) and scored with one ``MathEnv.evaluate`` call
(one ``verify_batch``) per batch. Each batch is seeded from ``seed`` and the key of its first sample, so a run is
reproducible for the same batch size, engine and device.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .eval_generate import (
    DEFAULT_BATCH,
    BatchJob,
    LocalGenerator,
    PoolGenerator,
    load_policy,
    make_suite_env,
    sample_seed,
)
from .eval_records import SAMPLES_FILE, SampleRecord, append_records, check_run_settings, load_records
from .eval_summary import SuiteSummary, summarize, write_overall_summary, write_suite_summary
from .suites import Suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalConfig:
    """One ``hicra eval`` run."""

    model: str
    """Preset, local directory or hub id (recorded in the outputs); or a saved LoRA adapter folder, whose
    ``adapter_config.json`` names its base model."""
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
    batch_size: int | None = None
    """Responses per ``Policy.generate`` call (None: 16 with the hf engine, 256 with vllm); the unit of resume."""
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
    mode: str = "strict"
    """Answer extraction: ``"strict"`` reads ``\\boxed{}`` and final-answer lines only; ``"lenient"`` also reads
    "The answer is ...", ``####`` and a bare answer (small and base models that never box; recorded in ``run.json``)."""
    engine: str = "hf"
    """Rollout engine: ``hf``, ``vllm`` or ``auto`` (see :mod:`hicra.agents.engines`)."""
    tensor_parallel_size: int = 1
    """vllm: GPUs per model replica."""
    data_parallel_size: int = 1
    """vllm: model replicas (a suite's prompts are spread over them)."""
    adapter: str | None = None
    """A saved LoRA adapter folder (peft's ``save_pretrained``, or a LoRA run's ``checkpoints/step-N/adapter``),
    merged into ``model`` before sampling; None: ``model`` alone."""
    log_to: str = "jsonl"
    """Where each suite's scores go besides ``summary.json``, as ``TrainConfig.log_to``: ``<out>/metrics.jsonl``
    always (one line a suite and invocation), TensorBoard and W&B under ``eval/<suite>/<metric>``."""

    def __post_init__(self) -> None:
        if not self.suites:
            raise ValueError("suites: expected at least one suite, got none")
        for name in ("batch_size", "limit", "tensor_parallel_size", "data_parallel_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        from hicra.verifiers import MODES

        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of: {', '.join(MODES)}, got {self.mode!r}")
        from hicra.agents.config import log_backends

        log_backends(self.log_to)
        if self.ks is not None and (not self.ks or min(self.ks) < 1):
            raise ValueError(f"ks: expected a non-empty list of integers >= 1, got {self.ks!r}")


def _env_kwargs(config: EvalConfig) -> dict[str, Any]:
    """``gymnasium.make`` keyword arguments of every suite's env: the answer policies, then the user's extras."""
    return {"multiple": config.multiple, "mode": config.mode, **config.env_kwargs}


def _pending(prompts: dict[str, str], n: int, done: dict[tuple[str, int], SampleRecord]) -> list[tuple[str, int]]:
    return [(pid, s) for pid in prompts for s in range(n) if (pid, s) not in done]


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
        "mode": config.mode,
        "multiple": config.multiple,
        "temperature": suite.temperature,
        "top_p": suite.top_p,
        "max_new_tokens": suite.max_new_tokens,
    }


def run_suite(generator, suite: Suite, config: EvalConfig, env) -> SuiteSummary:
    """Generate the missing samples of one suite (whose env is ``env``), then summarise all n samples of its first
    problems."""
    env_kwargs = _env_kwargs(config)
    prompts = _suite_prompts(env, config.limit)
    folder = config.out / suite.name
    settings = _settings(config, suite)
    check_run_settings(folder, {**settings, **({"adapter": config.adapter} if config.adapter else {})})
    path = folder / SAMPLES_FILE
    done = load_records(path)
    todo = _pending(prompts, suite.n, done)
    total = len(prompts) * suite.n
    log.info("%s: %d problems x %d samples, %d to generate", suite.name, len(prompts), suite.n, len(todo))
    with tqdm(
        total=total, initial=total - len(todo), unit="sample", desc=suite.name, disable=not config.progress
    ) as bar:
        size = config.batch_size or DEFAULT_BATCH.get(config.engine, 16)
        jobs = [
            BatchJob(suite, env_kwargs, tuple(batch), tuple(prompts[pid] for pid, _ in batch),
                     tuple(sample_seed(config.seed, suite.name, key) for key in batch))
            for batch in (todo[i : i + size] for i in range(0, len(todo), size))
        ]  # fmt: skip
        start, tokens = time.perf_counter(), 0
        for records in generator.run(jobs):
            append_records(path, records)
            done.update((r.key, r) for r in records)
            tokens += sum(r.tokens for r in records)
            bar.update(len(records))
        seconds = time.perf_counter() - start
    if todo:
        log.info("%s: generated %d tokens in %.1f s (%.0f tokens/s, engine %s)", suite.name, tokens, seconds,
                 tokens / max(seconds, 1e-9), config.engine)  # fmt: skip
    rows = [[done[(pid, s)] for s in range(suite.n)] for pid in prompts]
    ks = list(config.ks) if config.ks else suite.default_ks()
    throughput = {"engine": config.engine, "samples": len(todo), "tokens": tokens, "seconds": round(seconds, 3)}
    summary = summarize(rows, ks, n=suite.n, suite=suite.name, throughput=throughput, **settings)
    write_suite_summary(summary, folder)
    return summary


def _generator(config: EvalConfig, policy, env_for):
    """This process's policy (given, or loaded) with the suites' envs ``env_for(suite)``, or
    ``data_parallel_size`` workers with a policy and envs each."""
    options = dict(model=config.model, device=config.device, dtype=config.dtype, engine=config.engine)
    if config.adapter is not None:
        options["adapter"] = config.adapter
    if config.engine != "hf":
        options["tensor_parallel_size"] = config.tensor_parallel_size
    if policy is None and config.data_parallel_size > 1:
        return PoolGenerator(config.data_parallel_size, options, config.data_dir)
    policy = policy if policy is not None else load_policy(**options)
    return LocalGenerator(policy, env_for)


def run_eval(config: EvalConfig, policy=None) -> list[SuiteSummary]:
    """Evaluate ``policy`` (default: loaded from ``config.model``, in ``data_parallel_size`` processes) on every
    suite; writes all outputs."""
    for suite in config.suites:
        suite.data_path(config.data_dir)  # a missing data file fails before the model loads
    envs: dict[str, Any] = {}

    def env_for(suite: Suite):
        """One env per suite, shared by the prompts, the records and this process's generator."""
        if suite.name not in envs:
            envs[suite.name] = make_suite_env(suite, config.data_dir, **_env_kwargs(config))
        return envs[suite.name]

    generator = _generator(config, policy, env_for)
    config.out.mkdir(parents=True, exist_ok=True)
    try:
        summaries = [run_suite(generator, suite, config, env_for(suite)) for suite in config.suites]
    finally:
        generator.close()
    write_overall_summary(summaries, config.out)
    log_summaries(summaries, config)
    log.info("wrote samples and summaries to %s", config.out)
    return summaries


def log_summaries(summaries: list[SuiteSummary], config: EvalConfig) -> None:
    """Each suite's scores to the run log (``config.log_to``) as ``eval/<suite>/<metric>`` at step 0."""
    from hicra.agents.run_log import RunLog

    settings = {"model": config.model, "engine": config.engine, "seed": config.seed, "mode": config.mode}
    with RunLog(config.out, config.log_to, config=settings, name=f"eval-{default_out(config.model).name}") as run_log:
        for s in summaries:
            row = {"suite": s.suite, "num_problems": s.num_problems, "n": s.n, **s.metrics, "stderr": s.stderr,
                   "mean_tokens": s.mean_tokens, "no_answer_rate": s.no_answer_rate}  # fmt: skip
            run_log.log(0, row, prefix=f"eval/{s.suite}", file="metrics.jsonl")


def default_out(model: str) -> Path:
    """``runs/eval/<model name>``: the last path component of the model, made filesystem-safe."""
    name = Path(model.rstrip("/")).name or "model"
    return Path("runs") / "eval" / re.sub(r"[^A-Za-z0-9._-]+", "_", name)
