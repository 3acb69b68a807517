"""hicra's agents as tianshou 2 algorithms: a collected round is the rollout hicra's Trainer samples, one update
equals the Trainer's for every agent, and tianshou's own OnPolicyTrainer trains the tiny policy."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from dataclasses import asdict

import gymnasium as gym
import numpy as np
import pytest
import torch

pytest.importorskip("tianshou", reason="tianshou is the optional extra hicra[tianshou]")

from tianshou.data import Batch, Collector, VectorReplayBuffer
from tianshou.trainer import OnPolicyTrainerParams
from tianshou.utils import LazyLogger
from tianshou.utils.torch_utils import policy_within_training_step

from hicra.agents import AGENTS, Policy, TrainConfig, Trainer, make_agent
from hicra.agents.records import StepMetrics
from hicra.agents.tianshou_algorithms import collected_groups, make_algorithm, make_vector_env

PARITY_ID = "hicra-test/ParityArithmetic-v0"
SMALL = dict(env_id=PARITY_ID, prompts_per_step=2, group_size=4, max_new_tokens=16, micro_batch_size=3, lr=1e-3, seed=1)


class ParityReward(gym.Wrapper):
    """Reward 1 for a response of even length, in ``step`` (tianshou) and ``evaluate`` (hicra's Trainer): groups get
    mixed rewards whatever the tiny policy's accuracy, so every update has non-zero advantages."""

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        even = len(action) % 2 == 0
        return obs, float(even), terminated, truncated, {**info, "correct": even}

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        rewards = np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32)
        return rewards, [{**info, "correct": bool(r)} for info, r in zip(infos, rewards)]


def _parity_env(**kwargs) -> gym.Env:
    return ParityReward(gym.make("hicra/Arithmetic-v0", **kwargs))


if PARITY_ID not in gym.registry:
    gym.register(PARITY_ID, entry_point=_parity_env)


@pytest.fixture(scope="module")
def tiny() -> Policy:
    return Policy.from_pretrained("tiny")


def _fresh(tiny: Policy) -> Policy:
    """A policy with the tiny model's initial weights (every test trains its own copy)."""
    return Policy(copy.deepcopy(tiny.model), tiny.tokenizer)


@pytest.fixture(scope="module")
def collected(tiny):
    """One round collected by tianshou's Collector at step 0: ``(config, replay buffer, RolloutBatch)``."""
    config = TrainConfig(**SMALL)
    envs = make_vector_env(config)
    algorithm = make_algorithm(make_agent("grpo"), config, envs.action_space[0], llm=_fresh(tiny))
    collector = Collector(algorithm, envs, VectorReplayBuffer(len(envs), len(envs)))
    collector.reset()
    with policy_within_training_step(algorithm.policy):
        collector.collect(n_step=len(envs))
    batch, _ = collector.buffer.sample(0)
    return config, collector.buffer, algorithm.rollout_batch(batch)


def test_a_collected_round_is_the_rollout_hicras_trainer_samples_at_that_step(tiny, collected):
    config, _, ours = collected
    theirs = Trainer(make_agent("grpo"), config, policy=_fresh(tiny), env=gym.make(PARITY_ID)).rollout({})
    for name in ("input_ids", "attention_mask", "response_ids", "response_mask", "group_ids", "rewards", "correct",
                 "sampler_logprobs", "planning_mask"):  # fmt: skip
        assert torch.equal(getattr(ours, name), getattr(theirs, name)), name
    assert (ours.texts, ours.problem_ids, ours.prompt_length) == (
        theirs.texts,
        theirs.problem_ids,
        theirs.prompt_length,
    )
    assert ours.group_ids.tolist() == [0, 0, 0, 0, 1, 1, 1, 1] and len(set(ours.problem_ids)) == 2
    assert 0 < float(ours.rewards.mean()) < 1  # mixed rewards: the update below has something to do


@pytest.mark.parametrize(
    ("name", "epochs", "agent_config"),
    [
        *((n, 1, {}) for n in sorted(AGENTS) if n != "dapo"),
        ("dapo", 1, {"dynamic_sampling": False}),  # its overlong shaping and loss; dynamic sampling is refused below
        ("hicra", 2, {}),
        ("grpo", 1, {"kl_coef": 0.05}),
    ],
)
def test_one_tianshou_update_equals_the_trainers_update(tiny, collected, name, epochs, agent_config):
    config, buffer, _ = collected
    config = TrainConfig(**{**SMALL, "ppo_epochs": epochs})
    agent = make_agent(name, **agent_config)
    algorithm = make_algorithm(agent, config, gym.make(PARITY_ID).action_space, llm=_fresh(tiny))
    with policy_within_training_step(algorithm.policy):
        stats = algorithm.update(buffer, batch_size=None, repeat=epochs)
    trainer = Trainer(make_agent(name, **agent_config), config, policy=_fresh(tiny), env=gym.make(PARITY_ID))
    metrics = trainer.train_step()
    ours, theirs = algorithm.policy.model.state_dict(), trainer.policy.model.state_dict()
    moved = min(float((ours[k] - v).abs().max()) for k, v in tiny.model.state_dict().items())
    assert moved > 1e-5, "some parameter did not move: the comparison would be vacuous"
    for key, value in theirs.items():
        torch.testing.assert_close(ours[key], value, rtol=0, atol=1e-6, msg=f"{name}: parameter {key} differs")
    for key, value in asdict(metrics).items():
        if not key.startswith("time_"):
            got = getattr(stats, key)
            assert got == value or math.isclose(got, value, abs_tol=1e-6) or (math.isnan(got) and math.isnan(value)), (
                key
            )


