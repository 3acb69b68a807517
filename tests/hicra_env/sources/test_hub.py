"""Hub datasets: row mapping with a stand-in `load_dataset`, and the offline error path."""

from __future__ import annotations

import builtins
import sys

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401
from hicra_env.sources.base import HubUnavailableError
from hicra_env.sources.hub import HUB_DATASETS, gsm8k_answer, load_hub_problems


def test_gsm8k_gold_is_the_number_after_hashes():
    assert gsm8k_answer("She has 3 + 4 = 7 left.\n#### 1,250") == "1250"
    assert gsm8k_answer("no marker") is None


def test_rows_map_to_problems_across_configs():
    calls = []

    def fake_load(path, config, split):
        calls.append((path, config, split))
        return [
            {
                "problem": f"P {config}",
                "solution": "So $x=\\boxed{\\frac{1}{2}}$.",
                "level": "Level 2",
                "type": "Algebra",
            }
        ]

    problems = load_hub_problems("MATH", load_dataset=fake_load)
    assert [c[1] for c in calls] == list(HUB_DATASETS["MATH"].configs)
    assert calls[0][0] == "EleutherAI/hendrycks_math" and calls[0][2] == "test"
    assert problems[0].answer == "\\frac{1}{2}" and problems[0].id == "math-0"
    assert (problems[0].level, problems[0].subject) == ("Level 2", "Algebra")
    gsm = load_hub_problems("GSM8K", load_dataset=lambda *a, **k: [{"question": "Q", "answer": "steps\n#### 18"}])
    assert (gsm[0].problem, gsm[0].answer) == ("Q", "18")


def test_offline_error_names_id_dataset_and_data_path():
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    with pytest.raises(HubUnavailableError) as err:
        load_hub_problems("AIME25", load_dataset=offline)
    message = str(err.value)
    assert "hicra/AIME25-v0" in message and "'opencompass/AIME2025'" in message
    assert "ConnectionError: no network" in message and "data_path=" in message


def test_missing_datasets_package_gives_the_same_advice(monkeypatch):
    real_import = builtins.__import__

    def no_datasets(name, *args, **kwargs):
        if name == "datasets":
            raise ImportError("No module named 'datasets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "datasets", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_datasets)
    with pytest.raises(
        HubUnavailableError, match=r"hicra/MATH500-v0 could not load .*HuggingFaceH4/MATH-500.*data_path="
    ):
        gym.make("hicra/MATH500-v0")


def test_importing_hicra_env_does_not_import_datasets():
    import subprocess

    code = "import sys, hicra_env; print('datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
