"""Where a run's metrics go: JSON lines always, TensorBoard and Weights & Biases when asked (``train.log_to``).

One small interface, :class:`RunLog`: ``log(step, metrics)`` writes the same names to every back end, so a figure
read in TensorBoard or W&B is the line of ``metrics.jsonl`` with that step. Scalars go under a prefix (``train/``,
``heldout/``, ``eval/<suite>/``); booleans are logged as 0/1, non-finite values are written to JSON as null and left
out of TensorBoard and W&B, strings and lists stay in the JSON line only.

TensorBoard writes event files under ``<run_dir>/tensorboard``; W&B runs offline unless ``WANDB_MODE`` says
otherwise (``wandb sync <run_dir>/wandb/offline-run-*`` uploads later) and keeps its files under ``<run_dir>``.
Both packages are imported only when their back end is asked for; a missing one is one error naming the install.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from .config import log_backends
from .records import append_jsonl

log = logging.getLogger(__name__)

INSTALL = {"tensorboard": "pip install tensorboard", "wandb": "pip install wandb"}
"""The install line of each optional back end."""


def scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of ``metrics`` as floats (booleans as 0/1): what TensorBoard and W&B receive."""
    out = {}
    for name, value in metrics.items():
        if isinstance(value, (int, float)) and math.isfinite(value):  # bool is an int
            out[name] = float(value)
    return out


class _TensorBoard:
    def __init__(self, run_dir: Path, config: Mapping[str, Any] | None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ImportError(f"log_to 'tensorboard' needs the tensorboard package: {INSTALL['tensorboard']}") from err
        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"))
        if config:
            self.writer.add_text("config", "```\n" + _format_config(config) + "\n```", 0)

    def log(self, step: int, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class _WandB:
    def __init__(self, run_dir: Path, config: Mapping[str, Any] | None, name: str | None, project: str) -> None:
        try:
            import wandb
        except ImportError as err:
            raise ImportError(f"log_to 'wandb' needs the wandb package: {INSTALL['wandb']}") from err
        mode = os.environ.get("WANDB_MODE", "offline")
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", project), name=name, dir=str(run_dir), mode=mode,
            config=dict(config or {}), reinit="create_new",
        )  # fmt: skip

    def log(self, step: int, values: Mapping[str, float]) -> None:
        self.run.log(dict(values), step=step)

    def close(self) -> None:
        self.run.finish()


class RunLog:
    """The metric log of one run folder.

    Args:
        run_dir: the run's folder (created if missing).
        log_to: ``TrainConfig.log_to``, e.g. ``"jsonl"`` or ``"tensorboard,wandb"`` (JSON lines are always written).
        config: the run's configuration (``RunConfig.to_dict()``), shown by TensorBoard and W&B.
        name: the run's name in W&B (default: the folder's name).
        project: the W&B project (``WANDB_PROJECT`` wins).
    """

    def __init__(
        self,
        run_dir: str | Path,
        log_to: str = "jsonl",
        *,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        project: str = "hicra",
    ) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.backends = log_backends(log_to)
        self._config, self._name, self._project = config, name or self.run_dir.name, project
        self._writers: list[Any] | None = None
        """The TensorBoard / W&B writers, opened at the first :meth:`log` (again after :meth:`close`)."""

    def _open(self) -> list[Any]:
        writers: list[Any] = []
        if "tensorboard" in self.backends:
            writers.append(_TensorBoard(self.run_dir, self._config))
        if "wandb" in self.backends:
            writers.append(_WandB(self.run_dir, self._config, self._name, self._project))
        return writers

    def log(
        self, step: int, metrics: Mapping[str, Any] | Any, *, prefix: str = "train", file: str | None = None
    ) -> None:
        """Write one row: as a JSON line to ``file``, and its scalars as ``<prefix>/<name>`` at ``step`` to the
        other back ends.

        ``file`` defaults to ``metrics.jsonl`` for the ``train`` prefix and ``<prefix>.jsonl`` otherwise (``/`` in
        the prefix becomes ``_``). ``metrics`` is a mapping or a dataclass (``StepMetrics``).
        """
        row = asdict(metrics) if is_dataclass(metrics) else dict(metrics)
        file = file or ("metrics.jsonl" if prefix == "train" else prefix.replace("/", "_") + ".jsonl")
        append_jsonl(self.run_dir / file, row)
        values = {f"{prefix}/{k}": v for k, v in scalars(row).items() if k != "step"}
        if self._writers is None:
            self._writers = self._open()
        for writer in self._writers:
            writer.log(step, values)

    def where(self) -> dict[str, Path]:
        """Where each back end writes: ``{"jsonl": run_dir, "tensorboard": run_dir/"tensorboard", ...}``."""
        places = {"jsonl": self.run_dir, "tensorboard": self.run_dir / "tensorboard", "wandb": self.run_dir / "wandb"}
        return {name: places[name] for name in self.backends}

    def close(self) -> None:
        """Flush and close every back end (a W&B run is finished)."""
        for writer in self._writers or []:
            writer.close()
        self._writers = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _format_config(config: Mapping[str, Any], indent: str = "") -> str:
    lines = []
    for key, value in config.items():
        if isinstance(value, Mapping):
            lines += [f"{indent}[{key}]", _format_config(value, indent + "  ")]
        else:
            lines.append(f"{indent}{key} = {value!r}")
    return "\n".join(lines)
