"""The body of a verifier worker process: receive ``(index, gold, answers)``, reply ``(index, outcome)``.

Kept free of heavy imports at module level so the parent imports it cheaply; the worker imports
math-verify/sympy itself (the forkserver preloads them, so a replacement worker starts fast).
"""

from __future__ import annotations

import logging
import resource
import sys
from multiprocessing.connection import Connection

READY = "ready"
#: Address-space cap of a worker: a memory bomb ends in MemoryError, not in the OOM killer.
MEMORY_LIMIT_BYTES = 4 * 1024**3
_RECURSION_LIMIT = 20_000

Task = tuple[int, str, list[str]]
Outcome = bool | str  # True/False, or "error"


def _limit_resources() -> None:
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT_BYTES if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT_BYTES, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # not permitted here: the deadline still bounds the worker
        logging.getLogger(__name__).debug("could not cap worker memory", exc_info=True)
    sys.setrecursionlimit(_RECURSION_LIMIT)


def serve(conn: Connection) -> None:
    """Worker main loop; ends when the parent sends None or closes the pipe."""
    from .equivalence import judge, warm_up

    _limit_resources()
    try:
        warm_up()
    except Exception:  # a broken warm-up must not keep the worker from answering
        logging.getLogger(__name__).debug("warm-up failed", exc_info=True)
    conn.send(READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, gold, answers = task
        try:
            outcome: Outcome = judge(gold, answers)
        except (Exception, RecursionError, MemoryError):
            outcome = "error"
        conn.send((index, outcome))
