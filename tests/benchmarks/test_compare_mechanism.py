import math
from pathlib import Path

import numpy as np
import pytest

from hicra.benchmarks.compare_mechanism import (
    mechanism_markdown,
    mechanism_tables,
    run_exec_perplexity,
    run_strategy_accuracy,
    run_strategy_share,
    strategy_columns,
)
from hicra.benchmarks.runs import RunLog

NAN = math.nan


def _run(agent: str, seed: int, counts: dict[str, list[float]], acc: dict[str, list[float]], heldout=()) -> RunLog:
    """A 4-step run of one family ``f`` with the given per-step counts and accuracies of each label."""
    metrics = {f"strategy_n/f/{k}": np.array(v, dtype=float) for k, v in counts.items()}
    metrics |= {f"strategy_acc/f/{k}": np.array(v, dtype=float) for k, v in acc.items()}
    metrics["accuracy"] = np.zeros(4)
    return RunLog(Path(f"{agent}/seed{seed}"), agent, seed, np.arange(4), metrics, list(heldout))


# Last half (fraction 0.5) = steps 2 and 3: gram 3 + 1 responses, no_gram 1 + 3 -> shares 0.5 / 0.5.
# Accuracy given the gram: (1.0 * 3 + 0.0 * 1) / 4 = 0.75; given no_gram: (0 * 1 + 1/3 * 3) / 4 = 0.25.
A = _run(
    "hicra", 0,
    {"gram": [4, 4, 3, 1], "no_gram": [0, 0, 1, 3], "other": [0, 0, 0, 0]},
    {"gram": [0, 0, 1.0, 0.0], "no_gram": [NAN, NAN, 0.0, 1 / 3], "other": [NAN] * 4},
)  # fmt: skip
# Last half: gram 0 + 2, no_gram 4 + 2 -> shares 0.25 / 0.75; accuracy given the gram 0.5, given no_gram 0.5.
B = _run(
    "hicra", 1,
    {"gram": [2, 2, 0, 2], "no_gram": [2, 2, 4, 2], "other": [0, 0, 0, 0]},
    {"gram": [1, 1, NAN, 0.5], "no_gram": [0, 0, 0.5, 0.5], "other": [NAN] * 4},
)  # fmt: skip


def test_columns_leave_out_labels_no_run_used():
    assert strategy_columns([A, B]) == ["f/gram", "f/no_gram"]


def test_share_and_accuracy_given_strategy_match_hand_computation():
    assert run_strategy_share(A, "f/gram", 0.5) == pytest.approx(0.5)
    assert run_strategy_share(B, "f/no_gram", 0.5) == pytest.approx(0.75)
    assert run_strategy_accuracy(A, "f/gram", 0.5) == pytest.approx(0.75)
    assert run_strategy_accuracy(A, "f/no_gram", 0.5) == pytest.approx(0.25)
    assert run_strategy_accuracy(B, "f/gram", 0.5) == pytest.approx(0.5)  # the step without a gram response is skipped
    assert math.isnan(run_strategy_accuracy(A, "f/other", 0.5)) and math.isnan(run_strategy_share(A, "g/x", 0.5))


def test_tables_average_over_seeds_with_t_intervals():
    mix, accuracy = mechanism_tables([A, B], 0.5)
    assert mix.columns == ["f/gram", "f/no_gram"] and accuracy.name == "strategy_accuracy"
    gram = mix.rows["hicra"]["f/gram"]  # seeds 0.5 and 0.25: mean 0.375, sd 0.1768, t(0.975, 1) = 12.706
    assert gram.mean == pytest.approx(0.375) and gram.half_width == pytest.approx(12.706 * 0.1768 / math.sqrt(2), 1e-3)
    assert accuracy.rows["hicra"]["f/gram"].mean == pytest.approx(0.625)
    text = mechanism_markdown([mix, accuracy], {"hicra": 2})
    assert "| agent | f/gram | f/no_gram |" in text and "| hicra | 0.375 ± 1.588 | 0.625 ± 1.588 |" in text


def test_execution_perplexity_is_the_last_evaluation_by_family_and_strategy():
    rows = [
        {"step": 2, "heldout_exec_perplexity/f/gram": 1.5, "heldout_exec_perplexity/gram": 1.5},
        {"step": 4, "heldout_accuracy": 0.3},  # no probe at this evaluation: the one before counts
    ]
    assert run_exec_perplexity(_run("hicra", 0, {}, {}, rows)) == {"f/gram": 1.5}
    key = "heldout_exec_perplexity/f/gram"
    runs = [_run("hicra", s, {}, {}, [{"step": 2, key: v}]) for s, v in ((0, 1.2), (1, 1.4))]
    runs.append(_run("grpo", 0, {}, {}, [{"step": 2, key: None}]))
    (table,) = mechanism_tables(runs, 0.5)  # no strategy counts logged: only the perplexity table
    assert table.rows["hicra"]["f/gram"].mean == pytest.approx(1.3) and table.rows["grpo"]["f/gram"].n == 0
    assert "| grpo | n/a |" in mechanism_markdown([table], {"hicra": 2, "grpo": 1})


def test_a_cell_from_fewer_seeds_than_ran_says_how_many():
    (table,) = mechanism_tables([_run("a", 0, {}, {}, [{"step": 1, "heldout_exec_perplexity/f/x": 1.25}])], 0.5)
    assert "| a | 1.250 (1/3) |" in mechanism_markdown([table], {"a": 3})
