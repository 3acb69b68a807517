"""Run configuration files (TOML or YAML) for ``hicra train`` and ``hicra compare``.

Top-level keys are :class:`~hicra.agents.TrainConfig` fields; an ``[agent]`` table holds
:class:`~hicra.agents.AgentConfig` fields and, optionally, ``name`` (the agent). Example::

    steps = 100
    group_size = 8
    env_kwargs = { difficulty = 2 }

    [agent]
    name = "hicra"
    alpha = 0.2
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError, did_you_mean


@dataclass(frozen=True)
class RunFile:
    """What a configuration file asks for: train fields, agent fields, and the agent name if given."""

    train: dict[str, Any] = field(default_factory=dict)
    agent: dict[str, Any] = field(default_factory=dict)
    agent_name: str | None = None


def _check_keys(values: dict[str, Any], cls: type, where: str, path: Path) -> None:
    known = [f.name for f in fields(cls)]
    for key in values:
        if key not in known:
            raise UsageError(f"{path}: unknown {where} key {key!r}{did_you_mean(key, known)}")


def load_run_file(path: str | Path | None) -> RunFile:
    """Parse and check a TOML/YAML run file (None: an empty one). Unknown keys are a UsageError."""
    if path is None:
        return RunFile()
    from hicra.agents import AgentConfig, TrainConfig

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        raise UsageError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'YAML'}: {err}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a table of settings at the top level, got {type(data).__name__}")
    agent = dict(data.pop("agent", None) or {})
    name = agent.pop("name", None)
    _check_keys(data, TrainConfig, "train", path)
    _check_keys(agent, AgentConfig, "agent", path)
    return RunFile(train=data, agent=agent, agent_name=name)
