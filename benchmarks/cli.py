"""The ``hicra`` command: ``train``, ``eval``, ``compare``, ``bench``, ``analyze``.

Every subcommand runs through :func:`main`: user mistakes (a :class:`UsageError`, raised here, by argparse
or by a subcommand's module) print one line on stderr, ``hicra <command>: error: ...`` with a "did you mean"
where one helps, and exit with code 2. Each subcommand's body lives in its own module with a
``main(args) -> int | None``, imported only when that subcommand runs:

=========  ================================  ==========================================
command    function                          arguments (``args`` attributes)
=========  ================================  ==========================================
eval       hicra.benchmarks.evaluate.main    see ``hicra eval --help``
compare    hicra.benchmarks.compare.main     agents (str), env, seeds, ...
train      hicra.benchmarks.train.main       agent, env, model, config, resume, ...
analyze    hicra.benchmarks.analyze.main     run_dirs (list[str]), out
bench      hicra.benchmarks.perf.main        which (str), out
=========  ================================  ==========================================

Before dispatch, :func:`validate` checks what can be checked cheaply (agent and env names, files and folders,
model paths). Comma-separated flags (``--agents``, ``--which``, ``--suite``, ``--k``) reach the subcommand as
the strings the user typed; split them with :func:`hicra.benchmarks.errors.parse_list`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli_parser import COMMANDS, build_parser, subparser
from .errors import UsageError, check_names, did_you_mean, parse_list

__all__ = ["UsageError", "main", "validate"]

log = logging.getLogger(__name__)

MODULES = {
    "eval": "hicra.benchmarks.evaluate",
    "compare": "hicra.benchmarks.compare",
    "train": "hicra.benchmarks.train",
    "analyze": "hicra.benchmarks.analyze",
    "bench": "hicra.benchmarks.perf",
}
_HANDLER_TAG = "_hicra_cli_handler"


def known_agents() -> list[str] | None:
    """Registered agent names, or None when ``hicra.agents`` does not provide ``AGENTS``."""
    try:
        from hicra.agents import AGENTS
    except ImportError:
        log.debug("hicra.agents.AGENTS is not importable; agent names are checked by the subcommand")
        return None
    return list(AGENTS)


def check_env_id(env_id: str) -> None:
    """Raise :class:`UsageError` unless ``env_id`` is a registered gymnasium id (hicra_env imported first)."""
    import gymnasium

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    if env_id not in gymnasium.registry:
        ours = [k for k in gymnasium.registry if k.startswith("hicra/")]
        hint = did_you_mean(env_id, ours) or did_you_mean(env_id, gymnasium.registry)
        raise UsageError(f"unknown env {env_id!r}{hint} (hicra envs: {', '.join(sorted(ours))})")


def check_model(model: str) -> None:
    """Reject a model given as a filesystem path that does not exist (names and hub ids load later)."""
    looks_local = model.startswith(("/", "./", "../", "~")) or model in (".", "..")
    if looks_local and not Path(model).expanduser().exists():
        raise UsageError(f"--model: no such directory {model!r}; pass a preset name, a hub id or an existing folder")


def _check_file(path: str | None, flag: str, *, folder: bool = False) -> None:
    if path is None:
        return
    exists = Path(path).is_dir() if folder else Path(path).is_file()
    if not exists:
        kind = "directory" if folder else "file"
        raise UsageError(f"{flag}: no such {kind} {path!r}")


def validate(args: argparse.Namespace) -> None:
    """Check the names and paths given in ``args`` (None: not given). Comma lists stay strings."""
    if args.command in ("compare", "train"):
        names = parse_list(args.agents, "--agents") if args.command == "compare" else [args.agent] if args.agent else []
        agents = known_agents() if names else None
        if agents is not None:
            check_names(names, agents, "agent")
        if args.env is not None:
            check_env_id(args.env)
        if args.model is not None:
            check_model(args.model)
        _check_file(args.config, "--config")
    if args.command == "compare" and args.target_accuracy is not None and not 0 <= args.target_accuracy <= 1:
        raise UsageError(f"--target-accuracy: expected a number in [0, 1], got {args.target_accuracy}")
    if args.command == "train":
        _check_file(args.resume, "--resume", folder=True)
    if args.command == "eval":
        check_model(args.model)
    if args.command == "analyze":
        for run_dir in args.run_dirs:
            _check_file(run_dir, "RUN_DIR", folder=True)
    if args.command == "bench":
        parse_list(args.which, "--which")


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


def _dispatch(args: argparse.Namespace) -> int:
    module_name = MODULES[args.command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        module = None
    run = getattr(module, "main", None)
    if run is None:
        print(
            f"hicra {args.command}: error: not available in this installation ({module_name}.main)",
            file=sys.stderr,
        )
        return 1
    code = run(args)
    return 0 if code is None else int(code)


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
    command = "hicra"
    try:
        args = _parse(argv)
        command = f"hicra {args.command}"
        configure_logging(args)
        validate(args)
        return _dispatch(args)
    except UsageError as err:
        message = " ".join(str(err).split())
        prefix = "" if message.startswith("hicra") else f"{command}: error: "
        print(prefix + message, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print(f"{command}: interrupted (rerun the same command to resume where supported)", file=sys.stderr)
        return 130
