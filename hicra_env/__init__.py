"""hicra_env: math problems as text Gymnasium environments.

Importing this package registers ``hicra/<name>-v0`` for every task in :data:`hicra_env.tasks.TASKS`::

    import gymnasium as gym
    import hicra_env  # registers the hicra/* ids

    env = gym.make("hicra/Arithmetic-v0")
    prompt, info = env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("7 + 5 = 12. The answer is \\boxed{12}.")

Group rollouts (G responses to one problem, as GRPO needs)::

    envs = gym.make_vec("hicra/Arithmetic-v0", num_envs=G, vectorization_mode="sync")
    prompts, infos = reset_group(envs, seed=0)  # G copies of one problem
    _, rewards, *_ = envs.step(responses)

or score many responses at once with ``MathEnv.evaluate(problem_ids, responses)`` (one verifier batch).
Vector envs that auto-reset each sub-env on its own (tianshou's ``DummyVectorEnv``, ``SubprocVectorEnv``) take
``group_env_fns(env_id, num_groups=B, group_size=G, seed=0)``: the G envs of a group pose one problem at every
reset, and prompts survive tianshou's numpy arrays whole (:class:`~hicra_env.vector.ArrayText`).
Sync and Async vector envs both return the real prompts: :class:`~hicra_env.spaces.UnicodeText` stores text in
shared memory as UTF-8 bytes. For ``AsyncVectorEnv`` whose ``step`` scores responses, pass
``vector_kwargs={"daemon": False, "context": "spawn"}``: the verifier's worker pool (used for answers off its
in-process fast path) cannot start inside Gymnasium's default daemonic, forked workers.
"""

from __future__ import annotations

import gymnasium as gym

from .env import MathEnv
from .problem import Problem
from .sources.base import DataFileError, HubUnavailableError, ProblemSource, UnknownProblemError
from .spaces import UnicodeText
from .tasks import TASKS, build_source
from .templates import TEMPLATES, PromptTemplate, get_template
from .vector import ArrayText, SeededResets, group_env_fns, reset_group

__all__ = [
    "TASKS",
    "TEMPLATES",
    "ArrayText",
    "DataFileError",
    "HubUnavailableError",
    "MathEnv",
    "Problem",
    "ProblemSource",
    "PromptTemplate",
    "SeededResets",
    "UnicodeText",
    "UnknownProblemError",
    "build_source",
    "get_template",
    "group_env_fns",
    "register_envs",
    "reset_group",
]


def register_envs() -> list[str]:
    """Register ``hicra/<name>-v0`` for every task (idempotent); returns the ids."""
    ids = []
    for name in TASKS:
        env_id = f"hicra/{name}-v0"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="hicra_env.env:MathEnv", kwargs={"source": name})
        ids.append(env_id)
    return ids


register_envs()
