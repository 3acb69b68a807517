import json
import math
from pathlib import Path

import numpy as np
import pytest

from hicra.benchmarks.compare_config import CompareConfig
from hicra.benchmarks.compare_summary import (
    contrast_markdown,
    markdown_table,
    paired_contrasts,
    summarize,
    write_summary,
)
from hicra.benchmarks.runs import RunLog

HELDOUT = {  # agent -> held-out accuracy of seeds 0, 1, 2
    "grpo": (0.30, 0.32, 0.28),
    "hicra": (0.35, 0.36, 0.31),  # d = .05, .04, .03: mean .04, sd .01, t = 4 sqrt(3) on 2 df
    "entropy_grpo": (0.30, 0.30, 0.30),  # d = 0, -.02, +.02: mean 0, t = 0, p = 1
}


def _run(agent: str, seed: int, heldout: list[dict]) -> RunLog:
    steps = np.arange(4)
    metrics = {name: np.linspace(1.0, 1.1, 4) for name in ("accuracy", "planning_ratio", "semantic_entropy")}
    metrics["relative_execution_perplexity"] = np.ones(4)
    return RunLog(Path(f"{agent}/seed{seed}"), agent, seed, steps, metrics, heldout)


def _runs(values: dict[str, tuple[float, ...]] = HELDOUT) -> list[RunLog]:
    return [_run(a, s, [{"step": 4, "heldout_accuracy": v}]) for a, vs in values.items() for s, v in enumerate(vs)]


def test_paired_contrasts_match_hand_computation():
    table = paired_contrasts(_runs(), CompareConfig(agents=tuple(HELDOUT)))
    assert table.reference == "grpo" and [r.agent for r in table.rows] == ["hicra", "entropy_grpo"]
    hicra, entropy = table.rows
    assert hicra.seeds == [0, 1, 2] and hicra.differences == pytest.approx([0.05, 0.04, 0.03])
    t = 4 * math.sqrt(3)
    assert hicra.test.mean == pytest.approx(0.04) and hicra.test.sd == pytest.approx(0.01)
    assert hicra.test.p == pytest.approx(1 - t / math.sqrt(t * t + 2))  # 0.0202: Student t, 2 df, closed form
    assert hicra.test.high == pytest.approx(0.04 + 4.3027 * 0.01 / math.sqrt(3), abs=1e-5)
    assert entropy.test.p == pytest.approx(1.0) and (entropy.sign.wins, entropy.sign.losses) == (1, 1)
    assert hicra.p_holm == pytest.approx(2 * hicra.test.p) and entropy.p_holm == pytest.approx(1.0)
    assert (hicra.sign.wins, hicra.sign.p) == (3, pytest.approx(0.25))
    text = contrast_markdown(table)
    assert "| hicra - grpo | 3 | +0.040 | [+0.015, +0.065] | 0.020 | 0.040 | 3/3 (sign test p 0.250) |" in text


def test_named_reference_and_preregistered_contrasts():
    config = CompareConfig(agents=tuple(HELDOUT), reference="hicra", contrasts=("grpo",))
    table = paired_contrasts(_runs(), config)
    assert [(r.agent, r.reference) for r in table.rows] == [("grpo", "hicra")]
    assert table.rows[0].differences == pytest.approx([-0.05, -0.04, -0.03])
    assert table.rows[0].p_holm == pytest.approx(table.rows[0].test.p)  # a family of one: Holm changes nothing


def test_missing_reference_one_seed_and_missing_agents_are_said_not_raised():
    runs = _runs()
    table = paired_contrasts(runs, CompareConfig(agents=tuple(HELDOUT), reference="high_entropy"))
    assert table.rows == [] and "reference agent high_entropy has no runs here" in contrast_markdown(table)
    one = paired_contrasts(_runs({"grpo": (0.3,), "hicra": (0.4,)}), CompareConfig(agents=("grpo", "hicra")))
    assert one.rows[0].test.mean == pytest.approx(0.1) and math.isnan(one.rows[0].p_holm)
    assert "one seed: a paired t interval and p need at least 2 seeds" in contrast_markdown(one)
    assert "| hicra - grpo | 1 | +0.100 | n/a | n/a | n/a | 1/1" in contrast_markdown(one)
    same = paired_contrasts(_runs({"grpo": (0.3, 0.4), "hicra": (0.3, 0.4)}), CompareConfig(agents=("grpo", "hicra")))
    assert (
        "| +0.000 | [+0.000, +0.000] | n/a | n/a | 0/2, 2 tied (sign test p 1.000); the same difference on every"
        in (contrast_markdown(same))
    )
    # hicra_placebo is asked for but has no runs (a comparison stopped part way): a row that says so
    asked = CompareConfig(agents=(*HELDOUT, "hicra_placebo"), contrasts=("hicra", "hicra_placebo"))
    absent = paired_contrasts(runs, asked)
    assert absent.rows[1].note == "no runs of hicra_placebo" and absent.rows[0].p_holm == absent.rows[0].test.p
    assert "Holm-corrected p over the 1 contrasts with a p" in contrast_markdown(absent)
    # a contrast of the preset whose agent this comparison does not run (--agents) is left out
    narrowed = CompareConfig(agents=("grpo", "hicra"), contrasts=("hicra", "entropy_grpo"))
    assert [row.agent for row in paired_contrasts(runs, narrowed).rows] == ["hicra"]


