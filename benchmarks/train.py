"""``hicra train``: one agent on one env, from flags and an optional TOML/YAML file; ``--resume RUN_DIR``."""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import Any

from .config_file import load_run_file
from .errors import UsageError, did_you_mean

log = logging.getLogger(__name__)


def check_env_id(env_id: str) -> None:
    """UsageError with "did you mean" when ``env_id`` is not registered (hicra_env registers on import)."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    if env_id not in gym.registry:
        hicra_ids = sorted(k for k in gym.registry if k.startswith("hicra/"))
        raise UsageError(f"unknown env {env_id!r}{did_you_mean(env_id, hicra_ids)} (hicra ids: {', '.join(hicra_ids)})")


def build_trainer(agent_name: str, train: dict[str, Any], agent_cfg: dict[str, Any], run_dir: Path):
    """A :class:`~hicra.agents.Trainer`, turning configuration and loading mistakes into UsageErrors."""
    from hicra.agents import AGENTS, TrainConfig, Trainer, make_agent

    if agent_name not in AGENTS:
        raise UsageError(f"unknown agent {agent_name!r}{did_you_mean(agent_name, AGENTS)} (known: {', '.join(AGENTS)})")
    check_env_id(train.get("env_id", TrainConfig.env_id))
    try:
        agent = make_agent(agent_name, **agent_cfg)
        config = TrainConfig(**train)
        return Trainer(agent, config, run_dir=run_dir)
    except (ValueError, OSError) as err:
        raise UsageError(str(err).splitlines()[0]) from None


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """TrainConfig fields given on the command line (None means "not given")."""
    pairs = {"env_id": args.env, "model": args.model, "steps": args.steps, "device": args.device}
    pairs["seed"] = getattr(args, "seed", None)
    return {k: v for k, v in pairs.items() if v is not None}


def main(args: argparse.Namespace) -> int:
    from hicra.agents import Trainer

    if args.resume:
        run_dir = Path(args.resume)
        try:
            trainer = Trainer.resume(run_dir, **({"steps": args.steps} if args.steps else {}))
        except FileNotFoundError as err:
            raise UsageError(str(err)) from None
    else:
        file = load_run_file(args.config)
        agent_name = args.agent or file.agent_name or "hicra"
        train = {**file.train, **flag_overrides(args)}
        seed = train.get("seed", 0)
        default_dir = f"runs/train/{agent_name}-{re.sub(r'[^A-Za-z0-9]+', '-', train.get('env_id', 'default'))}-{seed}"
        run_dir = Path(args.out or default_dir)
        trainer = build_trainer(agent_name, train, file.agent, run_dir)
    history = trainer.train(progress=not args.quiet)
    if history:
        last = history[-1]
        print(f"{trainer.agent.name}: step {last.step}, accuracy {last.accuracy:.3f}, run in {run_dir}")
    return 0
