from pathlib import Path

import numpy as np

from hicra.benchmarks.analyze import PHASE_COLUMNS, format_reports, phase_report
from hicra.benchmarks.runs import RunLog

STEPS = np.arange(100)


def _run(seed: int, ppl: np.ndarray, sem: np.ndarray) -> RunLog:
    noise = np.random.default_rng(seed).normal(0.0, 0.005, (2, STEPS.size))
    metrics = {"relative_execution_perplexity": ppl + noise[0], "semantic_entropy": sem + noise[1]}
    return RunLog(Path(f"run{seed}"), "hicra", seed, STEPS, metrics)


FALLS_TO_30 = np.where(STEPS < 30, 1.0 - 0.003 * STEPS, 1.0 - 0.003 * 30)
RISES_FROM_60 = np.where(STEPS < 60, 1.0, 1.0 + 0.01 * (STEPS - 60))


def test_phase_boundary_is_the_entropy_rise_after_perplexity_flattens():
    r = phase_report("hicra", [_run(s, FALLS_TO_30, RISES_FROM_60) for s in (0, 1)])
    assert abs(r.perplexity_break.step - 30) <= 3 and abs(r.semantic_entropy_break.step - 60) <= 3
    assert r.perplexity_plateau == r.perplexity_break.step and r.semantic_entropy_rise == r.semantic_entropy_break.step
    assert r.boundary == r.semantic_entropy_rise
    table = format_reports([r])
    assert f"| hicra | 2 | 100 | {r.perplexity_break} | {r.semantic_entropy_break} | {r.boundary} |" in table
    assert all(column in table for column in PHASE_COLUMNS) and "lowers BIC" in table


def test_no_boundary_when_the_phases_come_in_the_other_order_or_do_not_bend():
    rises_from_10 = np.where(STEPS < 10, 1.0, 1.0 + 0.01 * (STEPS - 10))
    falls_to_70 = np.where(STEPS < 70, 1.0 - 0.003 * STEPS, 1.0 - 0.003 * 70)
    r = phase_report("hicra", [_run(0, falls_to_70, rises_from_10)])
    assert r.semantic_entropy_rise is not None and r.perplexity_plateau is not None and r.boundary is None
    flat = phase_report("hicra", [_run(0, 1.0 + 0.0 * STEPS, 1.0 + 0.0 * STEPS)])
    assert (flat.perplexity_break, flat.semantic_entropy_break, flat.boundary) == (None, None, None)
    assert "| hicra | 1 | 100 | none | none | none |" in format_reports([flat])
