"""The worker pool: deadlines, killed and dead workers, persistence, shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from hicra.verifiers.api import get_pool
from hicra.verifiers.pool import VerifierPool, default_workers

HANG = "\\binom{10^{12}}{10^{6}}"  # sympy tries to evaluate this binomial: the worker never answers by itself


@pytest.fixture(scope="module")
def pool():
    pool = VerifierPool(2)
    yield pool
    pool.close()


def test_outcomes_in_input_order(pool):
    tasks = [(0, "\\frac{1}{2}", ["0.5"]), (1, "x^2", ["x \\cdot x"]), (2, "x^2", ["x^3"]), (3, "2", ["\\sqrt{4}"])]
    assert pool.run(tasks, timeout_s=30) == [True, True, False, True]


def test_deadline_kills_and_replaces_the_worker(pool):
    before = {w.process.pid for w in pool._workers}
    outcomes = pool.run([(0, "5", [HANG]), (1, "2", ["\\sqrt{4}"])], timeout_s=1.5)
    assert outcomes == ["timeout", True]
    after = {w.process.pid for w in pool._workers}
    assert len(after) == 2 and len(before - after) == 1  # exactly the hung worker was replaced
    assert pool.run([(0, "3", ["\\sqrt{9}"])], timeout_s=30) == [True]


def test_worker_killed_mid_batch_gives_one_outcome_per_task(pool):
    tasks = [(0, "5", [HANG])] + [(i, str(i), [f"\\sqrt{{{i * i}}}"]) for i in range(1, 25)]
    result: list = []
    runner = threading.Thread(target=lambda: result.append(pool.run(tasks, timeout_s=3)))
    runner.start()
    victim = None
    for _ in range(500):  # wait until a worker holds the hanging task, then kill it from outside
        victim = next((w for w in list(pool._workers) if w.task == 0), None)
        if victim is not None:
            break
        time.sleep(0.01)
    assert victim is not None
    os.kill(victim.process.pid, signal.SIGKILL)
    runner.join(timeout=120)
    assert not runner.is_alive()
    outcomes = result[0]
    assert len(outcomes) == len(tasks)
    assert outcomes[0] in ("timeout", "error")  # retried once on a fresh worker, which hangs again
    assert outcomes[1:] == [True] * 24
    assert victim.process.pid not in {w.process.pid for w in pool._workers}


def test_worker_that_died_between_calls_is_replaced(pool):
    for worker in pool._workers:
        os.kill(worker.process.pid, signal.SIGKILL)
    time.sleep(0.2)
    assert pool.run([(0, "4", ["\\sqrt{16}"]), (1, "1", ["\\frac{2}{2}"])], timeout_s=30) == [True, True]


def test_close_stops_workers_and_refuses_more_work():
    pool = VerifierPool(1)
    assert pool.run([(0, "2", ["\\sqrt{4}"])], timeout_s=30) == [True]
    process = pool._workers[0].process
    pool.close()
    process.join(timeout=10)
    assert not process.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        pool.run([(0, "2", ["2"])], timeout_s=1)


def test_shared_pool_persists_between_calls():
    first = get_pool(2)
    first.run([(0, "2", ["\\sqrt{4}"])], timeout_s=30)
    pids = {w.process.pid for w in first._workers}
    second = get_pool(2)
    second.run([(0, "3", ["\\sqrt{9}"])], timeout_s=30)
    assert second is first
    assert {w.process.pid for w in second._workers} == pids


def test_default_workers_within_cpu_count():
    assert 1 <= default_workers() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True, "2"])
def test_bad_pool_size_is_a_clear_error(workers):
    with pytest.raises(ValueError, match="workers"):
        VerifierPool(workers)


# Symbolic pairs skip the in-process fast path, so these checks really run in the worker processes.
_UNGUARDED = (
    "from hicra.verifiers import verify_batch\n"
    "print(sorted(set(['started'])))\n"
    "print([v.reason for v in verify_batch(['\\\\boxed{x^2+2x+1}', '\\\\boxed{x^2+1}'], ['(x+1)^2', '(x+1)^2'])])\n"
)


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_workers_start_from_a_script_without_main_guard(tmp_path, how):
    """Workers do not re-import the caller's __main__: an unguarded script or stdin still gets verdicts."""
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED)
    cmd = [sys.executable, str(script)] if how == "script" else [sys.executable, "-"]
    stdin = None if how == "script" else _UNGUARDED
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['started']", "['ok', 'mismatch']"]  # the script body ran exactly once
    assert "died" not in done.stderr
