"""Shared test fixtures: where ../shared/data lives, and a per-session hicra cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    override = os.environ.get("HICRA_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The evaluation sets and Strategic Gram list beside the checkout (../shared/data)."""
    path = _shared_data_dir()
    if not (path / "math500.jsonl").is_file():
        pytest.skip(f"../shared/data not found at {path}: set HICRA_SHARED_DATA to the folder holding math500.jsonl")
    return path


FIXTURE_DATA = REPO_ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def eval_data() -> Path:
    """Five problems of each evaluation suite (math500, aime24, gsm8k .jsonl), shipped with the tests."""
    return FIXTURE_DATA
