"""Peak resident memory of a block of code, torch's CPU allocations included (``tracemalloc`` misses them).

On Linux the kernel keeps the process's high-water mark ``VmHWM`` and lets a process reset it to the current
resident size by writing ``5`` to ``/proc/self/clear_refs``. :class:`PeakMemory` frees what it can (garbage
collection, ``malloc_trim``), takes the resident size as the baseline, resets the mark, and on exit reports the
mark minus the baseline. Where the reset is refused it falls back to ``ru_maxrss``, which only rises: then the
figure is a lower bound, and 0 when loading peaked higher than the block (run each block in a fresh process).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import re
import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")


def _status_kib(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_high_water_mark() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _trim_heap() -> None:
    """Give freed heap memory back to the system (glibc), so the baseline is what is really in use."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass


class PeakMemory:
    """``with PeakMemory() as peak: ...``; then ``peak.report()`` gives ``peak_mib``, ``baseline_mib``, ``method``."""

    def __enter__(self) -> PeakMemory:
        gc.collect()
        _trim_heap()
        self.method = "VmHWM" if _reset_high_water_mark() else "ru_maxrss"
        self.baseline_kib = _status_kib("VmRSS") if self.method == "VmHWM" else self._maxrss_kib()
        self.peak_kib = self.baseline_kib
        return self

    def __exit__(self, *exc) -> None:
        high = _status_kib("VmHWM") if self.method == "VmHWM" else self._maxrss_kib()
        self.peak_kib = high if high is not None else self.baseline_kib

    @staticmethod
    def _maxrss_kib() -> int:
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux

    def report(self) -> dict[str, float | str]:
        baseline = self.baseline_kib or 0
        return {
            "peak_mib": max(0, (self.peak_kib or 0) - baseline) / 1024,
            "baseline_mib": baseline / 1024,
            "method": self.method,
        }
