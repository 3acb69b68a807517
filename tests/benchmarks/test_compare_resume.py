"""``hicra compare --resume``: an interrupted comparison continues bit for bit; a finished run is skipped; a folder
that holds a run is never trained into by accident, nor resumed with other settings."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import torch

from hicra.agents import Trainer
from hicra.agents.run_config import read_run_file, with_overrides
from hicra.benchmarks.cli import main
from hicra.benchmarks.compare_config import compare_config, preset_path

SETS = {"prompts_per_step": 2, "group_size": 4, "max_new_tokens": 16, "micro_batch_size": 8, "heldout_problems": 3,
        "heldout_samples": 2, "steps": 3}  # fmt: skip
ARGV = ["compare", "--preset", "arithmetic", "--agents", "grpo", "--seeds", "1", "--no-plots", "--quiet"]
ARGV += [arg for key, value in SETS.items() for arg in ("--set", f"train.{key}={value}")]
KEYS = ("accuracy", "loss", "response_length", "planning_ratio", "execution_perplexity", "grad_norm")


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _agents(out) -> dict:
    return json.loads((out / "summary.json").read_text())["agents"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The comparison run once without interruption."""
    out = tmp_path_factory.mktemp("straight") / "out"
    assert main([*ARGV, "--out", str(out)]) == 0
    return out


def test_a_stopped_run_continues_bit_for_bit(straight, tmp_path):
    data = with_overrides(read_run_file(preset_path("arithmetic")), [(f"train.{k}", v) for k, v in SETS.items()])
    config = compare_config(with_overrides(data, [("compare.agents", ("grpo",)), ("compare.seeds", 1)]))
    ((run, folder),) = config.runs()
    out = tmp_path / "out"
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // config.jobs))  # as compare's worker: same float sums
    try:
        Trainer(run.make_agent(), run.train, run_dir=out / folder).train(steps=2, progress=False)  # stopped after 2
    finally:
        torch.set_num_threads(threads)
    assert [r["step"] for r in _lines(out / folder / "metrics.jsonl")] == [0, 1]
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    resumed, whole = _lines(out / folder / "metrics.jsonl"), _lines(straight / folder / "metrics.jsonl")
    assert [r["step"] for r in resumed] == [0, 1, 2]
    for key in KEYS:
        assert [r[key] for r in resumed] == [r[key] for r in whole], key
    final = [r for r in _lines(out / folder / "heldout.jsonl") if r["step"] == 3]
    assert final and final[0]["heldout_accuracy"] == _lines(straight / folder / "heldout.jsonl")[-1]["heldout_accuracy"]
    assert json.loads((out / "summary.json").read_text())["agents"] == _agents(straight)


def test_finished_runs_are_skipped(straight, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(straight, out)
    before = (out / "grpo" / "seed0" / "metrics.jsonl").read_text()
    (out / "summary.json").unlink()
    assert main([*ARGV, "--out", str(out), "--resume"]) == 0
    assert (out / "grpo" / "seed0" / "metrics.jsonl").read_text() == before  # nothing trained, nothing appended
    assert json.loads((out / "summary.json").read_text())["agents"] == _agents(straight)


def test_a_folder_holding_a_run_needs_resume(straight, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(straight, out)
    before = (out / "grpo" / "seed0" / "metrics.jsonl").read_text()
    assert main([*ARGV, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds a run: pass --resume" in err and "seed0" in err
    assert (out / "grpo" / "seed0" / "metrics.jsonl").read_text() == before


def test_resume_refuses_other_settings(straight, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(straight, out)
    assert main([*ARGV, "--out", str(out), "--resume", "--set", "train.lr=0.001"]) == 2
    err = capsys.readouterr().err
    assert "written with other settings" in err and "train.lr: recorded" in err and "asked 0.001" in err
