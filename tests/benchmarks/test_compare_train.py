"""``hicra compare``, ``train`` and ``analyze`` end to end through the command line, at a very small size."""

from __future__ import annotations

import json

import pytest

from hicra.benchmarks.cli import main
from hicra.benchmarks.compare import CompareConfig

TINY_RUN = "prompts_per_step = 2\ngroup_size = 4\nmax_new_tokens = 16\nmicro_batch_size = 8\n"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    (root / "run.toml").write_text(TINY_RUN)
    argv = ["compare", "--agents", "grpo,hicra", "--seeds", "2", "--steps", "3", "--config", str(root / "run.toml")]
    assert main([*argv, "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


def test_embedded_default_applies_only_to_the_default_env_and_model():
    default = CompareConfig().train_config(seed=1)
    assert (default.env_kwargs, default.lr, default.seed, default.steps) == ({"num_problems": 32}, 5e-4, 1, 60)
    other_env = CompareConfig(env_id="hicra/WorkBackwards-v0").train_config(seed=0)
    other_model = CompareConfig(model="smollm2-135m-instruct").train_config(seed=0)
    for config in (other_env, other_model):
        assert (config.env_kwargs, config.lr) == ({}, 1e-4)  # TrainConfig's own defaults
    overridden = CompareConfig(train_overrides=(("lr", 1e-3),)).train_config(seed=0)
    assert (overridden.env_kwargs, overridden.lr) == ({"num_problems": 32}, 1e-3)


def test_compare_writes_one_log_per_agent_and_seed(compare_dir):
    for agent in ("grpo", "hicra"):
        for seed in (0, 1):
            run = compare_dir / agent / f"seed{seed}"
            assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1, 2]
            config = json.loads((run / "config.json").read_text())
            assert config["agent"] == agent
            assert config["train"]["seed"] == seed and config["train"]["group_size"] == 4


def test_compare_gives_every_agent_the_same_first_rollout(compare_dir):
    # same model, seed and problems: before any update the two agents sample exactly the same responses
    for seed in (0, 1):
        grpo = _lines(compare_dir / "grpo" / f"seed{seed}" / "metrics.jsonl")[0]
        hicra = _lines(compare_dir / "hicra" / f"seed{seed}" / "metrics.jsonl")[0]
        for key in ("accuracy", "response_length", "planning_ratio", "execution_perplexity"):
            assert grpo[key] == hicra[key], key


def test_compare_summary_matches_the_logs(compare_dir):
    summary = json.loads((compare_dir / "summary.json").read_text())
    assert summary["train_config"]["env_kwargs"] == {"num_problems": 32} and summary["train_config"]["group_size"] == 4
    assert [a["agent"] for a in summary["agents"]] == ["grpo", "hicra"]
    for row in summary["agents"]:
        logs = [_lines(compare_dir / row["agent"] / f"seed{s}" / "metrics.jsonl") for s in (0, 1)]
        # final_fraction 0.25 of 3 steps is the last step alone (at least one step is averaged)
        finals = [rows[-1]["accuracy"] for rows in logs]
        assert row["seeds"] == 2
        assert row["final_accuracy"]["mean"] == pytest.approx(sum(finals) / 2)
    table = (compare_dir / "summary.md").read_text()
    assert "| grpo | 2 |" in table and "| hicra | 2 |" in table


def test_compare_draws_real_png_plots(compare_dir):
    plots = sorted((compare_dir / "plots").glob("*.png"))
    names = {p.stem for p in plots}
    assert {"accuracy", "semantic_entropy", "planning_ratio", "response_length"} <= names
    for plot in plots:
        assert plot.read_bytes()[:8] == PNG_MAGIC and plot.stat().st_size > 5_000


def test_analyze_prints_the_phase_table_and_redraws(compare_dir, tmp_path, capsys):
    assert main(["analyze", str(compare_dir), "--out", str(tmp_path / "plots"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| grpo | 2 | 3 |" in out and "| hicra | 2 | 3 |" in out
    assert (tmp_path / "plots" / "accuracy.png").read_bytes()[:8] == PNG_MAGIC


def test_train_then_resume_appends_steps(tmp_path, capsys):
    (tmp_path / "run.toml").write_text(TINY_RUN + '[agent]\nname = "entropy_grpo"\nentropy_coef = 0.01\n')
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "run.toml"), "--steps", "2", "--out", str(run), "--quiet"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["agent"] == "entropy_grpo" and config["agent_config"]["entropy_coef"] == 0.01
    assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1]
    assert main(["train", "--resume", str(run), "--steps", "3", "--quiet"]) == 0
    assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1, 2]
    assert "entropy_grpo: step 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("group_sise = 4\n", "unknown train key 'group_sise'; did you mean 'group_size'?"),
        ("[agent]\nalpah = 0.3\n", "unknown agent key 'alpah'; did you mean 'alpha'?"),
        ("lr = -1.0\n", "lr: expected a value in (0.0, 1.0], got -1.0"),
    ],
)
def test_train_config_mistakes_are_one_line_with_exit_2(tmp_path, capsys, text, expected):
    (tmp_path / "bad.toml").write_text(text)
    assert main(["train", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err and "Traceback" not in err
