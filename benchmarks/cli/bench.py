"""``hicra bench``: run the selected performance benchmarks (:mod:`hicra.benchmarks.perf`)."""

from __future__ import annotations

import argparse

from ..perf import run_benchmarks
from .errors import parse_list


def main(args: argparse.Namespace) -> int:
    return run_benchmarks(parse_list(args.which, "--which"), args.out)
