"""The ``hicra`` command: ``train``, ``eval``, ``compare``, ``bench``, ``analyze``, ``grams build``.

The only code that knows argparse. Each subcommand's module here turns flags into the library's typed configs
(``RunConfig``, ``CompareConfig``, ``EvalConfig``) and calls the library; every mistake, whether the command
line's own (:class:`UsageError`) or one the library raises (``ValueError``, ``KeyError``, ``FileNotFoundError``,
Gymnasium's errors for env ids), prints one line on stderr, ``hicra <command>: error: ...`` with "did you mean"
where one helps (:func:`~hicra.benchmarks.cli.errors.one_line`), and exits with code 2 (``-v`` adds the
traceback).

=========  ======================================
command    module
=========  ======================================
train      :mod:`hicra.benchmarks.cli.train`
eval       :mod:`hicra.benchmarks.cli.eval`
compare    :mod:`hicra.benchmarks.cli.compare`
analyze    :mod:`hicra.benchmarks.cli.analyze`
bench      :mod:`hicra.benchmarks.cli.bench`
grams      :mod:`hicra.benchmarks.cli.grams`
=========  ======================================
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence

from .errors import USER_ERRORS, UsageError, did_you_mean, one_line
from .parser import COMMANDS, build_parser, subparser

__all__ = ["UsageError", "main"]

_HANDLER_TAG = "_hicra_cli_handler"


def configure_logging(args: argparse.Namespace) -> None:
    """One stderr handler on the ``hicra`` and ``hicra_env`` loggers (replacing an earlier one from here)."""
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    setattr(handler, _HANDLER_TAG, True)
    for name in ("hicra", "hicra_env"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_TAG, False)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        raise UsageError(f"hicra: error: expected a command: {', '.join(COMMANDS)} (see hicra --help)")
    if extra:
        options = subparser(parser, args.command).option_strings()
        flag = next((e.split("=")[0] for e in extra if e.startswith("-")), extra[0])
        hint = did_you_mean(flag, options)
        raise UsageError(f"hicra {args.command}: error: unrecognized arguments: {' '.join(extra)}{hint}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hicra`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    from hicra.agents.cpu_env import prefer_passive_openmp

    prefer_passive_openmp()  # before torch is imported: OpenMP threads that spin slow decoding on shared cores
    command, verbose = "hicra", False
    try:
        args = _parse(argv)
        command, verbose = f"hicra {args.command}", args.verbose
        configure_logging(args)
        module = importlib.import_module(f"{__name__}.{args.command}")
        code = module.main(args)
        return 0 if code is None else int(code)
    except USER_ERRORS as err:
        if verbose:
            traceback.print_exc()
        message = one_line(err)
        print(message if message.startswith("hicra") else f"{command}: error: {message}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print(f"{command}: interrupted (rerun the same command to resume where supported)", file=sys.stderr)
        return 130
