"""Timing for the performance benchmarks: interleaved repetitions, medians and the machine's state.

Every benchmark reports ratios against a baseline measured in the same run. On a shared machine the speed
drifts while a benchmark runs, so the variants being compared run in turn within each repetition (the order
rotating from one repetition to the next) and the reports give medians.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping

from tqdm.auto import tqdm


def interleaved(
    variants: Mapping[str, Callable[[], object]], reps: int, *, desc: str | None = None
) -> dict[str, list[float]]:
    """Seconds per call of each variant, ``reps`` calls each, the variants taking turns.

    Repetition ``r`` runs the variants in their given order rotated by ``r`` places, so none always runs first
    (right after another variant warmed a cache, or right before the machine got busier).
    """
    if reps < 1:
        raise ValueError(f"reps: expected an integer >= 1, got {reps!r}")
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in tqdm(range(reps), desc=desc, disable=desc is None, leave=False):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - start)
    return times


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Mean seconds per call over ``calls`` back-to-back calls (for operations too short to time one by one)."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def summary(seconds: list[float]) -> dict[str, float]:
    """``{"median", "min", "max", "n"}`` of a list of timings (seconds)."""
    return {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds), "n": len(seconds)}


def set_threads(threads: int) -> None:
    """Use ``threads`` intra-op threads in torch (the benchmarks' default is 2, the cores of the target machine)."""
    import torch

    if threads < 1:
        raise ValueError(f"threads: expected an integer >= 1, got {threads!r}")
    torch.set_num_threads(threads)


def start_verifier_pool() -> None:
    """Start the verifier's worker processes now: they start on the first response that needs them (seconds, as
    each imports sympy and math-verify), which must not land inside a timed step."""
    from hicra.verifiers.api import get_pool

    get_pool().run([(0, "1", ["1"])], timeout_s=60)


def machine() -> dict[str, object]:
    """What the timings depend on: versions, torch threads, the OpenMP wait policy and the load average."""
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: OpenMP default, busy-waiting)"),
        "load_average_1m": round(load[0], 2),
    }


def machine_note(info: Mapping[str, object]) -> str:
    """One Markdown line describing :func:`machine`, with a warning when busy-waiting threads share a busy CPU."""
    line = (
        f"Machine: {info['cpus']} CPUs, torch {info['torch']} with {info['torch_threads']} threads, "
        f"OMP_WAIT_POLICY={info['omp_wait_policy']}, load average {info['load_average_1m']}."
    )
    busy = float(info["load_average_1m"]) > float(info["cpus"] or 1)  # type: ignore[arg-type]
    if busy and "unset" in str(info["omp_wait_policy"]) and int(info["torch_threads"]) > 1:  # type: ignore[call-overload]
        line += (
            " **Warning:** the CPU is shared and OpenMP threads busy-wait; timings can be many times slower than "
            "with `OMP_WAIT_POLICY=PASSIVE` (which `hicra bench` sets by default)."
        )
    return line
