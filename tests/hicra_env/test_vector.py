"""Sync and Async vector envs return the real prompts; group rollouts put G envs on one problem."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hicra_env import MathEnv, reset_group

# Responses off the verifier's in-process fast path (the second one below) need its worker pool, which cannot
# start inside AsyncVectorEnv's default workers (daemonic, forked after the parent started the pool's
# forkserver). Documented workaround in hicra_env's docstring: daemon=False and a spawn context.
VECTOR_KWARGS = {"sync": {}, "async": {"daemon": False, "context": "spawn"}}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_returns_real_prompts_and_rewards(mode):
    envs = gym.make_vec("hicra/Arithmetic-v0", num_envs=2, vectorization_mode=mode, vector_kwargs=VECTOR_KWARGS[mode])
    try:
        obs, infos = envs.reset(seed=0)
        single = MathEnv("arithmetic")
        expected = [single.template.format(single.problem(pid).problem) for pid in infos["problem_id"]]
        assert list(obs) == expected and all(isinstance(o, str) for o in obs)
        golds = [single.problem(pid).answer for pid in infos["problem_id"]]
        _, rewards, terminated, truncated, step_infos = envs.step((f"\\boxed{{{golds[0]}}}", "π 中 \\boxed{x}"))
        np.testing.assert_array_equal(rewards, [1.0, 0.0])
        assert terminated.all() and not truncated.any()
        assert list(step_infos["answer"]) == golds
        obs2, _ = envs.reset(seed=1)
        assert list(obs2) != list(obs)  # fresh problems show through shared memory
    finally:
        envs.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_group_rollout_puts_every_env_on_one_problem(mode):
    envs = gym.make_vec("hicra/Arithmetic-v0", num_envs=3, vectorization_mode=mode)
    try:
        prompts, infos = reset_group(envs, seed=4)
        assert len(set(prompts)) == 1 and len(set(infos["problem_id"])) == 1
        pid = str(infos["problem_id"][0])
        gold = MathEnv("arithmetic").problem(pid).answer
        responses = (f"\\boxed{{{gold}}}", "\\boxed{-1}", f"The answer is {gold}")
        _, rewards, *_ = envs.step(responses)
        np.testing.assert_array_equal(rewards, [1.0, 0.0, 1.0])
        scored, _ = MathEnv("arithmetic").evaluate([pid] * 3, list(responses))
        np.testing.assert_array_equal(scored, rewards)
        again, infos = reset_group(envs, problem_id=pid)
        assert list(again) == list(prompts)
    finally:
        envs.close()


def test_default_async_vector_env_returns_real_prompts():
    envs = gym.make_vec("hicra/Arithmetic-v0", num_envs=2, vectorization_mode="async")
    try:
        obs, infos = envs.reset(seed=0)
        single = MathEnv("arithmetic")
        assert list(obs) == [single.template.format(single.problem(p).problem) for p in infos["problem_id"]]
    finally:
        envs.close()
