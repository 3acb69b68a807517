"""``hicra eval``: flags -> an :class:`~hicra.benchmarks.evaluate.EvalConfig`, then
:func:`~hicra.benchmarks.evaluate.run_eval`; prints the overall table."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..eval_summary import markdown_table
from ..evaluate import EvalConfig, default_out, run_eval
from ..suites import get_suites, override
from .errors import UsageError, parse_int_list, parse_list


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    """The :class:`EvalConfig` of ``hicra eval`` flags."""
    flags = {"n": args.n, "temperature": args.temperature, "top_p": args.top_p, "max_new_tokens": args.max_new_tokens,
             "template": args.template}  # fmt: skip
    suites = tuple(override(s, **flags) for s in get_suites(parse_list(args.suite, "--suite")))
    ks = tuple(parse_int_list(args.k, "--k")) if args.k else None
    if ks and max(ks) > max(s.n for s in suites):
        raise UsageError(
            f"--k: k={max(ks)} exceeds the number of samples n={max(s.n for s in suites)} of every suite; "
            f"raise --n to at least {max(ks)} or drop that k"
        )
    return EvalConfig(
        model=args.model,
        adapter=args.adapter,
        suites=suites,
        out=Path(args.out) if args.out else default_out(args.adapter or args.model),
        ks=ks,
        limit=args.limit,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        batch_size=args.batch_size,
        seed=args.seed,
        progress=not args.no_progress,
        device=args.device,
        dtype=args.dtype,
        multiple=args.multiple,
        mode=args.mode,
        engine=args.engine,
        tensor_parallel_size=args.tensor_parallel_size,
        data_parallel_size=args.data_parallel_size,
        log_to=args.log_to,
    )


def main(args: argparse.Namespace) -> int:
    summaries = run_eval(config_from_args(args))
    print(markdown_table(summaries), end="")  # the command's output: the overall table on stdout
    return 0
