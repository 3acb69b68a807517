"""Suite summaries of ``hicra eval``: avg@n, pass@k, maj@k from the sample records; JSON and Markdown tables.

Per problem, the first n samples (indices 0..n-1) count. avg@n is the mean correctness (pass@1 estimated from
n samples); pass@k is the unbiased estimator of :func:`~hicra.benchmarks.passk.pass_at_k`; maj@k is the
majority vote over samples 0..k-1 (:func:`~hicra.benchmarks.passk.maj_at_k`, answers grouped by the
verifier's normalisation, :func:`hicra.verifiers.answer_key`). A suite's value is the mean over its problems;
``stderr`` is the standard error of avg@n across problems.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .eval_records import SampleRecord
from .passk import avg_at_n, maj_at_k, pass_at_k


@dataclass(frozen=True)
class SuiteSummary:
    """The scores of one model on one suite."""

    suite: str
    env_id: str
    model: str
    n: int
    num_problems: int
    metrics: dict[str, float]
    """``avg@n``, ``pass@k`` and ``maj@k`` (k >= 2) for each reported k <= n, in that order."""
    stderr: float
    """Standard error of avg@n across problems."""
    mean_tokens: float
    no_answer_rate: float
    """Fraction of samples from which no answer was read (under the run's ``mode``)."""
    temperature: float
    top_p: float
    max_new_tokens: int
    template: str
    multiple: str = "last"
    """How several different final answers were judged (``last`` or ``reject``)."""
    mode: str = "strict"
    """Answer extraction: ``strict`` (boxes and final-answer lines) or ``lenient``."""
    throughput: dict | None = None
    """What this invocation generated: ``engine``, ``samples``, ``tokens`` and wall ``seconds`` (generation and
    scoring), so tokens/s = tokens / seconds (``samples`` 0 when every sample was resumed from disk)."""

    @property
    def headline(self) -> str:
        return f"avg@{self.n}"


def summarize(records: Sequence[Sequence[SampleRecord]], ks: Sequence[int], *, n: int, **info: object) -> SuiteSummary:
    """Summary of ``records[p]`` (problem p's samples 0..n-1, in order); ``info`` fills the other fields.

    Only the ks with ``k <= n`` are reported.
    """
    if not records:
        raise ValueError("cannot summarise a suite without problems")
    for rows in records:
        if [r.sample for r in rows] != list(range(n)):
            raise ValueError(f"problem {rows[0].problem_id if rows else '?'}: expected samples 0..{n - 1}")
    ks = [k for k in ks if k <= n]
    per_problem = [avg_at_n([r.correct for r in rows]) for rows in records]
    metrics = {f"avg@{n}": _mean(per_problem)}
    for k in ks:
        metrics[f"pass@{k}"] = _mean([pass_at_k(n, sum(r.correct for r in rows), k) for rows in records])
    for k in (k for k in ks if k >= 2):
        votes = [maj_at_k([r.extracted for r in rows], [r.correct for r in rows], k) for rows in records]
        metrics[f"maj@{k}"] = _mean([float(v) for v in votes])
    samples = [r for rows in records for r in rows]
    spread = _std(per_problem) / math.sqrt(len(per_problem)) if len(per_problem) > 1 else 0.0
    return SuiteSummary(
        n=n,
        num_problems=len(records),
        metrics=metrics,
        stderr=spread,
        mean_tokens=_mean([r.tokens for r in samples]),
        no_answer_rate=_mean([float(r.reason == "no_answer") for r in samples]),
        **info,  # type: ignore[arg-type]
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _std(values: Sequence[float]) -> float:
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _metric_columns(summaries: Sequence[SuiteSummary]) -> list[str]:
    """pass@k then maj@k columns over all summaries, by k."""
    names = {name for s in summaries for name in s.metrics if not name.startswith("avg@")}
    return sorted(names, key=lambda m: (m.split("@")[0] != "pass", int(m.split("@")[1])))


def markdown_table(summaries: Sequence[SuiteSummary]) -> str:
    """One row per suite: problems, n, avg@n ± stderr, pass@k and maj@k (%, blank where k > n), tokens."""
    columns = _metric_columns(summaries)
    head = ["suite", "problems", "n", "avg@n (%)", *[f"{c} (%)" for c in columns], "mean tokens", "no answer (%)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        cells = [s.suite, str(s.num_problems), str(s.n), f"{_pct(s.metrics[s.headline])} ± {_pct(s.stderr)}"]
        cells += [_pct(s.metrics[c]) if c in s.metrics else "" for c in columns]
        cells += [f"{s.mean_tokens:.0f}", _pct(s.no_answer_rate)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _settings_line(s: SuiteSummary) -> str:
    return (
        f"temperature {s.temperature}, top-p {s.top_p}, max new tokens {s.max_new_tokens}, template "
        f"{s.template}, {s.mode} extraction, several final answers: {s.multiple}"
    )


def write_suite_summary(summary: SuiteSummary, folder: Path) -> None:
    """``summary.json`` and ``summary.md`` in ``folder``."""
    (folder / "summary.json").write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    title = f"# {summary.model} on {summary.suite} ({summary.env_id})\n\n{_settings_line(summary)}.\n\n"
    (folder / "summary.md").write_text(title + markdown_table([summary]), encoding="utf-8")


def write_overall_summary(summaries: Sequence[SuiteSummary], out: Path) -> str:
    """``summary.json`` and ``summary.md`` over all suites in ``out``; returns the Markdown table."""
    payload = {"suites": [asdict(s) for s in summaries]}
    (out / "summary.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    table = markdown_table(summaries)
    models = ", ".join(dict.fromkeys(s.model for s in summaries))
    (out / "summary.md").write_text(f"# hicra eval: {models}\n\n{table}", encoding="utf-8")
    return table
