"""The eval runner: records, summaries and resume, with a scripted policy (hand-computed scores) and the tiny one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch

from hicra.benchmarks import SUITES
from hicra.benchmarks.eval_records import load_records
from hicra.benchmarks.evaluate import EvalConfig, run_eval
from hicra.benchmarks.suites import override

GOLD = ["\\left( 3, \\frac{\\pi}{2} \\right)", "p - q", "\\frac{14}{3}"]  # math500-0..2


class ScriptedPolicy:
    """Answers the k-th request for a problem with ``scripts[problem_id][k]`` (cycling); records every batch."""

    def __init__(self, scripts: dict[str, list[str]], problems: dict[str, str]) -> None:
        self.scripts, self.problems = scripts, problems
        self.asked: dict[str, int] = {}
        self.batches: list[list[str]] = []

    def _problem_id(self, prompt: str) -> str:
        (pid,) = [pid for pid, text in self.problems.items() if text in prompt]
        return pid

    def generate(self, prompts, *, num_samples, sampling, seeds):
        assert num_samples == 1 and len(seeds) == len(prompts) and sampling.temperature == 0.6
        ids = [self._problem_id(p) for p in prompts]
        self.batches.append(ids)
        texts = []
        for pid in ids:
            k = self.asked.get(pid, 0)
            self.asked[pid] = k + 1
            texts.append(self.scripts[pid][k % len(self.scripts[pid])])
        lengths = torch.tensor([len(t.split()) for t in texts])
        mask = torch.arange(int(lengths.max())) < lengths[:, None]
        return SimpleNamespace(texts=texts, response_mask=mask)


def _first_problems(eval_data: Path, count: int = 3) -> dict[str, str]:
    """problem id -> problem text of the first ``count`` MATH-500 fixture problems."""
    problems = {}
    with open(eval_data / "math500.jsonl", encoding="utf-8") as fh:
        for line, _ in zip(fh, range(count)):
            row = json.loads(line)
            problems[row["id"]] = row["problem"]
    return problems


@pytest.fixture
def scripted(eval_data):
    problems = _first_problems(eval_data)
    scripts = {
        "math500-0": [f"So \\boxed{{{GOLD[0]}}}", f"Thus \\boxed{{{GOLD[0]}}}."],
        "math500-1": [f"\\boxed{{{GOLD[1]}}}", "\\boxed{7}"],
        "math500-2": ["no idea", "still no idea"],
    }
    return lambda: ScriptedPolicy(scripts, problems)


def _config(eval_data: Path, out: Path, **changes) -> EvalConfig:
    suite = override(SUITES["math500"], n=changes.pop("n", 2), max_new_tokens=8)
    values = dict(model="scripted", suites=(suite,), out=out, ks=(1, 2), limit=3, data_dir=eval_data)
    values.update(batch_size=4, progress=False)
    return EvalConfig(**{**values, **changes})


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_and_summary_match_hand_computed_scores(eval_data, scripted, tmp_path):
    policy = scripted()
    (summary,) = run_eval(_config(eval_data, tmp_path), policy)
    records = _lines(tmp_path / "math500" / "samples.jsonl")
    assert [(r["problem_id"], r["sample"]) for r in records] == [
        (f"math500-{p}", s) for p in range(3) for s in range(2)
    ]
    assert [r["correct"] for r in records] == [True, True, True, False, False, False]
    assert [r["reason"] for r in records][3:] == ["mismatch", "no_answer", "no_answer"]
    assert [r["gold"] for r in records] == [g for g in GOLD for _ in range(2)]
    assert records[3]["extracted"] == "7" and records[4]["extracted"] is None
    assert records[0]["tokens"] == 5 and records[0]["response"] == f"So \\boxed{{{GOLD[0]}}}"  # 5 words
    # avg@2 = (1 + 1/2 + 0) / 3; pass@2 = 2/3; maj@2: problem 1 ties 1-1, the first answer (gold) wins.
    assert summary.metrics == pytest.approx({"avg@2": 0.5, "pass@1": 0.5, "pass@2": 2 / 3, "maj@2": 2 / 3})
    assert list(summary.metrics) == ["avg@2", "pass@1", "pass@2", "maj@2"]
    assert summary.stderr == pytest.approx(0.5 / 3**0.5)
    assert summary.no_answer_rate == pytest.approx(2 / 6)
    saved = json.loads((tmp_path / "math500" / "summary.json").read_text())
    assert saved["metrics"] == summary.metrics and saved["num_problems"] == 3 and saved["n"] == 2
    table = (tmp_path / "math500" / "summary.md").read_text()
    assert "| math500 | 3 | 2 | 50.0 ± 28.9 | 50.0 | 66.7 | 66.7 |" in table
    assert "temperature 0.6, top-p 0.95" in table
    assert (
        "| suite | problems | n | avg@n (%) | pass@1 (%) | pass@2 (%) | maj@2 (%) |"
        in (tmp_path / "summary.md").read_text()
    )
    assert [b for b in policy.batches] == [["math500-0"] * 2 + ["math500-1"] * 2, ["math500-2"] * 2]


def test_rerun_generates_nothing_and_refills_deleted_or_truncated_lines(eval_data, scripted, tmp_path):
    config = _config(eval_data, tmp_path)
    run_eval(config, scripted())
    path = tmp_path / "math500" / "samples.jsonl"
    before = path.read_bytes()
    again = scripted()
    run_eval(config, again)
    assert again.batches == [] and path.read_bytes() == before

    lines = before.decode().splitlines(keepends=True)
    kept = [lines[0], lines[2], lines[3], lines[5][:25]]  # drop (0,1) and (2,0); (2,1) cut mid-line by a kill
    path.write_text("".join(kept))
    refill = scripted()
    (summary,) = run_eval(config, refill)
    assert sorted(pid for batch in refill.batches for pid in batch) == ["math500-0", "math500-2", "math500-2"]
    assert sorted(load_records(path)) == [(f"math500-{p}", s) for p in range(3) for s in range(2)]
    assert len(path.read_text().splitlines()) == 6
    assert summary.num_problems == 3


def test_larger_n_or_limit_extends_a_run_and_other_settings_are_refused(eval_data, scripted, tmp_path):
    run_eval(_config(eval_data, tmp_path), scripted())
    more = scripted()
    (summary,) = run_eval(_config(eval_data, tmp_path, n=3, limit=3), more)
    assert sorted(pid for batch in more.batches for pid in batch) == [f"math500-{p}" for p in range(3)]
    assert summary.n == 3 and "avg@3" in summary.metrics
    hotter = _config(eval_data, tmp_path)
    hotter = replace(hotter, suites=(override(hotter.suites[0], temperature=1.0),))
    with pytest.raises(ValueError, match=r"temperature=0\.6: expected the same temperature to resume, got 1\.0"):
        run_eval(hotter, scripted())


def test_load_records_keeps_good_lines_and_terminates_a_complete_last_line(tmp_path):
    path = tmp_path / "samples.jsonl"
    good = {"problem_id": "a", "sample": 0, "response": "r\u2028x", "extracted": None, "correct": False}
    good |= {"reason": "no_answer", "gold": "1", "tokens": 3}
    line = json.dumps(good, ensure_ascii=False)
    path.write_text(line + "\n" + '{"problem_id": "b"}\n' + line)  # a wrong schema, a duplicate without newline
    records = load_records(path)
    assert list(records) == [("a", 0)] and records[("a", 0)].response == "r\u2028x"
    assert path.read_text() == line + "\n"
    path.write_text(line)
    load_records(path)
    assert path.read_text() == line + "\n"
    assert load_records(tmp_path / "missing.jsonl") == {}


@pytest.fixture(scope="module")
def tiny_policy():
    from hicra.agents.policy import Policy

    return Policy.from_pretrained("tiny")


def _eval_argv(eval_data: Path, out: Path) -> list[str]:
    return [
        "eval", "--model", "tiny", "--suite", "math500", "--data-dir", str(eval_data), "--limit", "3",
        "--n", "2", "--k", "1,2", "--max-new-tokens", "12", "--batch-size", "4", "--device", "cpu", "-q",
        "--out", str(out),
    ]  # fmt: skip


def test_tiny_policy_end_to_end_through_the_cli(eval_data, tmp_path, tiny_policy, capsys):
    from hicra.benchmarks.cli import main
    from hicra.verifiers import verify

    assert main(_eval_argv(eval_data, tmp_path)) == 0
    assert "| math500 | 3 | 2 |" in capsys.readouterr().out
    path = tmp_path / "math500" / "samples.jsonl"
    records = _lines(path)
    assert len(records) == 6
    for r in records:
        verdict = verify(r["response"], r["gold"], mode="strict")
        assert (r["correct"], r["extracted"], r["reason"]) == (verdict.correct, verdict.extracted, verdict.reason)
        assert 1 <= r["tokens"] <= 12
    assert [r["gold"] for r in records] == [g for g in GOLD for _ in range(2)]
    summary = json.loads((tmp_path / "math500" / "summary.json").read_text())
    assert summary["metrics"]["avg@2"] == pytest.approx(sum(r["correct"] for r in records) / 6)
    throughput = summary["throughput"]
    assert (throughput["engine"], throughput["samples"]) == ("hf", 6) and throughput["seconds"] > 0
    assert throughput["tokens"] == sum(r["tokens"] for r in records)
    before = path.read_bytes()
    assert main(_eval_argv(eval_data, tmp_path)) == 0
    assert path.read_bytes() == before
    assert json.loads((tmp_path / "math500" / "summary.json").read_text())["throughput"]["samples"] == 0
    path.write_bytes(b"".join(before.splitlines(keepends=True)[:4]))
    assert main(_eval_argv(eval_data, tmp_path)) == 0
    assert sorted(load_records(path)) == sorted((r["problem_id"], r["sample"]) for r in records)


def test_tiny_policy_samples_are_reproducible_and_the_bar_shows_progress(eval_data, tmp_path, tiny_policy, capsys):
    runs = []
    for out in (tmp_path / "a", tmp_path / "b"):
        run_eval(_config(eval_data, out, model="tiny", progress=out.name == "a"), tiny_policy)
        runs.append([r["response"] for r in _lines(out / "math500" / "samples.jsonl")])
    assert runs[0] == runs[1]
    assert "6/6" in capsys.readouterr().err


def test_tiny_policy_samples_do_not_depend_on_the_batch_size(eval_data, tmp_path, tiny_policy):
    """Each sample has its own seed (problem, index), so regrouping the samples into batches changes nothing."""
    runs = {}
    for size in (1, 4):
        out = tmp_path / str(size)
        run_eval(_config(eval_data, out, model="tiny", batch_size=size, n=2), tiny_policy)
        runs[size] = {(r["problem_id"], r["sample"]): r["response"] for r in _lines(out / "math500" / "samples.jsonl")}
    assert runs[1] == runs[4] and len(runs[1]) == 6
    assert len(set(runs[1].values())) > 1  # the samples differ from one another


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--suite", "math50"],
            "unknown suite 'math50'; expected one of: aime24, aime25, amc23, math500, gsm8k; did you mean 'math500'?",
        ),
        (["--suite", "aime25"], "aime25.jsonl', which does not exist"),
        (["--k", "1,64"], "--k: k=64 exceeds the number of samples n=2"),
        (["--k", "1,x"], "--k: expected comma-separated integers >= 1, got 'x'"),
        (["--top-p", "0"], "top_p: expected a number in (0, 1], got 0"),
        (["--multiple", "first"], "argument --multiple: invalid choice: 'first'"),
    ],
)
def test_eval_user_errors_exit_2_with_one_line(eval_data, tmp_path, capsys, extra, message):
    from hicra.benchmarks.cli import main

    assert main([*_eval_argv(eval_data, tmp_path), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "math500" / "samples.jsonl").exists()


def test_eval_rejects_a_model_name_close_to_a_preset(eval_data, tmp_path, capsys):
    from hicra.benchmarks.cli import main

    argv = _eval_argv(eval_data, tmp_path)
    argv[argv.index("tiny")] = "tiyn"
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did you mean 'tiny'?" in err, err


def test_the_multiple_answer_policy_is_applied_and_recorded(eval_data, scripted, tmp_path):
    config = replace(_config(eval_data, tmp_path), multiple="reject")
    (summary,) = run_eval(config, scripted())
    assert summary.multiple == "reject"
    assert json.loads((tmp_path / "math500" / "run.json").read_text())["multiple"] == "reject"
    with pytest.raises(ValueError, match=r"multiple='reject': expected the same multiple to resume, got 'last'"):
        run_eval(_config(eval_data, tmp_path), scripted())


class Strict(gym.Wrapper):
    """A user's wrapper over a suite's env that marks every response wrong."""

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.zeros(len(responses), dtype=np.float32), [{**info, "correct": False} for info in infos]


def test_eval_goes_through_a_users_wrapper(eval_data, scripted, tmp_path, monkeypatch):
    from hicra.benchmarks import evaluate

    real = evaluate.make_suite_env
    monkeypatch.setattr(evaluate, "make_suite_env", lambda *a, **k: Strict(real(*a, **k)))
    (summary,) = run_eval(_config(eval_data, tmp_path), scripted())
    assert summary.metrics["avg@2"] == 0.0


def test_data_parallel_workers_write_every_sample_once(eval_data, tmp_path):
    """Two worker processes, each with its own tiny policy, share the batches; the parent alone writes records,
    and each sample is seeded by its own key, so the samples are the ones a single process draws."""
    config = replace(_config(eval_data, tmp_path / "dp", model="tiny"), data_parallel_size=2, batch_size=2)
    (summary,) = run_eval(config)
    records = _lines(tmp_path / "dp" / "math500" / "samples.jsonl")
    assert sorted((r["problem_id"], r["sample"]) for r in records) == [
        (f"math500-{p}", s) for p in range(3) for s in (0, 1)
    ]
    assert summary.metrics["avg@2"] == pytest.approx(sum(r["correct"] for r in records) / 6)
    run_eval(replace(config, out=tmp_path / "one", data_parallel_size=1))
    single = {
        (r["problem_id"], r["sample"]): r["response"] for r in _lines(tmp_path / "one" / "math500" / "samples.jsonl")
    }
    assert {(r["problem_id"], r["sample"]): r["response"] for r in records} == single


class RecordingPolicy(ScriptedPolicy):
    """A :class:`ScriptedPolicy` that also keeps every prompt it was given."""

    def __init__(self, scripts, problems) -> None:
        super().__init__(scripts, problems)
        self.prompts: list[str] = []

    def generate(self, prompts, **kwargs):
        self.prompts += list(prompts)
        return super().generate(prompts, **kwargs)


def _unboxed_policy(eval_data: Path) -> RecordingPolicy:
    """Answers like a small model that never boxes: a bare answer, an answer sentence, prose."""
    problems = _first_problems(eval_data)
    scripts = {
        "math500-0": [f"${GOLD[0]}$"],
        "math500-1": [f"The answer is ${GOLD[1]}$."],
        "math500-2": ["I am not sure how to start."],
    }
    return RecordingPolicy(scripts, problems)


def test_lenient_mode_reads_unboxed_answers_and_is_recorded(eval_data, tmp_path):
    strict_out, lenient_out = tmp_path / "strict", tmp_path / "lenient"
    (strict,) = run_eval(_config(eval_data, strict_out, n=1, ks=(1,)), _unboxed_policy(eval_data))
    (lenient,) = run_eval(_config(eval_data, lenient_out, n=1, ks=(1,), mode="lenient"), _unboxed_policy(eval_data))
    assert [r["reason"] for r in _lines(strict_out / "math500" / "samples.jsonl")] == ["no_answer"] * 3
    records = _lines(lenient_out / "math500" / "samples.jsonl")
    assert [r["correct"] for r in records] == [True, True, False]
    assert records[2]["reason"] == "no_answer"  # prose is never read as an answer
    assert (strict.metrics["avg@1"], lenient.metrics["avg@1"]) == (0.0, pytest.approx(2 / 3))
    assert (strict.mode, lenient.mode) == ("strict", "lenient")
    assert json.loads((lenient_out / "math500" / "run.json").read_text())["mode"] == "lenient"
    assert "lenient extraction" in (lenient_out / "math500" / "summary.md").read_text()
    with pytest.raises(ValueError, match=r"mode='lenient': expected the same mode to resume, got 'strict'"):
        run_eval(_config(eval_data, lenient_out, n=1, ks=(1,)), _unboxed_policy(eval_data))
    with pytest.raises(ValueError, match=r"mode: expected one of: strict, lenient, got 'loose'"):
        _config(eval_data, tmp_path, mode="loose")


def test_the_template_flag_changes_the_prompts_and_is_recorded(eval_data, tmp_path):
    from hicra.benchmarks.cli import main
    from hicra.benchmarks.cli.eval import config_from_args
    from hicra.benchmarks.cli.parser import build_parser

    argv = [*_eval_argv(eval_data, tmp_path), "--template", "fewshot-v1", "--mode", "lenient"]
    config = config_from_args(build_parser().parse_args(argv))
    assert (config.suites[0].template, config.mode) == ("fewshot-v1", "lenient")
    policies = {}
    for template in ("boxed-v1", "fewshot-v1"):
        policies[template] = _unboxed_policy(eval_data)
        suite = override(SUITES["math500"], n=1, max_new_tokens=8, template=template)
        run_eval(_config(eval_data, tmp_path / template, n=1, ks=(1,), suites=(suite,)), policies[template])
        assert json.loads((tmp_path / template / "math500" / "run.json").read_text())["template"] == template
    boxed, fewshot = policies["boxed-v1"].prompts[0], policies["fewshot-v1"].prompts[0]
    assert fewshot.endswith("Solution:") and fewshot.count("\\boxed") >= 2 > boxed.count("\\boxed")
    assert main([*_eval_argv(eval_data, tmp_path / "bad"), "--template", "chatty"]) == 2
    with pytest.raises(ValueError, match=r"unknown prompt template 'chatty'; expected one of: boxed-v1, "):
        override(SUITES["math500"], template="chatty")


def test_scores_go_to_the_run_log_backends(eval_data, scripted, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard back end needs the tensorboard package")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_eval(_config(eval_data, tmp_path, log_to="tensorboard"), scripted())
    (line,) = _lines(tmp_path / "metrics.jsonl")
    assert line["suite"] == "math500" and line["avg@2"] == pytest.approx(0.5) and line["num_problems"] == 3
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    assert "eval/math500/pass@2" in events.Tags()["scalars"]
    assert events.Scalars("eval/math500/pass@2")[0].value == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="log_to: expected one of"):
        _config(eval_data, tmp_path, log_to="tensorbored")
