"""RunConfig: the one check of a run's keys and values, files and dotted overrides, and the round trip."""

from __future__ import annotations

import pytest

from hicra.agents import AgentConfig, RunConfig, TrainConfig
from hicra.agents.run_config import with_overrides


def test_from_dict_builds_typed_configs_and_round_trips():
    run = RunConfig.from_dict({"agent": {"name": "hicra", "alpha": 0.3}, "train": {"steps": 7, "lr": 1e-3}})
    assert run.agent == "hicra" and run.agent_config.alpha == 0.3
    assert run.train.steps == 7 and run.train.lr == 1e-3 and run.train.group_size == TrainConfig.group_size
    assert RunConfig.from_dict(run.to_dict()) == run


@pytest.mark.parametrize(
    ("data", "error", "needle"),
    [
        ({"agnet": {}}, KeyError, "unknown section 'agnet'; expected one of: agent, train"),
        ({"agent": {"alpah": 1}}, KeyError, "unknown agent field 'alpah'; expected one of: name, alpha"),
        ({"train": {"stpes": 1}}, KeyError, "unknown train field 'stpes'; expected one of: env_id"),
        ({"agent": {"name": "hirca"}}, KeyError, "unknown agent 'hirca'; expected one of: grpo, hicra"),
        ({"agent": {"alpha": -1}}, ValueError, "alpha: expected a value in [0.0, inf], got -1"),
        ({"train": {"steps": 0}}, ValueError, "steps: expected an integer >= 1, got 0"),
    ],
)
def test_from_dict_is_the_one_check(data, error, needle):
    with pytest.raises(error) as err:
        RunConfig.from_dict(data)
    assert needle in str(err.value.args[0])


def test_dotted_overrides_set_nested_fields_without_touching_the_input():
    base = {"train": {"env_kwargs": {"num_problems": 32}}}
    out = with_overrides(base, [("agent.alpha", 0.5), ("train.env_kwargs.difficulty", 2), ("agent.name", "grpo")])
    assert out == {
        "train": {"env_kwargs": {"num_problems": 32, "difficulty": 2}},
        "agent": {"alpha": 0.5, "name": "grpo"},
    }
    assert base == {"train": {"env_kwargs": {"num_problems": 32}}}
    with pytest.raises(KeyError, match=r"expected section\.field"):
        with_overrides({}, [("alpha", 1)])


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_from_file_reads_toml_and_yaml_then_overrides(tmp_path, suffix):
    text = (
        '[agent]\nname = "grpo"\nalpha = 0.1\n[train]\nsteps = 9\n'
        if suffix == ".toml"
        else "agent:\n  name: grpo\n  alpha: 0.1\ntrain:\n  steps: 9\n"
    )
    path = tmp_path / f"run{suffix}"
    path.write_text(text)
    run = RunConfig.from_file(path, [("agent.alpha", 0.4)])
    assert run == RunConfig(agent="grpo", agent_config=AgentConfig(alpha=0.4), train=TrainConfig(steps=9))


def test_from_file_names_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunConfig.from_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3")
    with pytest.raises(ValueError, match="expected valid TOML"):
        RunConfig.from_file(bad)
