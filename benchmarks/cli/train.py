"""``hicra train``: one agent, from a run file, flags and ``--set`` overrides (one ``RunConfig``); ``--resume``.

Under ``torchrun`` (``torchrun --nproc_per_node N -m hicra.benchmarks.cli train ...``) every process runs this
command and trains data-parallel (see :mod:`hicra.agents.distributed`)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from .errors import parse_overrides

#: Training flags -> the RunConfig field each sets (None when not typed).
FLAG_FIELDS = {
    "agent": "agent.name",
    "env": "train.env_id",
    "model": "train.model",
    "steps": "train.steps",
    "device": "train.device",
    "engine": "train.engine",
    "seed": "train.seed",
    "grams": "train.grams",
}


def overrides(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """The ``(dotted field, value)`` pairs of the typed flags, then of ``--set`` (which wins)."""
    flags = [(field, getattr(args, flag, None)) for flag, field in FLAG_FIELDS.items()]
    return [(k, v) for k, v in flags if v is not None] + parse_overrides(args.overrides)


def run_config(args: argparse.Namespace, base: dict[str, Any] | None = None):
    """The :class:`~hicra.agents.RunConfig` of ``--config`` (or ``base``), the flags and ``--set``."""
    from hicra.agents.run_config import RunConfig, read_run_file, with_overrides

    data = read_run_file(args.config) if args.config else (base or {})
    return RunConfig.from_dict(with_overrides(data, overrides(args)))


def default_run_dir(run) -> Path:
    env = re.sub(r"[^A-Za-z0-9]+", "-", run.train.env_id).strip("-")
    return Path("runs") / "train" / f"{run.agent}-{env}-{run.train.seed}"


def where_it_goes(run_dir: Path, backends: dict[str, Path]) -> str:
    """The lines ``hicra train`` prints before it starts: where the logs, checkpoints and plots of the run go."""
    logs = [f"{run_dir / 'metrics.jsonl'} (one line a step; responses in rollouts.jsonl)"]
    logs += [f"{name} in {path}" for name, path in backends.items() if name != "jsonl"]
    return "\n".join([
        f"run folder: {run_dir} (config.json, lexicon.json)",
        f"logs: {'; '.join(logs)}",
        f"checkpoints: {run_dir / 'checkpoints'} (resume with: hicra train --resume {run_dir})",
        f"plots: hicra analyze {run_dir} (writes {run_dir / 'plots'})",
    ])  # fmt: skip


def parameters_line(model, lora) -> str:
    """``parameters: 4,096 trainable of 489,088 (0.84%), LoRA r=4 ...`` (what ``hicra train`` prints)."""
    from hicra.agents.lora import count_parameters

    trainable, total = count_parameters(model)
    what = "full fine-tuning"
    if lora is not None:
        targets = lora.target_modules or "peft's default modules"
        targets = ",".join(targets) if isinstance(targets, tuple) else targets
        what = f"LoRA r={lora.r}, alpha={lora.alpha:g} on {targets}"
    return f"parameters: {trainable:,} trainable of {total:,} ({100 * trainable / total:.2f}%), {what}"


def main(args: argparse.Namespace) -> int:
    """Train (data-parallel over the ranks when launched with torchrun; rank 0 prints and writes)."""
    from hicra.agents import Trainer
    from hicra.agents.distributed import teardown

    trainer = None
    try:
        if args.resume:
            trainer = Trainer.resume(args.resume, **({"steps": args.steps} if args.steps else {}))
            run_dir = Path(args.resume)
        else:
            run = run_config(args)
            run_dir = Path(args.out) if args.out else default_run_dir(run)
            trainer = Trainer(run.make_agent(), run.train, run_dir=run_dir)
        if trainer.dist.is_main:
            print(where_it_goes(run_dir, trainer.run_log.where() if trainer.run_log else {}), flush=True)
            print(parameters_line(trainer.policy.model, trainer.config.lora), flush=True)
        history = trainer.train(progress=not args.quiet)
    finally:
        if trainer is None or trainer.policy.engine.name == "hf":
            teardown()  # an in-process vLLM engine leaves the process group itself, at exit
    if history and trainer.dist.is_main:
        last = history[-1]
        print(f"{trainer.agent.name}: step {last.step}, accuracy {last.accuracy:.3f}, run in {run_dir}")
    return 0
