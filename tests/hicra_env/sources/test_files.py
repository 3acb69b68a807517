"""Local JSONL / parquet problem files: fields, defaults, and malformed-line errors."""

from __future__ import annotations

import json
import logging

import gymnasium as gym
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hicra_env  # noqa: F401  (registers the ids)
from hicra_env.sources.base import DataFileError
from hicra_env.sources.files import file_source, load_problems


def _jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_jsonl_fields_defaults_and_numbers(tmp_path):
    path = _jsonl(
        tmp_path / "set.jsonl",
        [
            {"problem": "1+1?", "answer": 2},
            {"id": "q7", "problem": "2+2?", "answer": "4", "solution": "\\boxed{4}", "level": 1, "subject": "a"},
        ],
    )
    first, second = load_problems(path)
    assert (first.id, first.answer, first.solution) == ("set-0", "2", None)
    assert (second.id, second.level, second.subject, second.solution) == ("q7", "1", "a", "\\boxed{4}")


def test_parquet_files_load(tmp_path):
    path = tmp_path / "set.parquet"
    pq.write_table(pa.table({"problem": ["What is 3*3?"], "answer": ["9"], "id": ["nine"]}), path)
    env = gym.make("hicra/MATH500-v0", data_path=path)
    _, info = env.reset(seed=0)
    assert info["problem_id"] == "nine"
    assert env.step("\\boxed{9}")[1] == 1.0


def test_missing_field_names_file_line_and_field(tmp_path):
    path = _jsonl(tmp_path / "bad.jsonl", [{"problem": "ok?", "answer": "1"}, {"problem": "no answer here"}])
    with pytest.raises(DataFileError, match=r"bad\.jsonl, line 2: missing field 'answer'"):
        load_problems(path)


def test_invalid_json_and_wrong_types_are_reported(tmp_path):
    with pytest.raises(DataFileError, match=r"line 1: invalid JSON"):
        load_problems(_jsonl(tmp_path / "a.jsonl", ["{not json"]))
    with pytest.raises(DataFileError, match=r"line 1: field 'answer' must be a string or number, got list"):
        load_problems(_jsonl(tmp_path / "b.jsonl", [{"problem": "p", "answer": [1]}]))
    with pytest.raises(DataFileError, match=r"line 1: expected a JSON object"):
        load_problems(_jsonl(tmp_path / "c.jsonl", ["[1, 2]"]))
    table = pa.table({"problem": ["p", "q"], "answer": ["1", None]})
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(DataFileError, match=r"d\.parquet, row 1: missing field 'answer'"):
        load_problems(tmp_path / "d.parquet")


def test_skip_invalid_skips_and_warns_with_the_count(tmp_path, caplog):
    path = _jsonl(tmp_path / "mixed.jsonl", [{"problem": "p", "answer": "1"}, "{bad", {"problem": "q"}])
    with caplog.at_level(logging.WARNING, logger="hicra_env.sources.files"):
        problems = load_problems(path, skip_invalid=True)
    assert [p.id for p in problems] == ["mixed-0"]
    assert "skipped 2 invalid record(s)" in caplog.text
    env = gym.make("hicra/GSM8K-v0", data_path=path, skip_invalid=True)
    assert env.reset(seed=0)[1]["problem_id"] == "mixed-0"


def test_bad_paths_and_duplicates(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_problems(tmp_path / "missing.jsonl")
    (tmp_path / "x.csv").write_text("problem,answer\n")
    with pytest.raises(ValueError, match=r"expected a \.jsonl or \.parquet file"):
        load_problems(tmp_path / "x.csv")
    dup = _jsonl(tmp_path / "dup.jsonl", [{"id": "a", "problem": "p", "answer": "1"}] * 2)
    with pytest.raises(ValueError, match="duplicate problem id 'a'"):
        file_source(dup)


def test_fixture_eval_files_load(eval_data):
    problems = load_problems(eval_data / "gsm8k.jsonl")
    assert len(problems) == 5 and problems[0].answer == "18"
    assert [p.id for p in load_problems(eval_data / "math500.jsonl")][:2] == ["math500-0", "math500-1"]


def test_shared_eval_files_load(shared_data):
    assert len(load_problems(shared_data / "math500.jsonl")) == 500
    assert load_problems(shared_data / "gsm8k.jsonl")[0].answer == "18"
