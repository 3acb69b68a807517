"""The hf-engine environment benchmark's CPU-checkable parts: figures, ratios, report; no timing assertions."""

from __future__ import annotations

import argparse
import json
import re
import sys

import pytest

from hicra.benchmarks.perf import BENCHMARKS, _command
from hicra.benchmarks.perf import bench_hf_env as bench


def raw(forward_s: float, decode_s: float, *, sys_s: float = 1.0) -> dict[str, float]:
    """100 forward tokens in ``forward_s``, 40 generated tokens in ``decode_s``; 3 s user CPU per pass."""
    return {"forward_tokens": 100, "forward_s": forward_s, "forward_user_s": 3.0, "forward_sys_s": 0.5,
            "decode_tokens": 40, "decode_s": decode_s, "decode_user_s": 3.0, "decode_sys_s": sys_s}  # fmt: skip


def test_rates_by_hand():
    r = bench.rates(raw(0.5, 0.4))
    assert r["forward_tokens_per_s"] == pytest.approx(200.0)  # 100 / 0.5
    assert r["decode_tokens_per_s"] == pytest.approx(100.0)  # 40 / 0.4
    assert r["decode_vs_forward_x"] == pytest.approx(0.5)
    assert r["decode_sys_share_x"] == pytest.approx(0.25)  # 1 / (3 + 1)
    assert r["forward_sys_share_x"] == pytest.approx(0.5 / 3.5)


def test_rates_reject_missing_figures_and_zero_durations():
    with pytest.raises(KeyError, match="missing decode_s"):
        bench.rates({k: v for k, v in raw(0.5, 0.4).items() if k != "decode_s"})
    with pytest.raises(ValueError, match="forward_s: expected a duration > 0, got 0"):
        bench.rates(raw(0, 0.4))


def test_summary_takes_medians_and_compares_against_the_first_environment():
    measured = {
        "current": [raw(0.5, 0.4), raw(0.5, 0.2), raw(0.5, 0.8)],  # ratios 0.5, 1.0, 0.25 -> 0.5
        "vllm": [raw(1.0, 2.0, sys_s=9.0), raw(1.0, 1.6, sys_s=7.0)],
        "empty": [],
    }  # ratios 0.2, 0.25
    s = bench.summarize(measured)
    assert list(s) == ["current", "vllm"]
    assert s["current"]["decode_vs_forward_x"] == pytest.approx(0.5)
    assert s["current"]["relative_x"] == pytest.approx(1.0)
    assert s["vllm"]["decode_vs_forward_x"] == pytest.approx(0.225)
    assert s["vllm"]["relative_x"] == pytest.approx(0.45)
    assert s["vllm"]["decode_sys_s"] == pytest.approx(8.0)
    assert s["vllm"]["decode_sys_share_x"] == pytest.approx((9 / 12 + 7 / 10) / 2)


UNITS = {"tokens_per_s": "tokens/s", "_x": "x", "_s": "s", "_tokens": "tokens"}
"""A summary key's unit by its suffix (checked in order): the test's own table, not the module's."""


def _results() -> dict:
    measured = {"current": [raw(0.5, 0.4)], "vllm": [raw(1.0, 2.0, sys_s=9.0)]}
    info = {"current": {"python": "/a/python", "describe": "torch 2.13"}, "vllm": {"python": "/b/python"}}
    return {"config": {"model": "tiny", "rows": 4, "tokens": 10, "reps": 1}, "environments": info,
            "measurements": measured, "summary": bench.summarize(measured), "errors": {"other": "boom"},
            "load_before": 1.5, "load_after": 2.5, "failed": True}  # fmt: skip


def test_report_rows_carry_units_and_match_the_summary():
    results = _results()
    md = bench.markdown(results)
    lines = [line for line in md.splitlines() if line.startswith("|")]
    headers = [c.strip() for c in lines[0].strip("|").split("|")]
    checked = 0
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        figures = results["summary"][cells[0]]
        for header, cell in zip(headers[1:], cells[1:]):
            unit = re.findall(r"\(([^()]*)\)", header)[-1]
            keys = [k for k, v in figures.items() if next(u for s, u in UNITS.items() if k.endswith(s)) == unit]
            assert any(abs(figures[k] - float(cell.replace(",", ""))) <= 6e-3 * abs(figures[k]) for k in keys), (
                f"{cells[0]}: {cell} under {header!r} is no {unit} figure of the summary"
            )
            checked += 1
    assert checked == 14
    assert "| vllm | 100 | 20 | 0.2 | 0.4 | 3 | 9 | 0.75 |" in md  # 40/2 tokens/s; 0.2 / 0.5 of the first
    assert "**other** failed: `boom`" in md and "**vllm** (`/b/python`): did not run" in md


def test_run_interleaves_environments_and_records_a_failing_one(monkeypatch):
    calls = []

    def fake_child(python, args):
        calls.append(python)
        if python == "/bad":
            raise RuntimeError("ModuleNotFoundError: No module named 'hicra'")
        return {"raw": raw(0.5, 0.4), "describe": f"from {python}"}

    monkeypatch.setattr(bench, "run_child", fake_child)
    args = argparse.Namespace(python=["a=/a", "b=/b", "bad=/bad"], model="tiny", rows=2, tokens=3, reps=2)
    result = bench.run(args)
    assert calls == ["/a", "/b", "/bad", "/b", "/a"]  # rotated; the failed one is not retried
    assert [len(v) for v in result.results["measurements"].values()] == [2, 2, 0]
    assert result.results["errors"] == {"bad": "ModuleNotFoundError: No module named 'hicra'"}
    assert result.results["failed"] is True
    json.dumps(result.results)  # JSON-able as written


def test_environments_parse_names_and_default_to_this_interpreter():
    assert bench.environments(["x=/p/python", "y=/q=r"]) == {"x": "/p/python", "y": "/q=r"}
    with pytest.raises(ValueError, match="expected name=path, got 'nopath'"):
        bench.environments(["nopath"])

    assert bench.environments(None)["current"] == sys.executable


def test_environments_find_each_venv_beside_the_repository_but_not_this_one(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    for venv in (".venv", ".venv-vllm"):
        (root / venv / "bin").mkdir(parents=True)
        (root / venv / "bin" / "python").symlink_to(sys.executable)  # venvs link to one base interpreter
    monkeypatch.setattr(bench, "__file__", str(root / "benchmarks" / "perf" / "bench_hf_env.py"))
    monkeypatch.setattr(sys, "prefix", str(root / ".venv"))
    found = bench.environments(None)
    assert found == {"current": sys.executable, ".venv-vllm": str(root / ".venv-vllm" / "bin" / "python")}


def test_registered_with_hicra_bench(tmp_path):
    assert "hf_env" in BENCHMARKS
    assert _command("hf_env", tmp_path)[1:4] == ["-m", "hicra.benchmarks.perf.bench_hf_env", "--out"]


def test_measure_counts_the_tokens_of_each_pass_on_the_tiny_policy():
    out = bench.measure("tiny", rows=2, tokens=3)
    r = out["raw"]
    assert r["decode_tokens"] == 6
    assert r["forward_tokens"] > 6 and r["forward_tokens"] % 2 == 0  # 2 rows x (prompt + 3)
    assert set(r) == set(bench.RAW_KEYS) and all(r[k] >= 0 for k in r)
    assert "transformers" in out["describe"] and "threads" in out["describe"]
