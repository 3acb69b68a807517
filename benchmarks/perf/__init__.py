"""Performance benchmarks, run by hand or by ``hicra bench`` (measurements, never pass/fail tests).

    hicra bench --which all|overhead,mask,... --out runs/bench

=========  ==================================================================  ==============================
name       measures                                                            module
=========  ==================================================================  ==============================
overhead   HICRA's step-time overhead over GRPO on identical batches (<= 3%)   :mod:`.bench_overhead`
mask       planning-mask throughput in tokens/s, against ``batch_decode``      :mod:`.bench_mask`
memory     peak memory of chunked log-probs against full logits                :mod:`.bench_memory`
trl        steps/s vs TRL's ``GRPOTrainer``, hf + vllm engines (``bench``)     :mod:`.bench_trl`
verify     ``verify_batch`` throughput and agreement against math-verify       :mod:`.bench_verify`
mathverify agreement with Math-Verify's own test suite, hicra vs math-verify  :mod:`.bench_mathverify_suite`
hf_env     hf-engine decode / forward tokens/s in each project environment       :mod:`.bench_hf_env`
=========  ==================================================================  ==============================

Each benchmark is also a script, ``python -m hicra.benchmarks.perf.bench_<name> --help``, with small defaults.
Every timing is reported as a ratio against a baseline measured in the same run. :func:`main` runs the selected
benchmarks in order, each in a fresh process, which writes ``<out>/<name>.json`` and ``<out>/<name>.md`` and
prints the Markdown; then :func:`main` writes the combined ``<out>/report.md``.

The processes get ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set it: on a machine whose cores are shared,
OpenMP threads that busy-wait for each other made the tiny policy's steps 8 to 20 times slower.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["BENCHMARKS", "run_benchmarks", "select"]

log = logging.getLogger(__name__)

BENCHMARKS: dict[str, str] = {
    "overhead": "HICRA step-time overhead over GRPO (target <= 3%)",
    "mask": "planning-mask throughput against batch_decode",
    "memory": "peak memory, chunked log-probs vs full logits",
    "trl": "training throughput against TRL's GRPOTrainer",
    "verify": "verify_batch throughput and agreement against math-verify",
    "mathverify": "agreement with Math-Verify's own test suite, hicra vs plain math-verify",
    "hf_env": "hf-engine decode against forward-pass tokens/s in each project environment (issue 22)",
}
"""Benchmark name -> what it measures; ``hicra.benchmarks.perf.bench_<name>`` runs it."""


def select(names: list[str]) -> list[str]:
    """Benchmark names (``"all"`` for every one) -> the names in order; ``KeyError`` names an unknown one."""
    for name in names:
        if name not in BENCHMARKS and name != "all":
            raise KeyError(f"unknown benchmark {name!r}; expected one of: all, {', '.join(BENCHMARKS)}")
    return list(BENCHMARKS) if "all" in names else list(dict.fromkeys(names))


MODULES = {"mathverify": "bench_mathverify_suite"}
"""Benchmark name -> module name, where it is not ``bench_<name>``."""
SUBFOLDERS = ("verify", "mathverify")
"""Benchmarks that write ``results.json`` + ``report.md`` into a folder of their own."""


def _command(name: str, out: Path) -> list[str]:
    target = out / name if name in SUBFOLDERS else out
    module = MODULES.get(name, f"bench_{name}")
    return [sys.executable, "-m", f"hicra.benchmarks.perf.{module}", "--out", str(target)]


def run_one(name: str, out: Path) -> tuple[int, str]:
    """Run benchmark ``name`` in a fresh process (its output shown); returns its exit code and its Markdown."""
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    cmd = _command(name, out)
    print(f"\n## {name}: {BENCHMARKS[name]}\n$ {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    code = subprocess.run(cmd, env=env).returncode
    if name in SUBFOLDERS:
        for src, dst in (("results.json", f"{name}.json"), ("report.md", f"{name}.md")):
            if (out / name / src).is_file():
                shutil.copyfile(out / name / src, out / dst)
    md = out / f"{name}.md"
    text = md.read_text(encoding="utf-8") if md.is_file() else ""
    if code != 0:
        text += f"\n**{name} exited with code {code}** after {time.perf_counter() - start:.0f} s (see its output).\n"
    return code, text


def run_benchmarks(names: list[str], out: str | Path) -> int:
    """Run the benchmarks ``names`` (see :func:`select`) writing into ``out``; 1 if any failed, else 0."""
    names = select(names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections, failed = [], []
    for name in names:
        code, text = run_one(name, out)
        sections.append(text.strip())
        if code != 0:
            failed.append(name)
    header = f"# hicra bench: {', '.join(names)}\n\nEach section is also in `<name>.md` / `<name>.json` here."
    (out / "report.md").write_text("\n\n".join([header, *sections]) + "\n", encoding="utf-8")
    print(f"\nwrote {out / 'report.md'}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
