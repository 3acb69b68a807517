"""What a comparison runs: :class:`CompareConfig` (a base run, agents, seeds) and the presets it is read from.

The lower module of the comparison: :mod:`.compare` runs a ``CompareConfig`` and :mod:`.compare_summary` tabulates
its runs; both import it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from hicra.agents.run_config import RunConfig

DEFAULT_PRESET = "miniature_v2"
STUDY_KEYS = ("study_agents", "study_seeds")
"""Keys of a preset's ``[compare]`` table that describe its full study (``hicra compare --study``)."""


@dataclass(frozen=True)
class CompareConfig:
    """What a comparison runs: ``run`` for every agent in ``agents`` and every seed."""

    run: RunConfig = field(default_factory=RunConfig)
    """The base run: task, policy, budget, and the agent settings every agent shares (its agent name is ignored)."""
    agents: tuple[str, ...] = ("grpo", "hicra", "entropy_grpo")
    """Agent names from ``hicra.agents.AGENTS``."""
    seeds: int = 3
    """Seeds per agent: ``first_seed .. first_seed + seeds - 1``."""
    first_seed: int = 0
    """The first seed (rerun on seeds nobody used by raising it)."""
    jobs: int = 2
    """Runs in parallel processes, each with ``max(1, cores // jobs)`` torch threads."""
    target_accuracy: float = 0.5
    """Threshold of the "steps to target" column (on 5-step smoothed training accuracy)."""
    final_fraction: float = 0.25
    """Share of the last (and first) steps averaged for final (and initial) training accuracy."""
    reference: str | None = None
    """The agent every contrast is measured against (held-out accuracy of agent - reference, paired by seed).
    None: the first of ``agents``."""
    contrasts: tuple[str, ...] | None = None
    """The pre-registered contrasts: the agents compared with ``reference``, the family the Holm correction runs
    over. None: every other agent of ``agents``."""

    def __post_init__(self) -> None:
        for agent in self.agents:
            replace(self.run, agent=agent)  # RunConfig checks the name
        for name, low in (("seeds", 1), ("first_seed", 0), ("jobs", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
        if not self.agents:
            raise ValueError("agents: expected at least one agent name, got none")
        if not 0 <= self.target_accuracy <= 1:
            raise ValueError(f"target_accuracy: expected a number in [0, 1], got {self.target_accuracy!r}")
        if not 0 < self.final_fraction <= 1:
            raise ValueError(f"final_fraction: expected a number in (0, 1], got {self.final_fraction!r}")
        self._check_contrasts()

    def _check_contrasts(self) -> None:
        if self.reference is not None:
            if not isinstance(self.reference, str):
                raise ValueError(f"reference: expected an agent name, got {self.reference!r}")
            self._check_name("reference", self.reference)
        if self.contrasts is None:
            return
        if (
            not isinstance(self.contrasts, tuple)
            or not self.contrasts
            or not all(isinstance(a, str) for a in self.contrasts)
        ):
            raise ValueError(f"contrasts: expected a non-empty list of agent names, got {self.contrasts!r}")
        for agent in self.contrasts:
            self._check_name("contrasts", agent)
        if self.reference_agent in self.contrasts or len(set(self.contrasts)) < len(self.contrasts):
            raise ValueError(
                f"contrasts: expected distinct agents other than the reference {self.reference_agent!r}, "
                f"got {list(self.contrasts)!r}"
            )

    def _check_name(self, what: str, agent: str) -> None:
        try:
            replace(self.run, agent=agent)  # RunConfig checks the name
        except KeyError as err:
            raise KeyError(f"{what}: {err.args[0]}") from None

    @property
    def reference_agent(self) -> str:
        """``reference``, else the first agent."""
        return self.reference if self.reference is not None else self.agents[0]

    @property
    def contrast_agents(self) -> tuple[str, ...]:
        """``contrasts``, else every agent but the reference, in ``agents`` order."""
        if self.contrasts is not None:
            return self.contrasts
        return tuple(a for a in self.agents if a != self.reference_agent)

    def runs(self) -> list[tuple[RunConfig, str]]:
        """Every (run config, ``<agent>/seed<k>`` folder) of the comparison, seed-major: a comparison stopped part
        way holds every agent of its first seeds, so its paired contrasts are complete for those seeds."""
        seeds = range(self.first_seed, self.first_seed + self.seeds)
        return [
            (replace(self.run, agent=agent, train=replace(self.run.train, seed=seed)), f"{agent}/seed{seed}")
            for seed in seeds
            for agent in self.agents
        ]


def preset_names() -> list[str]:
    """The presets shipped in ``benchmarks/presets/`` (``<name>.toml``)."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files(__package__).joinpath("presets").iterdir()
                  if p.name.endswith(".toml"))  # fmt: skip


def preset_path(name: str) -> Path:
    """The file of preset ``name``; ``KeyError`` names the presets there are."""
    if name not in preset_names():
        raise KeyError(f"unknown preset {name!r}; expected one of: {', '.join(preset_names())}")
    return Path(str(resources.files(__package__).joinpath("presets", f"{name}.toml")))


def compare_config(data: dict[str, Any], *, study: bool = False) -> CompareConfig:
    """A :class:`CompareConfig` from a preset's dict: ``[agent]``/``[train]`` make the base run, ``[compare]``
    the rest (``study``: its ``study_agents`` and ``study_seeds`` instead of ``agents`` and ``seeds``)."""
    data = dict(data)
    section = dict(data.pop("compare", None) or {})
    known = [f.name for f in fields(CompareConfig) if f.name != "run"]
    for key in section:
        if key not in (*known, *STUDY_KEYS):
            raise KeyError(f"unknown compare field {key!r}; expected one of: {', '.join([*known, *STUDY_KEYS])}")
    study_values = {key.removeprefix("study_"): section.pop(key) for key in STUDY_KEYS if key in section}
    if study:
        section.update(study_values)
    for key in ("agents", "contrasts"):
        if isinstance(section.get(key), list):
            section[key] = tuple(section[key])
    return CompareConfig(run=RunConfig.from_dict(data), **section)