def test_summary_json_keeps_per_seed_results_and_ood_when_present(tmp_path):
    runs = _runs()
    runs[0] = _run("grpo", 0, [{"step": 4, "heldout_accuracy": 0.30}, {"step": 4, "heldout_ood_accuracy": 0.1}])
    config = CompareConfig(agents=tuple(HELDOUT))
    write_summary(summarize(runs, config), config, tmp_path, wall_seconds=1.0, contrasts=paired_contrasts(runs, config))
    data = json.loads((tmp_path / "summary.json").read_text())
    records = data["heldout_per_seed"]
    assert records[0] == {"agent": "grpo", "seed": 0, "step": 4, "heldout_accuracy": 0.30, "heldout_ood_accuracy": 0.1}
    assert records[1] == {"agent": "grpo", "seed": 1, "step": 4, "heldout_accuracy": 0.32}  # no OOD split: no key
    assert len(records) == 9 and data["contrasts"]["reference"] == "grpo"
    assert data["contrasts"]["rows"][0]["differences"] == pytest.approx([0.05, 0.04, 0.03])
    assert data["agents"][0]["perplexity_break"] is None  # a flat curve has no break
    markdown = (tmp_path / "summary.md").read_text()
    assert "| grpo | 3 |" in markdown and "| hicra - grpo | 3 | +0.040 |" in markdown
    # only grpo's seed 0 has an out-of-distribution split: its own column, n/a for agents without one
    assert "| held-out acc, OOD |" in markdown and "| grpo | 3 | 0.300 ± 0.050 | 0.100 |" in markdown
    assert "| hicra | 3 | 0.340 ± 0.066 | n/a |" in markdown
    assert data["agents"][0]["heldout_ood_accuracy"] == {"mean": 0.1, "half_width": 0.0, "n": 1}


def test_contrast_config_is_validated():
    with pytest.raises(ValueError, match="expected distinct agents other than the reference 'grpo'"):
        CompareConfig(agents=("grpo", "hicra"), contrasts=("grpo",))
    with pytest.raises(ValueError, match="contrasts: expected a non-empty list of agent names, got 'hicra'"):
        CompareConfig(agents=("grpo", "hicra"), contrasts="hicra")
    assert CompareConfig(agents=("grpo", "hicra", "entropy_grpo"), reference="hicra").contrast_agents == (
        "grpo",
        "entropy_grpo",
    )
    with pytest.raises(KeyError, match="reference: unknown agent 'hicrra'; expected one of: grpo"):
        CompareConfig(reference="hicrra")


def test_contrast_plot_is_a_png_and_needs_a_paired_seed(tmp_path):
    from hicra.benchmarks.plots import plot_contrasts

    path = plot_contrasts(paired_contrasts(_runs(), CompareConfig(agents=tuple(HELDOUT))), tmp_path)
    assert path == tmp_path / "contrasts.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
    lonely = paired_contrasts(_runs({"grpo": (0.3,)}), CompareConfig(agents=("grpo",)))
    assert plot_contrasts(lonely, tmp_path / "none") is None and not (tmp_path / "none").exists()


def test_ood_contrasts_pair_the_ood_split_and_are_written_beside_the_main_table(tmp_path):
    ood = {"grpo": (0.10, 0.20, 0.30), "hicra": (0.12, 0.21, 0.33)}  # d = .02, .01, .03: mean .02, sd .01
    runs = [
        _run(a, s, [{"step": 4, "heldout_accuracy": 0.3, "heldout_ood_accuracy": v}])
        for a, vs in ood.items()
        for s, v in enumerate(vs)
    ]
    config = CompareConfig(agents=tuple(ood))
    table = paired_contrasts(runs, config, "heldout_ood_accuracy")
    assert table.metric == "heldout_ood_accuracy" and table.rows[0].differences == pytest.approx([0.02, 0.01, 0.03])
    assert table.rows[0].test.mean == pytest.approx(0.02) and table.rows[0].test.sd == pytest.approx(0.01)
    assert "of out-of-distribution held-out accuracy" in contrast_markdown(table)
    without = paired_contrasts(_runs(), CompareConfig(agents=tuple(HELDOUT)), "heldout_ood_accuracy")
    assert not without.rows and without.note == "no paired differences: no run logged heldout_ood_accuracy"
    write_summary(
        summarize(runs, config), config, tmp_path, wall_seconds=2.0, contrasts=paired_contrasts(runs, config),
        ood_contrasts=table, skipped_runs=5,
    )  # fmt: skip
    markdown = (tmp_path / "summary.md").read_text()
    assert "Wall time 2 s (5 finished runs skipped by --resume: not in it)." in markdown
    assert markdown.count("| hicra - grpo | 3 |") == 2 and "| hicra - grpo | 3 | +0.020 |" in markdown
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["skipped_runs"] == 5 and data["contrasts_ood"]["metric"] == "heldout_ood_accuracy"
    plain = markdown_table(summarize(_runs(), config), config)  # no run has the split: no column
    assert "OOD" not in plain and "| grpo | 3 | 0.300 ± 0.050 | 1.000 ± 0.000 |" in plain
