"""``hicra compare``, ``train`` and ``analyze`` end to end through the command line, at a very small size."""

from __future__ import annotations

import json

import pytest

from hicra.benchmarks.cli import main
from hicra.benchmarks.compare_config import compare_config, preset_names, preset_path

TINY_RUN = "[train]\nprompts_per_step = 2\ngroup_size = 4\nmax_new_tokens = 16\nmicro_batch_size = 8\n"
TINY = ("prompts_per_step=2", "group_size=4", "max_new_tokens=16", "micro_batch_size=8", "heldout_problems=3",
        "heldout_samples=2")  # fmt: skip
TINY_SETS = [arg for item in TINY for arg in ("--set", f"train.{item}")]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    argv = ["compare", "--preset", "arithmetic", "--agents", "grpo,hicra", "--seeds", "2", "--steps", "3", *TINY_SETS]
    assert main([*argv, "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_is_a_valid_comparison(name):
    from hicra.agents.run_config import read_run_file

    config = compare_config(read_run_file(preset_path(name)))
    study = compare_config(read_run_file(preset_path(name)), study=True)
    assert config.agents and set(config.agents) <= set(study.agents) and study.seeds >= config.seeds
    assert config.run.train.heldout_problems > 0  # every preset reports held-out accuracy


def test_compare_writes_one_log_per_agent_and_seed(compare_dir):
    for agent in ("grpo", "hicra"):
        for seed in (0, 1):
            run = compare_dir / agent / f"seed{seed}"
            assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1, 2]
            config = json.loads((run / "config.json").read_text())
            assert config["agent"]["name"] == agent
            assert config["train"]["seed"] == seed and config["train"]["group_size"] == 4
            heldout = _lines(run / "heldout.jsonl")
            assert [(r["step"], r["heldout_problems"], r["heldout_samples"]) for r in heldout] == [(3, 3, 2)]


def test_compare_gives_every_agent_the_same_first_rollout(compare_dir):
    # same model, seed and problems: before any update the two agents sample exactly the same responses
    for seed in (0, 1):
        grpo = _lines(compare_dir / "grpo" / f"seed{seed}" / "metrics.jsonl")[0]
        hicra = _lines(compare_dir / "hicra" / f"seed{seed}" / "metrics.jsonl")[0]
        for key in ("accuracy", "response_length", "planning_ratio", "execution_perplexity"):
            assert grpo[key] == hicra[key], key


def test_compare_summary_matches_the_logs(compare_dir):
    summary = json.loads((compare_dir / "summary.json").read_text())
    train = summary["config"]["run"]["train"]
    assert train["env_kwargs"] == {"num_problems": 32} and train["group_size"] == 4
    assert [a["agent"] for a in summary["agents"]] == ["grpo", "hicra"]
    for row in summary["agents"]:
        logs = [_lines(compare_dir / row["agent"] / f"seed{s}" / "metrics.jsonl") for s in (0, 1)]
        # final_fraction 0.25 of 3 steps is the last step alone (at least one step is averaged)
        finals = [rows[-1]["accuracy"] for rows in logs]
        assert row["seeds"] == 2
        assert row["final_accuracy"]["mean"] == pytest.approx(sum(finals) / 2)
        heldout = [_lines(compare_dir / row["agent"] / f"seed{s}" / "heldout.jsonl")[-1] for s in (0, 1)]
        assert row["heldout_accuracy"]["mean"] == pytest.approx(sum(h["heldout_accuracy"] for h in heldout) / 2)
    table = (compare_dir / "summary.md").read_text()
    assert "| grpo | 2 |" in table and "| hicra | 2 |" in table


def test_compare_summary_pairs_heldout_accuracy_by_seed(compare_dir):
    summary = json.loads((compare_dir / "summary.json").read_text())
    logged = {
        (agent, seed): _lines(compare_dir / agent / f"seed{seed}" / "heldout.jsonl")[-1]["heldout_accuracy"]
        for agent in ("grpo", "hicra")
        for seed in (0, 1)
    }
    records = {(r["agent"], r["seed"]): r["heldout_accuracy"] for r in summary["heldout_per_seed"]}
    assert records == logged and all(r["step"] == 3 for r in summary["heldout_per_seed"])
    (row,) = summary["contrasts"]["rows"]  # default reference: the first agent; contrasts: every other agent
    assert (summary["contrasts"]["reference"], row["agent"], row["seeds"]) == ("grpo", "hicra", [0, 1])
    expected = [logged[("hicra", s)] - logged[("grpo", s)] for s in (0, 1)]
    assert row["differences"] == pytest.approx(expected)
    assert "| hicra - grpo | 2 |" in (compare_dir / "summary.md").read_text()


def test_compare_draws_real_png_plots(compare_dir):
    plots = sorted((compare_dir / "plots").glob("*.png"))
    names = {p.stem for p in plots}
    assert {"accuracy", "semantic_entropy", "planning_ratio", "response_length", "relative_perplexity"} <= names
    assert "contrasts" in names  # hicra - grpo, paired over the 2 seeds
    for plot in plots:
        assert plot.read_bytes()[:8] == PNG_MAGIC and plot.stat().st_size > 5_000


def test_analyze_prints_the_phase_table_and_redraws(compare_dir, tmp_path, capsys):
    assert main(["analyze", str(compare_dir), "--out", str(tmp_path / "plots"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| grpo | 2 | 3 |" in out and "| hicra | 2 | 3 |" in out and "phase boundary" in out
    assert (tmp_path / "plots" / "accuracy.png").read_bytes()[:8] == PNG_MAGIC


def test_train_then_resume_appends_steps(tmp_path, capsys):
    (tmp_path / "run.toml").write_text(TINY_RUN + '[agent]\nname = "entropy_grpo"\nentropy_coef = 0.01\n')
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "run.toml"), "--steps", "2", "--out", str(run), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"logs: {run / 'metrics.jsonl'}" in printed
    assert f"checkpoints: {run / 'checkpoints'} (resume with: hicra train --resume {run})" in printed
    assert f"plots: hicra analyze {run}" in printed
    assert len(_lines(run / "rollouts.jsonl")) == 2 * 2 * 4  # steps x the run file's B x G (TINY_RUN)
    config = json.loads((run / "config.json").read_text())
    assert config["agent"]["name"] == "entropy_grpo" and config["agent"]["entropy_coef"] == 0.01
    assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1]
    assert main(["train", "--resume", str(run), "--steps", "3", "--quiet"]) == 0
    assert [r["step"] for r in _lines(run / "metrics.jsonl")] == [0, 1, 2]
    assert "entropy_grpo: step 2" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[train]\ngroup_sise = 4\n", "unknown train field 'group_sise'; expected one of:"),
        ("[train]\ngroup_sise = 4\n", "; did you mean 'group_size'?"),
        ("[agent]\nalpah = 0.3\n", "; did you mean 'alpha'?"),
        ("steps = 3\n", "unknown section 'steps'; expected one of: agent, train"),
        ("[train]\nlr = -1.0\n", "lr: expected a value in (0.0, 1.0], got -1.0"),
    ],
)
def test_train_config_mistakes_are_one_line_with_exit_2(tmp_path, capsys, text, expected):
    (tmp_path / "bad.toml").write_text(text)
    assert main(["train", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err and "Traceback" not in err


@pytest.fixture(scope="module")
def v2_dir(tmp_path_factory):
    small = ("prompts_per_step=4", "group_size=2", "heldout_problems=4", "heldout_samples=1", "heldout_every=2")
    sets = [arg for item in small for arg in ("--set", f"train.{item}")]
    out = tmp_path_factory.mktemp("compare_v2") / "out"
    argv = ["compare", "--preset", "miniature_v2", "--agents", "grpo,hicra", "--seeds", "2", "--steps", "2", *sets]
    assert main([*argv, "--out", str(out), "--quiet"]) == 0
    return out


def test_compare_on_v2_writes_the_ood_contrasts_and_the_mechanism_tables(v2_dir):
    summary = json.loads((v2_dir / "summary.json").read_text())
    (row,) = [r for r in summary["contrasts_ood"]["rows"] if r["seeds"]]  # the preset's reference: hicra
    assert row["agent"] == "grpo" and summary["contrasts_ood"]["reference"] == "hicra"
    ood = {
        (agent, seed): _lines(v2_dir / agent / f"seed{seed}" / "heldout.jsonl")[-1]["heldout_ood_accuracy"]
        for agent in ("grpo", "hicra")
        for seed in (200, 201)
    }
    assert row["differences"] == pytest.approx([ood[("grpo", s)] - ood[("hicra", s)] for s in (200, 201)])
    mix = summary["mechanism"]["strategy_mix"]["rows"]
    for agent in ("grpo", "hicra"):
        last = [_lines(v2_dir / agent / f"seed{s}" / "metrics.jsonl")[-1] for s in (200, 201)]  # 25% of 2 steps: 1
        for column, cell in mix[agent].items():
            family = column.split("/")[0]
            shares = []
            for rows in last:
                total = sum(v for k, v in rows.items() if k.startswith(f"strategy_n/{family}/"))
                shares += [rows[f"strategy_n/{column}"] / total] if total else []  # a family not posed: no share
            expected = pytest.approx(sum(shares) / len(shares)) if shares else None  # JSON null without any
            assert (cell["n"], cell["mean"]) == (len(shares), expected), column
    assert set(summary["mechanism"]) == {"strategy_mix", "strategy_accuracy", "execution_perplexity"}
    text = (v2_dir / "summary.md").read_text()
    assert "Paired differences of out-of-distribution held-out accuracy" in text and "Strategy mix:" in text
    assert {"contrasts", "contrasts_heldout_ood_accuracy", "strategy_mix"} <= {
        p.stem for p in (v2_dir / "plots").glob("*.png")
    }