def test_dynamic_sampling_is_refused_with_the_way_out(tiny):
    with pytest.raises(ValueError, match="dapo: expected dynamic_sampling=false in the tianshou path"):
        make_algorithm(make_agent("dapo"), TrainConfig(**SMALL), gym.make(PARITY_ID).action_space, llm=tiny)


def test_mini_batches_take_one_optimiser_step_each(tiny, collected):
    config, buffer, _ = collected
    algorithm = make_algorithm(make_agent("hicra"), config, gym.make(PARITY_ID).action_space, llm=_fresh(tiny))
    steps = []
    algorithm.optimizer.register_step_post_hook(lambda *args: steps.append(1))
    with policy_within_training_step(algorithm.policy):
        stats = algorithm.update(buffer, batch_size=3, repeat=2)  # 8 responses: 3 mini-batches per pass
    assert len(steps) == 6 and not stats.skipped and math.isfinite(stats.loss) and stats.grad_norm > 0


class CaptureLogger(LazyLogger):
    """A tianshou logger that keeps every row it is asked to write."""

    def __init__(self) -> None:
        super().__init__()
        self.training_interval = self.update_interval = 1
        self.rows: list[tuple[str, int, dict]] = []

    def write(self, step_type: str, step: int, data: dict) -> None:
        self.rows.append((step_type, step, dict(data)))


def test_tianshous_on_policy_trainer_trains_the_tiny_policy(tiny):
    config = TrainConfig(**SMALL)
    envs = make_vector_env(config)
    algorithm = make_algorithm(make_agent("hicra"), config, envs.action_space[0], llm=_fresh(tiny))
    n, logger = len(envs), CaptureLogger()
    params = OnPolicyTrainerParams(
        training_collector=Collector(algorithm, envs, VectorReplayBuffer(n, n)), max_epochs=1, epoch_num_steps=2 * n,
        collection_step_num_env_steps=n, batch_size=None, update_step_num_repetitions=1, logger=logger,
        show_progress=False, verbose=False,
    )  # fmt: skip
    info = algorithm.run_training(params)
    assert info.update_step == 2 and info.train_step == 2 * n and algorithm.step == algorithm.policy.rounds == 2
    unchanged = [
        k for k, v in algorithm.policy.model.state_dict().items() if torch.equal(v, tiny.model.state_dict()[k])
    ]
    assert not unchanged, f"parameters not updated: {unchanged}"
    updates = [data for scope, _, data in logger.rows if scope == "update/update_step"]
    assert [row["step"] for row in updates] == [0, 1]
    for field in StepMetrics.__dataclass_fields__:  # hicra's metric names, written by tianshou's logger
        assert all(field in row for row in updates), field
    assert updates[0]["loss"] != updates[1]["loss"] and updates[0]["grad_norm"] > 0
    collected = [data for scope, _, data in logger.rows if scope == "training/env_step"]
    assert [row["n_collected_episodes"] for row in collected] == [n, n]


def test_collected_groups_are_round_and_env_group_checked_whole():
    rounds, envs = np.array([0, 1, 0, 1, 0, 1, 0, 1]), np.array([0, 0, 1, 1, 2, 2, 3, 3])  # env-major buffer order
    problems = ["a", "c", "a", "c", "b", "d", "b", "d"]
    assert collected_groups(rounds, envs, problems, 2).tolist() == [0, 2, 0, 2, 1, 3, 1, 3]
    with pytest.raises(ValueError, match=r"expected 2 responses to one problem, got 2 to \['a', 'x'\]"):
        collected_groups(rounds, envs, ["a", "c", "x", "c", "b", "d", "b", "d"], 2)
    with pytest.raises(ValueError, match=r"expected 2 responses to one problem, got 1 to \['a'\]"):
        collected_groups(np.array([0, 0, 0]), np.array([0, 2, 3]), ["a", "b", "b"], 2)


def test_the_policy_refuses_observations_that_are_not_prompts(tiny):
    algorithm = make_algorithm(make_agent("grpo"), TrainConfig(**SMALL), gym.make(PARITY_ID).action_space, llm=tiny)
    with pytest.raises(ValueError, match=r"batch.obs\[0\]: expected a str prompt, got int.*make_vector_env"):
        algorithm.policy(Batch(obs=np.array([3, 4], dtype=object), info=Batch()))
    with pytest.raises(ValueError, match="kind: expected 'dummy' or 'subproc', got 'ray'"):
        make_vector_env(TrainConfig(**SMALL), "ray")


def test_importing_hicra_does_not_import_tianshou():
    code = "import sys, hicra.agents, hicra_env; hicra.agents.AGENTS; assert 'tianshou' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
