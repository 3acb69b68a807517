"""The ``hicra`` command line: parsing, dispatch to subcommand modules, and one-line user errors (exit 2)."""

from __future__ import annotations

import logging
import subprocess
import sys
import types
from pathlib import Path

import pytest

from hicra.benchmarks.cli import main
from hicra.benchmarks.errors import UsageError


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["evl"], "did you mean 'eval'?"),
        (["eval", "--model", "tiny", "--tempreature", "0.6"], "did you mean '--temperature'?"),
        (["eval", "--model", "tiny", "--n", "0"], "argument --n: expected an integer >= 1, got 0"),
        (["eval"], "required: --model"),
        ([], "expected a command: train, eval, compare, bench, analyze"),
        (["eval", "--model", "./no/such/model"], "no such directory './no/such/model'"),
        (["train", "--resume", "/no/such/run"], "--resume: no such directory '/no/such/run'"),
        (["train", "--config", "/no/such/file.toml"], "--config: no such file"),
        (["analyze", "/no/such/run"], "RUN_DIR: no such directory"),
        (["compare", "--agents", "grpo,,hicra"], "--agents: expected a comma-separated list without empty items"),
        (["compare", "--target-accuracy", "1.5"], "--target-accuracy: expected a number in [0, 1], got 1.5"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    line = _error_line(capsys)
    assert expected in line
    assert line.startswith("hicra")


def test_unknown_agent_gets_a_suggestion(capsys):
    pytest.importorskip("hicra.agents", reason="agent names come from hicra.agents.AGENTS")
    assert main(["compare", "--agents", "grpo,hicrra"]) == 2
    assert "unknown agent 'hicrra'; did you mean 'hicra'?" in _error_line(capsys)
    assert main(["train", "--agent", "grp0"]) == 2
    assert "did you mean 'grpo'?" in _error_line(capsys)


def test_unknown_env_gets_a_suggestion(capsys):
    import gymnasium

    import hicra_env  # noqa: F401

    if "hicra/Arithmetic-v0" not in gymnasium.registry:
        pytest.skip("hicra_env does not register hicra/Arithmetic-v0 yet")
    assert main(["train", "--env", "hicra/Arithmetc-v0"]) == 2
    assert "unknown env 'hicra/Arithmetc-v0'; did you mean 'hicra/Arithmetic-v0'?" in _error_line(capsys)


def test_help_exits_0_and_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "eval", "compare", "bench", "analyze"):
        assert command in out
    assert main(["eval", "--help"]) == 0
    assert "--max-new-tokens" in capsys.readouterr().out


def _fake_module(monkeypatch, name: str, body) -> list:
    calls: list = []

    def fake_main(args):
        calls.append(args)
        return body(args)

    monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(main=fake_main))
    return calls


def test_compare_dispatches_its_namespace_to_the_compare_module(monkeypatch):
    calls = _fake_module(monkeypatch, "hicra.benchmarks.compare", lambda args: None)
    argv = ["compare", "--seeds", "2", "--steps", "5", "--out", "x", "--jobs", "2", "-q"]
    assert main(argv) == 0
    (args,) = calls
    assert (args.command, args.seeds, args.steps, args.out, args.jobs) == ("compare", 2, 5, "x", 2)
    assert args.agents == "grpo,hicra,entropy_grpo"
    assert args.env is None and args.model is None and args.config is None and args.target_accuracy is None
    assert main(["compare", "-q"]) == 0
    assert (calls[1].seeds, calls[1].jobs) == (3, 2)


@pytest.mark.parametrize(
    ("command", "module", "argv", "attrs"),
    [
        ("train", "hicra.benchmarks.train", ["--steps", "3", "--seed", "4"], {"steps": 3, "seed": 4, "agent": None}),
        ("analyze", "hicra.benchmarks.analyze", ["."], {"run_dirs": ["."], "out": None}),
        ("bench", "hicra.benchmarks.perf", ["--which", "overhead,memory"], {"which": "overhead,memory"}),
    ],
)
def test_other_commands_dispatch_and_return_their_exit_code(monkeypatch, command, module, argv, attrs):
    calls = _fake_module(monkeypatch, module, lambda args: 3)
    assert main([command, *argv, "-q"]) == 3
    for key, value in attrs.items():
        assert getattr(calls[0], key) == value


def test_a_usage_error_raised_by_a_subcommand_module_becomes_one_line(monkeypatch, capsys):
    def fail(args):
        raise UsageError("unknown TrainConfig key 'lr_rate'; did you mean 'lr'?\nsecond line")

    _fake_module(monkeypatch, "hicra.benchmarks.train", fail)
    assert main(["train", "-q"]) == 2
    line = _error_line(capsys)
    assert line == "hicra train: error: unknown TrainConfig key 'lr_rate'; did you mean 'lr'? second line"


def test_a_missing_subcommand_module_does_not_break_the_others(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "hicra.benchmarks.perf", None)  # import now fails as if absent
    assert main(["bench", "-q"]) == 1
    assert "not available" in _error_line(capsys)
    assert main(["eval", "--help"]) == 0


def test_logging_is_configured_once_per_call(monkeypatch):
    _fake_module(monkeypatch, "hicra.benchmarks.analyze", lambda args: 0)
    main(["analyze", ".", "-v"])
    main(["analyze", "."])
    logger = logging.getLogger("hicra")
    ours = [h for h in logger.handlers if getattr(h, "_hicra_cli_handler", False)]
    assert len(ours) == 1
    assert logger.level == logging.INFO
    logger.removeHandler(ours[0])


def test_installed_console_script_prints_help():
    script = Path(sys.executable).parent / "hicra"
    if not script.is_file():
        pytest.skip(f"console script not installed next to {sys.executable} (pip install -e . first)")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "usage: hicra" in out.stdout and "compare" in out.stdout
