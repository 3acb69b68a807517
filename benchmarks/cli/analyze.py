"""``hicra analyze``: paper-style figures and the phase table, from run logs (``RUN_DIR...``) or from responses
produced elsewhere (``--responses FILE --model M``, scored by ``M``; see
:mod:`hicra.benchmarks.analyze_responses`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..analyze import format_reports, phase_reports
from ..plots import plot_runs
from ..runs import find_runs
from .errors import UsageError


def _responses_run(args: argparse.Namespace) -> Path:
    """Score ``--responses`` with ``--model`` into a run folder (``config.json`` + ``metrics.jsonl``)."""
    from hicra.agents.records import append_jsonl

    from ..analyze_responses import score_responses
    from ..eval_generate import load_policy

    if not args.model:
        raise UsageError("--responses: expected --model M, the model that scores the responses")
    path = Path(args.responses)
    if not path.is_file():
        raise UsageError(f"--responses: expected a JSONL file, got {str(path)!r}, which does not exist")
    run_dir = Path(args.out) if args.out else path.with_suffix("") / "analysis"
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = score_responses(path, load_policy(args.model))
    name = Path(args.model.rstrip("/")).name or args.model
    (run_dir / "config.json").write_text(json.dumps({"agent": {"name": name}, "train": {"seed": 0}}), encoding="utf-8")
    (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    for row in rows:
        append_jsonl(run_dir / "metrics.jsonl", row)
    return run_dir


def main(args: argparse.Namespace) -> int:
    if args.responses:
        run_dirs = [*args.run_dirs, _responses_run(args)]
    elif args.run_dirs:
        run_dirs = args.run_dirs
    else:
        raise UsageError("expected RUN_DIR... (folders written by train or compare) or --responses FILE --model M")
    for run_dir in run_dirs:
        if not Path(run_dir).is_dir():
            raise UsageError(f"RUN_DIR: expected a folder written by train or compare, got {str(run_dir)!r}")
    runs = find_runs(run_dirs)
    out = Path(args.out) if args.out else Path(run_dirs[0]) / "plots"
    if args.responses and args.out:
        out = out / "plots"
    paths = plot_runs(runs, out)
    print(format_reports(phase_reports(runs)))
    print(f"plots: {len(paths)} PNG files in {out}")
    return 0
