"""hicra envs as prompt/answer datasets (TRL's ``train_dataset``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from hicra_env.datasets import env_dataset, env_rows

MATH500 = Path(__file__).resolve().parents[1] / "data" / "math500.jsonl"


def test_procedural_rows_are_the_envs_first_problems_as_reset_poses_them():
    rows = env_rows("hicra/Arithmetic-v0", num_problems=3)
    assert rows[0] == {
        "prompt": "What is 5 + 20?\n\nPlease reason step by step, and put your final answer within \\boxed{}.",
        "answer": "25",
        "problem_id": "arithmetic-d1-0",
    }
    assert [r["problem_id"] for r in rows] == ["arithmetic-d1-0", "arithmetic-d1-1", "arithmetic-d1-2"]
    env = gym.make("hicra/Arithmetic-v0")
    for index, row in enumerate(rows):
        prompt, info = env.reset(options={"index": index})
        assert (prompt, info["problem_id"]) == (row["prompt"], row["problem_id"])
        _, reward, *_ = env.step(f"so \\boxed{{{row['answer']}}}")  # the answer column is the env's own gold
        assert reward == 1.0


def test_data_env_rows_are_the_files_problems():
    records = [json.loads(line) for line in MATH500.read_text().splitlines()]
    rows = env_rows("hicra/MATH500-v0", data_path=MATH500, template="plain-v1")
    assert [r["answer"] for r in rows] == [rec["answer"] for rec in records]
    assert [r["prompt"] for r in rows] == [rec["problem"] for rec in records]  # plain-v1: the problem alone
    assert [r["problem_id"] for r in rows] == [rec["id"] for rec in records]
    assert len(env_rows("hicra/MATH500-v0", 2, data_path=MATH500)) == 2


def test_seed_draws_an_order_of_the_same_problems():
    plain = env_rows("hicra/Arithmetic-v0", num_problems=8)
    first = env_rows("hicra/Arithmetic-v0", num_problems=8, seed=0)
    assert env_rows("hicra/Arithmetic-v0", num_problems=8, seed=0) == first
    orders = {tuple(r["problem_id"] for r in env_rows("hicra/Arithmetic-v0", num_problems=8, seed=s)) for s in range(3)}
    assert len(orders) > 1  # seeds give different orders...
    key = lambda r: r["problem_id"]  # noqa: E731
    assert sorted(first, key=key) == sorted(plain, key=key)  # ...of the same rows, each once


def test_chat_prompts_are_one_user_turn():
    (row,) = env_rows("hicra/Arithmetic-v0", num_problems=1, chat=True)
    assert row["prompt"] == [{"role": "user", "content": env_rows("hicra/Arithmetic-v0", 1)[0]["prompt"]}]


def test_env_dataset_is_a_datasets_dataset_of_the_rows():
    data = env_dataset("hicra/Arithmetic-v0", num_problems=4, difficulty=2)
    assert data.column_names == ["prompt", "answer", "problem_id"]
    assert data.to_list() == env_rows("hicra/Arithmetic-v0", num_problems=4, difficulty=2)
    assert data[0]["problem_id"] == "arithmetic-d2-0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, r"num_problems: expected an int from 1 to 1000000 for hicra/Arithmetic-v0, which draws from 2147483648"),
        ({"num_problems": 0}, "num_problems: expected an int >= 1 or None, got 0"),
        ({"num_problems": True}, "num_problems: expected an int >= 1 or None, got True"),
        ({"num_problems": 2, "seed": 1.5}, "seed: expected an int or None, got 1.5"),
    ],
)
def test_bad_arguments_say_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        env_rows("hicra/Arithmetic-v0", **kwargs)


def test_unknown_env_id_is_gymnasiums_error():
    with pytest.raises(gym.error.Error):
        env_rows("hicra/Nope-v0", num_problems=1)


def test_rows_without_torch():
    code = (
        "import sys; from hicra_env.datasets import env_rows; env_rows('hicra/Arithmetic-v0', num_problems=2); "
        "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
