"""Every registered hicra/* id, offline: check_env, seeding, gold earns 1.0, junk earns 0.0."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import hicra_env
from hicra_env.sources.hub import HUB_DATASETS

# Dataset ids run offline on the test fixtures (tests/data: five problems of each shared eval file). MATH-500 is a
# subset of MATH; AIME25 and AMC23 have no local copy, so they run on aime24.jsonl (the env does not depend on which
# competition the file holds).
DATA_FILES = {
    "GSM8K": "gsm8k.jsonl",
    "MATH": "math500.jsonl",
    "MATH500": "math500.jsonl",
    "AIME24": "aime24.jsonl",
    "AIME25": "aime24.jsonl",
    "AMC23": "aime24.jsonl",
}
IDS = sorted(env_id for env_id in gym.registry if env_id.startswith("hicra/"))


def test_every_task_is_registered_and_dataset_ids_are_covered():
    assert sorted(f"hicra/{name}-v0" for name in hicra_env.TASKS) == IDS
    assert set(HUB_DATASETS) == set(DATA_FILES)
    assert "hicra/Arithmetic-v0" in IDS


def _make(env_id: str, data_dir):
    name = env_id.removeprefix("hicra/").removesuffix("-v0")
    if name in DATA_FILES:
        return gym.make(env_id, data_path=data_dir / DATA_FILES[name])
    return gym.make(env_id)


@pytest.mark.parametrize("env_id", IDS)
def test_registered_env_behaves(env_id, eval_data):
    env = _make(env_id, eval_data)
    check_env(env.unwrapped, skip_render_check=True)

    other = _make(env_id, eval_data)
    first = [env.reset(seed=7 if i == 0 else None)[0] for i in range(4)]
    second = [other.reset(seed=7 if i == 0 else None)[0] for i in range(4)]
    assert first == second
    assert len(set(first)) > 1

    _, info = env.reset(seed=3)
    gold = env.unwrapped.problem(info["problem_id"]).answer
    obs, reward, terminated, truncated, step_info = env.step(f"\\boxed{{{gold}}}")
    assert (obs, reward, terminated, truncated) == ("", 1.0, True, False)
    assert step_info["correct"] is True and step_info["answer"] == gold

    for junk in ("", env.action_space.sample()):
        env.reset(seed=3)
        _, reward, terminated, _, step_info = env.step(junk)
        assert reward == 0.0 and terminated and step_info["correct"] is False
