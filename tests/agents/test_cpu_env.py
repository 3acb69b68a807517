"""Which CPU settings the hf engine warns about (issue 22), judged from hand-made facts; no timing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from hicra.agents import cpu_env
from hicra.agents.cpu_env import CpuEnv, cpu_env_problems


def env(**changes) -> CpuEnv:
    facts = {"wait_policy": None, "torch_threads": 2, "usable_cores": 2, "load_1m": 6.0,
             "openmp_libs": ("libgomp.so.1",)}  # fmt: skip
    return CpuEnv(**{**facts, **changes})


def test_spinning_threads_on_a_busy_machine_are_named_with_the_remedy():
    (problem,) = cpu_env_problems(env())
    assert "OMP_WAIT_POLICY=unset" in problem and "load 6.0" in problem
    assert "OMP_WAIT_POLICY=PASSIVE" in problem


@pytest.mark.parametrize(
    "changes",
    [{"wait_policy": "PASSIVE"}, {"wait_policy": "passive"}, {"load_1m": 1.5}, {"torch_threads": 1, "load_1m": 9.0}],
)
def test_no_warning_when_threads_sleep_the_machine_is_quiet_or_one_thread_runs(changes):
    assert cpu_env_problems(env(**changes)) == []


def test_more_threads_than_cores_and_two_openmp_runtimes():
    problems = cpu_env_problems(env(wait_policy="PASSIVE", torch_threads=4, load_1m=0.0,
                                    openmp_libs=("libgomp.so.1", "libiomp5.so")))  # fmt: skip
    assert len(problems) == 2
    assert "torch.set_num_threads(2)" in problems[0]
    assert "libgomp.so.1, libiomp5.so" in problems[1]
    # two copies of one runtime (a wheel's bundled libgomp beside torch's) are not flagged
    assert cpu_env_problems(env(wait_policy="PASSIVE", openmp_libs=("libgomp-6a29c32d.so.1.0.0", "libgomp.so.1"))) == []


def test_cpu_env_rejects_impossible_counts():
    with pytest.raises(ValueError, match="expected >= 1, got 0, 2"):
        env(torch_threads=0)


def test_check_logs_each_problem_once_and_nothing_on_gpu(monkeypatch, caplog):
    monkeypatch.setattr(cpu_env, "read_cpu_env", lambda: env())
    monkeypatch.setattr(cpu_env, "_warned", set())
    assert cpu_env.check_cpu_env("cuda") == []
    with caplog.at_level(logging.WARNING, logger="hicra.agents.cpu_env"):
        assert len(cpu_env.check_cpu_env("cpu")) == 1
        assert len(cpu_env.check_cpu_env("cpu")) == 1
    assert len(caplog.records) == 1 and "busy-wait" in caplog.records[0].getMessage()


def test_read_cpu_env_sees_this_process():
    facts = cpu_env.read_cpu_env()
    assert facts.torch_threads >= 1 and facts.usable_cores >= 1
    assert any(name.startswith("libgomp") for name in facts.openmp_libs)  # the torch CPU wheels use GNU OpenMP


def _fresh(code: str, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**base, **env}, check=True)
    return out.stdout.strip()


def test_prefer_passive_openmp_before_and_after_torch():
    imp = "from hicra.agents.cpu_env import prefer_passive_openmp as p"
    code = f"import os; {imp}; print(p(), os.environ['OMP_WAIT_POLICY'])"
    assert _fresh(code) == "True PASSIVE"
    assert _fresh(code, OMP_WAIT_POLICY="ACTIVE") == "False ACTIVE"  # the user's choice wins
    late = f"import os, torch; {imp}; print(p(), os.environ.get('OMP_WAIT_POLICY'))"
    assert _fresh(late) == "False None"  # too late to matter: left alone
