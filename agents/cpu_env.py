"""What in the process slows the ``hf`` engine on CPU: OpenMP threads that busy-wait, several OpenMP runtimes,
more torch threads than usable cores, and what an imported vLLM changes.

Issue 22 (measured on a 2-core machine shared by other jobs, load 5-7): torch's OpenMP worker threads spin
between parallel regions unless ``OMP_WAIT_POLICY=PASSIVE``; when the cores are shared, a spinning thread burns
the time slice its partner needs, so each decode step waits for the scheduler. The default engine's many small
forward passes (one per token) suffer most. libgomp reads ``OMP_WAIT_POLICY`` once, when torch is imported, so it
must be in the environment before that: :func:`prefer_passive_openmp` sets it for a process that has not
imported torch yet (the command line's entry point), :func:`check_cpu_env` tells a process that already has.

Importing this module imports neither torch nor transformers.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

OPENMP_LIBS = ("libgomp", "libiomp", "libomp")
"""Shared-object name prefixes of OpenMP runtimes (GNU, Intel, LLVM)."""
ALLOCATOR_LIBS = ("libtcmalloc", "libjemalloc")
REMEDY = "start the process with OMP_WAIT_POLICY=PASSIVE (e.g. `export OMP_WAIT_POLICY=PASSIVE`)"
_warned: set[str] = set()


@dataclass(frozen=True)
class CpuEnv:
    """The facts :func:`cpu_env_problems` judges (read by :func:`read_cpu_env`)."""

    wait_policy: str | None
    """``OMP_WAIT_POLICY`` as the process started with it (None: unset, libgomp spins)."""
    torch_threads: int
    """``torch.get_num_threads()``."""
    usable_cores: int
    """Cores this process may run on (its CPU affinity)."""
    load_1m: float
    """1-minute load average of the machine."""
    openmp_libs: tuple[str, ...] = ()
    """File names of the OpenMP runtimes mapped into the process."""
    allocator_libs: tuple[str, ...] = ()
    """File names of replacement allocators mapped into the process (tcmalloc, jemalloc)."""
    vllm_imported: bool = False

    def __post_init__(self) -> None:
        if self.torch_threads < 1 or self.usable_cores < 1:
            raise ValueError(
                f"torch_threads, usable_cores: expected >= 1, got {self.torch_threads}, {self.usable_cores}"
            )


def cpu_env_problems(env: CpuEnv) -> list[str]:
    """One sentence per problem, each naming the cause and the remedy; empty when nothing is known to be slow."""
    problems = []
    spinning = (env.wait_policy or "").upper() != "PASSIVE"
    busy = env.load_1m > env.usable_cores or env.torch_threads > env.usable_cores
    if spinning and busy and env.torch_threads > 1:
        problems.append(
            f"OpenMP threads busy-wait (OMP_WAIT_POLICY={env.wait_policy or 'unset'}) while {env.torch_threads} "
            f"torch threads share {env.usable_cores} cores at load {env.load_1m:.1f}: decoding can run several "
            f"times slower; {REMEDY}, or torch.set_num_threads(1)"
        )
    if env.torch_threads > env.usable_cores:
        problems.append(
            f"{env.torch_threads} torch threads on {env.usable_cores} usable cores: call "
            f"torch.set_num_threads({env.usable_cores}) or set OMP_NUM_THREADS={env.usable_cores}"
        )
    runtimes = {name.split(".so")[0].split("-")[0] for name in env.openmp_libs}
    if len(runtimes) > 1:
        problems.append(
            f"several OpenMP runtimes are loaded ({', '.join(sorted(env.openmp_libs))}); their thread pools "
            "compete for the cores: remove the one torch does not use from LD_PRELOAD"
        )
    return problems


def _mapped_libs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            names = {os.path.basename(line.split()[-1]) for line in maps if "/" in line}
    except OSError:  # not Linux
        return (), ()
    return tuple(sorted(n for n in names if n.startswith(OPENMP_LIBS))), tuple(
        sorted(n for n in names if n.startswith(ALLOCATOR_LIBS))
    )


def read_cpu_env() -> CpuEnv:
    """This process's :class:`CpuEnv` (imports torch)."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    omp, alloc = _mapped_libs()
    return CpuEnv(
        wait_policy=os.environ.get("OMP_WAIT_POLICY"), torch_threads=torch.get_num_threads(), usable_cores=cores,
        load_1m=load, openmp_libs=omp, allocator_libs=alloc, vllm_imported="vllm" in sys.modules,
    )  # fmt: skip


def check_cpu_env(device_type: str = "cpu") -> list[str]:
    """Log each problem of :func:`cpu_env_problems` once per process (a warning) and return them; nothing on GPU."""
    if device_type != "cpu":
        return []
    problems = cpu_env_problems(read_cpu_env())
    for problem in problems:
        if problem.split(":")[0] not in _warned:
            _warned.add(problem.split(":")[0])
            log.warning("hf engine on CPU: %s", problem)
    return problems


def prefer_passive_openmp() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it; True when it was set now.

    It only works before torch is imported (libgomp reads it when it loads): call it first thing in an entry
    point. When torch is already imported it changes nothing (setting it then would mislead) and returns False,
    as it does when the user chose a policy.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        return False
    if "torch" in sys.modules:
        log.debug("OMP_WAIT_POLICY left unset: torch is already imported, so it would have no effect")
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True
