"""A persistent pool of killable worker processes that enforces a per-check deadline.

Each check runs in a worker; a worker that passes the deadline is killed (SIGKILL) and replaced, so a
pathological answer costs at most ``timeout_s`` plus a little slack and never blocks the caller. A worker
that dies is replaced and its check retried once. Workers are started with ``forkserver`` (``spawn`` where
unavailable), never plain ``fork``: the trainer process has torch threads, and forking them can deadlock.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
import types
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from .worker import READY, Outcome, Task, serve

logger = logging.getLogger(__name__)

#: How long a new worker may take to import its libraries and report ready.
STARTUP_TIMEOUT_S = 120.0
#: Workers that die before reporting ready, per ``run``, before the remaining checks fail with "error".
MAX_STARTUP_FAILURES = 3
_STARTUP_HINT = (
    "verifier workers keep dying before they start. If you call verify/verify_batch from a script, put the "
    'call under `if __name__ == "__main__":` (workers are started with forkserver/spawn, which re-import '
    "the main module)."
)
_PRELOAD = ["hicra.verifiers.warm"]  # imports the checker and warms its parser caches


def default_workers() -> int:
    """A sensible pool size: the CPU count, at most 4 (checks are short; more workers mostly cost memory)."""
    return max(1, min(4, os.cpu_count() or 1))


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # no effect if the forkserver already runs
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _without_main_module():
    """Start workers without re-importing the caller's ``__main__``.

    spawn and forkserver children normally re-run the parent's main script (as ``__mp_main__``) before the
    target; a script without an ``if __name__ == "__main__":`` guard, code read from stdin or ``python -c``
    then kills every worker at startup. The workers need nothing from ``__main__`` (``serve`` lives in
    this package and tasks are plain strings), so the preparation data is computed while ``sys.modules``
    holds a bare stand-in for it.
    """
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    started: float
    ready: bool = False
    task: int | None = None
    deadline: float = 0.0

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


def _shutdown(workers: list[_Worker]) -> None:
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send(None)
    for worker in workers:
        worker.kill()
    workers.clear()


class VerifierPool:
    """``workers`` persistent worker processes; ``run`` is thread-safe (calls are served one at a time)."""

    def __init__(self, workers: int) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"workers: expected an int >= 1 (or None for a default), got {workers!r}")
        self.size = workers
        self.pid = os.getpid()
        self._ctx = _context()
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._finalizer = weakref.finalize(self, _shutdown, self._workers)

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=serve, args=(child,), daemon=True, name="hicra-verifier")
        with _without_main_module():
            process.start()
        child.close()
        return _Worker(process=process, conn=parent, started=time.monotonic())

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers[self._workers.index(worker)] = self._spawn()

    def close(self) -> None:
        """Stop every worker now (also done automatically at interpreter exit)."""
        with self._lock:
            self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def run(self, tasks: Sequence[Task], timeout_s: float) -> list[Outcome]:
        """Outcome per task, in order: True/False, ``"timeout"`` or ``"error"``."""
        with self._lock:
            if self.closed:
                raise RuntimeError("VerifierPool.run: the pool is closed; create a new VerifierPool")
            while len(self._workers) < self.size:
                self._workers.append(self._spawn())
            return _Dispatch(self, tasks, timeout_s).run()


class _Dispatch:
    """One ``run``: hands tasks to ready workers, collects answers, kills workers past their deadline."""

    def __init__(self, pool: VerifierPool, tasks: Sequence[Task], timeout_s: float) -> None:
        self.pool, self.tasks, self.timeout_s = pool, tasks, timeout_s
        self.results: list[Outcome | None] = [None] * len(tasks)
        self.pending: deque[int] = deque(range(len(tasks)))
        self.deaths: dict[int, int] = {}
        self.startup_failures = 0

    def run(self) -> list[Outcome]:
        while self.pending or self._busy():
            self._assign()
            self._collect()
            self._enforce_deadlines()
        return [r if r is not None else "error" for r in self.results]

    def _busy(self) -> list[_Worker]:
        return [w for w in self.pool._workers if w.task is not None]

    def _assign(self) -> None:
        for worker in self.pool._workers:
            if not self.pending:
                return
            if worker.ready and worker.task is None:
                index = self.pending.popleft()
                gold, answers = self.tasks[index][1], self.tasks[index][2]
                try:
                    worker.conn.send((index, gold, answers))
                except (OSError, ValueError):
                    self.pending.appendleft(index)
                    self.pool._replace(worker)
                    continue
                worker.task, worker.deadline = index, time.monotonic() + self.timeout_s

    def _wait_timeout(self) -> float:
        now = time.monotonic()
        deadlines = [w.deadline for w in self._busy()]
        deadlines += [w.started + STARTUP_TIMEOUT_S for w in self.pool._workers if not w.ready]
        return max(0.0, min(deadlines, default=now + 1.0) - now)

    def _collect(self) -> None:
        watched = {w.conn: w for w in self.pool._workers if w.task is not None or not w.ready}
        for conn in wait(list(watched), timeout=self._wait_timeout()):
            worker = watched[conn]
            try:
                message = conn.recv()
            except (EOFError, OSError):
                self._on_death(worker)
                continue
            if message == READY:
                worker.ready = True
            elif isinstance(message, tuple) and message[0] == worker.task:
                self.results[worker.task] = message[1]
                worker.task = None

    def _on_death(self, worker: _Worker) -> None:
        if not worker.ready:
            self.startup_failures += 1
            if self.startup_failures >= MAX_STARTUP_FAILURES and not any(w.ready for w in self.pool._workers):
                logger.error(_STARTUP_HINT)
                self._fail_pending()
        index = worker.task
        if index is not None:
            self.deaths[index] = self.deaths.get(index, 0) + 1
            if self.deaths[index] >= 2:
                self.results[index] = "error"
            else:
                self.pending.appendleft(index)
        logger.warning("verifier worker %s died; replacing it", worker.process.pid)
        self.pool._replace(worker)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self.pool._workers):
            if worker.task is not None and now >= worker.deadline:
                self.results[worker.task] = "timeout"
                self.pool._replace(worker)
            elif not worker.ready and now >= worker.started + STARTUP_TIMEOUT_S:
                self._fail_startup(worker)

    def _fail_startup(self, worker: _Worker) -> None:
        logger.error("verifier worker did not start within %.0f s; replacing it", STARTUP_TIMEOUT_S)
        if not any(w.ready for w in self.pool._workers):
            self._fail_pending()
        self.pool._replace(worker)

    def _fail_pending(self) -> None:
        while self.pending:
            self.results[self.pending.popleft()] = "error"
