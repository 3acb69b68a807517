"""examples/tianshou_grpo.py runs as written, in its smallest setting (tianshou's own Collector and trainer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tianshou_grpo.py"
SMALLEST = ["--steps", "1", "--prompts", "1", "--group-size", "2", "--max-new-tokens", "8"]


def test_the_tianshou_example_trains_in_its_smallest_setting(tmp_path):
    pytest.importorskip("tianshou", reason="tianshou is the optional extra hicra[tianshou]")
    logdir = tmp_path / "tensorboard"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), *SMALLEST, "--logdir", str(logdir)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    updates = [line for line in result.stdout.splitlines() if line.startswith("update ")]
    assert len(updates) == 1 and "reward=" in updates[0] and "planning_ratio=" in updates[0], result.stdout
    assert "grpo: 1 updates on 2 responses to hicra/Miniature-v0 via tianshou" in result.stdout
    assert [p.name for p in logdir.iterdir() if p.name.startswith("events.out.tfevents")], "no TensorBoard events"
