"""The seeds a pre-registered comparison needs, from pilot runs (``hicra.benchmarks.power``)."""

from __future__ import annotations

import json
import math

import pytest

from hicra.benchmarks.power import main, pilot_power, sd_upper
from hicra.benchmarks.stats import seeds_needed


def test_sd_upper_limit_matches_the_chi_square_table():
    # chi2 with 3 df: 20% quantile 1.0052 (tables), so the upper 80% limit of s = 1 from 4 values is sqrt(3 / 1.0052)
    assert sd_upper(1.0, 4, 0.8) == pytest.approx(math.sqrt(3 / 1.0052), rel=1e-3)
    # 95% limit, 9 df: chi2 5% quantile 3.325
    assert sd_upper(0.02, 10, 0.95) == pytest.approx(0.02 * math.sqrt(9 / 3.325), rel=1e-3)
    with pytest.raises(ValueError, match="n >= 2"):
        sd_upper(1.0, 1)


def test_pilot_power_by_hand():
    result = pilot_power({902: 0.30, 903: 0.34, 904: 0.32, 905: 0.36}, delta=0.05, alpha=0.01)
    s = math.sqrt(sum((x - 0.33) ** 2 for x in (0.30, 0.34, 0.32, 0.36)) / 3)  # 0.02582
    assert result.sd == pytest.approx(s)
    assert result.paired_sd == pytest.approx(math.sqrt(2) * s * math.sqrt(3 / 1.0052), rel=1e-3)
    assert result.seeds == seeds_needed(0.05, result.paired_sd, 0.01, 0.8)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        pilot_power({902: 0.3}, delta=0.05, alpha=0.01)


def _fake_run(folder, agent: str, seed: int, accuracy: float) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"agent": {"name": agent}, "train": {"seed": seed}}))
    (folder / "metrics.jsonl").write_text(json.dumps({"step": 0, "accuracy": 0.1}) + "\n")
    rows = [{"step": 0, "heldout_accuracy": 0.0}, {"step": 150, "heldout_accuracy": accuracy}]
    (folder / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_command_reads_the_last_heldout_evaluation(tmp_path, capsys):
    for seed, accuracy in ((902, 0.30), (903, 0.34), (904, 0.32), (905, 0.36)):
        _fake_run(tmp_path / "grpo" / f"seed{seed}", "grpo", seed, accuracy)
    main([str(tmp_path), "--delta", "0.05", "--alpha", "0.01", "--paired-sd", "0.047"])
    out = capsys.readouterr().out
    expected = pilot_power({902: 0.30, 903: 0.34, 904: 0.32, 905: 0.36}, delta=0.05, alpha=0.01)
    assert "902: 0.3000, 903: 0.3400, 904: 0.3200, 905: 0.3600" in out
    assert f"seeds needed (delta 0.05, two-sided alpha 0.01, power 0.8): {expected.seeds}" in out
    assert f"seeds needed with paired-difference SD 0.047: {seeds_needed(0.05, 0.047, 0.01)}" in out


def test_command_refuses_runs_of_several_agents(tmp_path):
    _fake_run(tmp_path / "grpo" / "seed0", "grpo", 0, 0.3)
    _fake_run(tmp_path / "hicra" / "seed0", "hicra", 0, 0.4)
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
