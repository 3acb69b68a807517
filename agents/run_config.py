"""``RunConfig``: one typed record of a training run (agent name, ``AgentConfig``, ``TrainConfig``).

:meth:`RunConfig.from_dict` is the one check of keys and values: files, command-line flags and ``--set
section.field=value`` overrides all become a nested dict, then a ``RunConfig``. Every run writes
``config.json`` (:meth:`RunConfig.to_dict`) and resume reads it back. The dict layout, as in a TOML file::

    [agent]
    name = "hicra"
    alpha = 0.2

    [train]
    env_id = "hicra/Arithmetic-v0"
    steps = 60

    [train.lora]   # optional: LoRA adapters instead of full fine-tuning
    r = 16
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .config import AgentConfig, TrainConfig
from .lora import lora_from_value

SECTIONS = ("agent", "train")


@dataclass(frozen=True)
class RunConfig:
    """What a training run is: which agent, its configuration, and the run's."""

    agent: str = "hicra"
    """Agent name, a key of ``hicra.agents.AGENTS``."""
    agent_config: AgentConfig = field(default_factory=AgentConfig)
    """The agent's credit assignment and loss settings."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Task, policy, sampling budget and optimiser."""

    def __post_init__(self) -> None:
        from .registry import AGENTS

        if self.agent not in AGENTS:
            raise KeyError(f"unknown agent {self.agent!r}; expected one of: {', '.join(AGENTS)}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """A ``RunConfig`` from ``{"agent": {"name": ..., <AgentConfig fields>}, "train": {<TrainConfig fields>}}``.

        Raises ``KeyError`` for an unknown section, field or agent name (naming the valid ones) and ``ValueError``
        for a value out of its range.
        """
        _check_keys(data, SECTIONS, "section")
        agent = dict(data.get("agent") or {})
        train = dict(data.get("train") or {})
        name = agent.pop("name", cls.agent)
        _check_keys(agent, ["name", *(f.name for f in fields(AgentConfig))], "agent field")
        _check_keys(train, [f.name for f in fields(TrainConfig)], "train field")
        if "lora" in train:
            train["lora"] = lora_from_value(train["lora"])
        return cls(agent=name, agent_config=AgentConfig(**agent), train=TrainConfig(**train))

    def make_agent(self):
        """The configured agent (``AGENTS[agent](agent_config)``)."""
        from .registry import AGENTS

        return AGENTS[self.agent](self.agent_config)

    def to_dict(self) -> dict[str, Any]:
        """The nested dict :meth:`from_dict` reads (what ``config.json`` holds)."""
        return {"agent": {"name": self.agent, **asdict(self.agent_config)}, "train": asdict(self.train)}

    def to_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON (a run's ``config.json``)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: Iterable[tuple[str, Any]] = ()) -> RunConfig:
        """Read a TOML or YAML run file (None: defaults), apply ``(dotted key, value)`` overrides, check it all."""
        data = read_run_file(path) if path is not None else {}
        return cls.from_dict(with_overrides(data, overrides))


def read_run_file(path: str | Path) -> dict[str, Any]:
    """The nested dict of a TOML (``.toml``) or YAML run file; ``ValueError`` for unreadable contents."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"run file: expected a TOML or YAML file, got {str(path)!r}, which does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as err:
        kind = "TOML" if path.suffix == ".toml" else "YAML"
        raise ValueError(f"{path}: expected valid {kind}, got: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected [agent] and [train] tables at the top level, got {type(data).__name__}")
    return data


def with_overrides(data: Mapping[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``data`` with each ``("section.field", value)`` set (``("train.env_kwargs.difficulty", 2)`` too)."""
    out = copy.deepcopy(dict(data))
    for key, value in overrides:
        parts = key.split(".")
        if len(parts) < 2 or not all(parts):
            raise KeyError(f"override {key!r}: expected section.field with a section among: {', '.join(SECTIONS)}")
        node = out.setdefault(parts[0], {})
        for part in parts[1:-1]:
            if node.get(part) is None:  # an unset table (``train.lora`` of a full fine-tuning config)
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                raise KeyError(f"override {key!r}: {part!r} is not a table")
        node[parts[-1]] = value
    return out


def _check_keys(values: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    known = list(known)
    for key in values:
        if key not in known:
            raise KeyError(f"unknown {what} {key!r}; expected one of: {', '.join(known)}")
