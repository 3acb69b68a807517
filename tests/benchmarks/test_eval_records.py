"""``run.json`` of an evaluation: a resume with other settings, the LoRA adapter included, is refused."""

from __future__ import annotations

import pytest

from hicra.benchmarks.eval_records import IDENTITY_KEYS, check_run_settings

SETTINGS = {key: f"value of {key}" for key in IDENTITY_KEYS}


def test_the_same_settings_resume_and_other_ones_are_refused(tmp_path):
    check_run_settings(tmp_path, SETTINGS)
    check_run_settings(tmp_path, SETTINGS)  # the same: resumes
    with pytest.raises(ValueError, match=r"model='value of model': expected the same model to resume, got 'other'"):
        check_run_settings(tmp_path, {**SETTINGS, "model": "other"})


def test_an_adapter_is_part_of_what_a_resume_must_match(tmp_path):
    check_run_settings(tmp_path / "base", SETTINGS)
    with pytest.raises(ValueError, match=r"adapter=None: expected the same adapter to resume, got 'runs/a'"):
        check_run_settings(tmp_path / "base", {**SETTINGS, "adapter": "runs/a"})
    check_run_settings(tmp_path / "lora", {**SETTINGS, "adapter": "runs/a"})
    check_run_settings(tmp_path / "lora", {**SETTINGS, "adapter": "runs/a"})
    with pytest.raises(ValueError, match=r"adapter='runs/a': expected the same adapter to resume, got 'runs/b'"):
        check_run_settings(tmp_path / "lora", {**SETTINGS, "adapter": "runs/b"})
    with pytest.raises(ValueError, match=r"adapter='runs/a': expected the same adapter to resume, got None"):
        check_run_settings(tmp_path / "lora", SETTINGS)
