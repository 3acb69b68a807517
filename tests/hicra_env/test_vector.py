"""Sync and Async vector envs return the real prompts; group rollouts put G envs on one problem."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hicra_env import ArrayText, MathEnv, group_env_fns, reset_group

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


# ---------------------------------------------------------------- vector envs that auto-reset each sub-env (tianshou)
FILLER = "Let's think step by step: π ≈ 3.14159, √2 ≈ 1.414, 中文, émigré, ∑ ∫ ≤ ≥. " * 40
"""About 2,700 characters of text the envs must receive whole (a cut response loses its final box)."""
OFF_FAST_PATH = "\\boxed{\\sqrt{2} + 0\\pi}"
"""A wrong answer the verifier's in-process fast path cannot decide: its worker pool judges it."""


def _response(env_index: int, gold: str) -> str:
    return FILLER + (f"\\boxed{{{gold}}}" if env_index % 2 == 0 else OFF_FAST_PATH)


def test_array_text_holds_the_prompt_in_a_0d_object_array_and_replaces_none_in_info():
    env = ArrayText(gym.make("hicra/Arithmetic-v0"))
    obs, info = env.reset(seed=3)
    plain, _ = gym.make("hicra/Arithmetic-v0").reset(seed=3)
    assert isinstance(obs, np.ndarray) and obs.shape == () and obs.dtype == object and obs.item() == plain
    stacked = np.stack([obs, _object("x")])
    assert stacked.dtype == object and stacked[0] == plain  # np.stack keeps the whole string
    obs, reward, terminated, truncated, info = env.step(FILLER)  # no answer at all
    assert obs.item() == "" and reward == 0.0 and terminated and not truncated
    assert info["extracted"] == "" and info["reason"] == "no_answer"


def _object(text: str) -> np.ndarray:
    array = np.empty((), dtype=object)
    array[()] = text
    return array


def test_group_env_fns_seed_each_groups_resets_alike_and_groups_apart():
    seed_of = lambda group, reset: 100 * reset + group  # noqa: E731
    envs = [fn() for fn in group_env_fns("hicra/Arithmetic-v0", num_groups=2, group_size=3, seed_of=seed_of)]
    reference = gym.make("hicra/Arithmetic-v0")
    for reset in range(3):
        ids = [env.reset()[1]["problem_id"] for env in envs]
        expected = [reference.reset(seed=seed_of(k // 3, reset))[1]["problem_id"] for k in range(6)]
        assert ids == expected and ids[0] == ids[1] == ids[2] != ids[3] == ids[4] == ids[5]
    pid = ids[0]
    assert envs[4].reset(options={"problem_id": pid})[1]["problem_id"] == pid  # explicit options win
    assert envs[4].get_wrapper_attr("resets") == 4  # ... and count as a reset
    with pytest.raises(ValueError, match="num_groups: expected an integer >= 1, got 0"):
        group_env_fns("hicra/Arithmetic-v0", num_groups=0, group_size=2)


def _echo_policy(golds: dict[str, str]):
    """A tianshou policy answering env k with ``_response(k, gold)`` (the gold looked up by the reset info)."""
    from tianshou.algorithm.algorithm_base import Policy
    from tianshou.data import Batch

    class Echo(Policy):
        def __init__(self) -> None:
            super().__init__(action_space=gym.spaces.Discrete(1))  # tianshou 2.0.1 refuses a Text action space

        @staticmethod
        def _compile() -> None:  # tianshou JIT-compiles numba return estimators here (~15 s) that Echo never uses
            pass

        def forward(self, batch, state=None, **kwargs):
            act = np.empty(len(batch.obs), dtype=object)
            act[:] = [_response(k, golds.get(str(pid), "0")) for k, pid in enumerate(batch.info.problem_id)]
            return Batch(act=act)

    return Echo()


@pytest.mark.parametrize(("kind", "num_groups", "group_size"), [("dummy", 2, 2), ("subproc", 2, 1)])
def test_tianshou_collector_keeps_whole_prompts_and_responses_through_auto_resets(
    kind, num_groups, group_size, eval_data
):
    pytest.importorskip("tianshou", reason="tianshou is the optional extra hicra[tianshou]")
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv, SubprocVectorEnv

    from hicra_env.vector import default_seed_of

    path = str(eval_data / "math500.jsonl")  # five MATH500 problems: prompts of up to 800 characters, LaTeX
    fns = group_env_fns("hicra/MATH500-v0", num_groups=num_groups, group_size=group_size, seed=7, data_path=path)
    envs = DummyVectorEnv(fns) if kind == "dummy" else SubprocVectorEnv(fns, context="spawn")
    reference = MathEnv("MATH500", data_path=path)
    golds = {p.id: p.answer for p in map(reference.source.get, range(len(reference.source)))}
    n = num_groups * group_size
    collector = Collector(_echo_policy(golds), envs, VectorReplayBuffer(n, n))
    try:
        collector.reset()
        for reset in range(3):  # resets 1 and 2 are the collector's auto-resets
            collector.collect(n_step=n)
            batch, _ = collector.buffer.sample(0)
            expected = [reference.reset(seed=default_seed_of(7, k // group_size, reset)) for k in range(n)]
            assert list(batch.obs) == [prompt for prompt, _ in expected]
            assert list(batch.info.problem_id) == [info["problem_id"] for _, info in expected]
            assert list(batch.act) == [_response(k, golds[info["problem_id"]]) for k, (_, info) in enumerate(expected)]
            np.testing.assert_array_equal(batch.rew, [float(k % 2 == 0) for k in range(n)])
            assert list(batch.info.reason) == ["ok" if k % 2 == 0 else "mismatch" for k in range(n)]  # pool judged
            collector.reset_buffer(keep_statistics=True)
    finally:
        collector.close()


def test_tianshou_cuts_plain_string_prompts_after_an_auto_reset():
    """Why ArrayText exists: with plain ``str`` observations tianshou 2.0.1 writes the auto-reset prompts into the
    previous step's ``<U1`` array (the empty terminal observations), keeping their first character."""
    pytest.importorskip("tianshou", reason="tianshou is the optional extra hicra[tianshou]")
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv

    envs = DummyVectorEnv([lambda: gym.make("hicra/Arithmetic-v0")] * 2)
    collector = Collector(_echo_policy({}), envs, VectorReplayBuffer(4, 2))
    collector.reset()
    collector.collect(n_step=2)
    collector.collect(n_step=2)
    batch, _ = collector.buffer.sample(0)
    first, second = batch.obs[[0, 2]], batch.obs[[1, 3]]  # per env: the first round, then after the auto-reset
    assert all(len(p) > 50 for p in first) and [len(p) for p in second] == [1, 1]
    collector.close()
