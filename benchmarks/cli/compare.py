"""``hicra compare``: a preset (or ``--config`` file), the flags and ``--set`` -> a ``CompareConfig``, then
:func:`hicra.benchmarks.compare.run_compare`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..compare import run_compare
from ..compare_config import DEFAULT_PRESET, compare_config, preset_path
from .errors import parse_list
from .train import overrides

#: Comparison flags -> the ``[compare]`` field each sets (None when not typed).
COMPARE_FLAGS = {"seeds": "seeds", "first_seed": "first_seed", "jobs": "jobs", "target_accuracy": "target_accuracy"}


def config_from_args(args: argparse.Namespace):
    """The :class:`~hicra.benchmarks.compare_config.CompareConfig` the flags ask for."""
    from hicra.agents.run_config import read_run_file, with_overrides

    data = read_run_file(args.config or preset_path(args.preset or DEFAULT_PRESET))
    pairs = [(f"compare.{field}", getattr(args, flag)) for flag, field in COMPARE_FLAGS.items()]
    if args.agents is not None:
        pairs.append(("compare.agents", parse_list(args.agents, "--agents")))
        if args.study:
            pairs.append(("compare.study_agents", parse_list(args.agents, "--agents")))
    if getattr(args, "reference", None) is not None:  # --reference AGENT (see the parser)
        pairs.append(("compare.reference", args.reference))
    if args.study and args.seeds is not None:
        pairs.append(("compare.study_seeds", args.seeds))
    pairs = [(k, v) for k, v in pairs if v is not None] + overrides(args)
    return compare_config(with_overrides(data, pairs), study=args.study)


def main(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    run_compare(config, args.out, plots=not args.no_plots, resume=args.resume)
    print((Path(args.out) / "summary.md").read_text(encoding="utf-8"))
    return 0
