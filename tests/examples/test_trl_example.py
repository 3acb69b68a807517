"""The TRL and verl examples run as written, in their smallest settings."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VERL_MISSING = importlib.util.find_spec("verl") is None
TRL_MISSING = importlib.util.find_spec("trl") is None


def _run(script: str, *args: str, cwd: Path) -> list[str]:
    """Run an example as a user would (a fresh interpreter, another working directory); its stdout lines."""
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.splitlines()


@pytest.mark.skipif(TRL_MISSING, reason="trl is not installed: pip install 'hicra[trl]' (tested with trl==1.16.0)")
def test_trl_example_trains_one_step_in_its_smallest_setting(tmp_path, monkeypatch, capsys):
    args = ["--steps", "1", "--group", "2", "--prompts", "1", "--max-new-tokens", "8", "--out", str(tmp_path / "r")]
    script = str(EXAMPLES / "trl_grpo_hicra.py")
    monkeypatch.setattr(sys, "argv", [script, *args])
    monkeypatch.chdir(tmp_path)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the tiny policy gains nothing from threads; on a shared CPU they cost 10x
    try:
        runpy.run_path(script, run_name="__main__")  # as `python examples/trl_grpo_hicra.py ...`, in this process
    finally:
        torch.set_num_threads(threads)
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["steps"] == 1
    assert 0.0 <= summary["planning_ratio"] <= 1.0 and summary["semantic_entropy"] >= 0.0
    assert summary["rewards/verifier_reward/mean"] in (0.0, 0.5, 1.0)  # two completions, verified


@pytest.mark.verl
def test_verl_example_writes_verls_rows_and_scores_with_compute_score(tmp_path):
    lines = _run("verl_compute_score.py", "--write", str(tmp_path / "train.parquet"), cwd=tmp_path)
    assert lines[0] == f"wrote 3 rows to {tmp_path / 'train.parquet'}"
    results = [json.loads(line) for line in lines[1:]]
    assert [r["hicra"]["score"] for r in results] == [1.0, 0.0, 0.0] * 3  # boxed gold, no answer, a hedge
    if not VERL_MISSING:  # verl's own loader, reading verl_reward.yaml, gives the same dicts
        assert all(r["verl"] == r["hicra"] for r in results)
    import datasets

    rows = datasets.Dataset.from_parquet(str(tmp_path / "train.parquet")).to_list()
    assert rows[0]["data_source"] == "hicra/Arithmetic-v0"
    assert rows[0]["reward_model"] == {"style": "rule", "ground_truth": "25"}
    assert rows[0]["prompt"][0]["role"] == "user" and rows[0]["prompt"][0]["content"].startswith("What is 5 + 20?")


def test_verl_yaml_names_compute_score_and_its_options():
    config = yaml.safe_load((EXAMPLES / "verl_reward.yaml").read_text())["reward"]["custom_reward_function"]
    module, name = config["path"].removeprefix("pkg://"), config["name"]
    fn = getattr(importlib.import_module(module), name)
    params = list(inspect.signature(fn).parameters)
    assert params[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]  # verl's signature
    assert fn("x", "\\boxed{4}", "4", None, **config["reward_kwargs"])["score"] == 1.0
    # the command-line lines in the file's comments say what its YAML says
    text = (EXAMPLES / "verl_reward.yaml").read_text()
    assert re.search(rf"reward\.custom_reward_function\.path={re.escape(config['path'])}\b", text)
    assert re.search(rf"reward\.custom_reward_function\.name={name}\b", text)


@pytest.mark.skipif(VERL_MISSING, reason="verl is not installed (`make install-verl`: verl==0.9.1 --no-deps + 5 deps)")
def test_verl_loads_the_example_file_by_its_path():
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    path = str(EXAMPLES / "verl_compute_score.py")
    config = OmegaConf.create({"reward": {"custom_reward_function": {"path": path, "name": "compute_score"}}})
    assert get_custom_reward_fn(config)(data_source="x", solution_str="so \\boxed{4}", ground_truth="4")["score"] == 1.0
