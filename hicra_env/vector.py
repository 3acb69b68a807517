"""Group rollouts: G copies of one problem in a vector env, for GRPO-style groups.

Two ways to get groups. Gymnasium vector envs: :func:`reset_group` resets every sub-env on one problem. Vector envs
that auto-reset each sub-env on its own (tianshou's ``DummyVectorEnv``/``SubprocVectorEnv`` and its ``Collector``):
:func:`group_env_fns` builds B x G envs whose G envs of a group draw the same problem at every reset, because they
share one seed per reset (:class:`SeededResets`), and whose prompts survive ``np.stack`` (:class:`ArrayText`).
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

SeedOf = Callable[[int, int], int]
"""``seed_of(group, reset)``: the seed of a group's ``reset``-th reset (0-based)."""


def reset_group(
    envs: gym.vector.VectorEnv, *, problem_id: str | None = None, seed: int | None = None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Reset every sub-env of ``envs`` on the same problem; returns ``(prompts, infos)``.

    With ``problem_id`` every sub-env takes that problem (``reset(options={"problem_id": ...})``). Without it,
    the first sub-env draws one (seeded by ``seed``) and all sub-envs are then reset on it. Works with
    ``SyncVectorEnv`` and ``AsyncVectorEnv`` from ``gymnasium.make_vec``.
    """
    if problem_id is None:
        _, infos = envs.reset(seed=seed)
        problem_id = str(infos["problem_id"][0])
    return envs.reset(options={"problem_id": problem_id})


class ArrayText(gym.Wrapper):
    """A text env whose outputs survive numpy arrays: each observation is a 0-d numpy object array holding the
    ``str`` (``obs.item()`` is the prompt), and ``None`` info values become ``""``.

    Vector envs that ``np.stack`` observations (tianshou's) turn plain strings into a fixed-width ``<U`` array,
    and tianshou's ``Collector`` writes the prompts of auto-reset envs into the previous step's array, whose
    width is that of the empty terminal observation: every prompt after the first auto-reset would be cut to its
    first character. Stacked 0-d object arrays give an object array that holds each prompt whole. tianshou's
    ``OnPolicyTrainer`` also refuses a replay buffer holding ``None`` (it takes it for a missing value), which
    ``info["extracted"]`` is when a response has no answer (``info["reason"]`` still says ``"no_answer"``).
    Actions pass through unchanged (a ``str`` or an element of an object array).
    """

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        return _object_array(obs), _no_none(info)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return _object_array(obs), reward, terminated, truncated, _no_none(info)


def _object_array(text: str) -> np.ndarray:
    array = np.empty((), dtype=object)
    array[()] = text
    return array


def _no_none(info: dict[str, Any]) -> dict[str, Any]:
    return {key: "" if value is None else value for key, value in info.items()}


class SeededResets(gym.Wrapper):
    """Reset number ``r`` (0-based, counted over every reset) without an explicit seed or options is
    ``reset(seed=seed_of(r))``: envs given the same ``seed_of`` pose the same problem at each reset, as long as
    they are reset equally often (a vector env whose sub-envs all end their single-step episodes together)."""

    def __init__(self, env: gym.Env, seed_of: Callable[[int], int]) -> None:
        super().__init__(env)
        self.seed_of, self.resets = seed_of, 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        if seed is None and not options:
            seed = int(self.seed_of(self.resets))
        self.resets += 1
        return self.env.reset(seed=seed, options=options)


def default_seed_of(seed: int, group: int, reset: int) -> int:
    """A 63-bit seed from (seed, reset, group): every group and reset draws independently."""
    return int(np.random.SeedSequence([int(seed), int(reset), int(group)]).generate_state(2, np.uint64)[0] >> 1)


def group_env_fns(
    env_id: str, *, num_groups: int, group_size: int, seed: int = 0, seed_of: SeedOf | None = None, **make_kwargs
) -> list[Callable[[], gym.Env]]:
    """``num_groups * group_size`` env factories for vector envs built from factories (tianshou:
    ``DummyVectorEnv(fns)``, ``SubprocVectorEnv(fns, context="spawn")``).

    Env ``k`` belongs to group ``k // group_size``; its reset ``r`` is seeded by ``seed_of(group, r)`` (default:
    :func:`default_seed_of` with ``seed``), so the G envs of a group pose the same problem at every reset and
    groups differ. Each env is ``gym.make(env_id, **make_kwargs)`` wrapped in :class:`SeededResets` and
    :class:`ArrayText`. A factory called in a daemonic worker process (tianshou starts every
    ``SubprocVectorEnv`` worker with ``daemon=True``, with no option) lets that process start child processes,
    which the verifier's killable worker pool needs (the parent still terminates the worker at exit). Use
    ``context="spawn"`` when this process has already verified answers: a forked worker inherits the verifier's
    forkserver state and cannot start its own.
    """
    for name, value in (("num_groups", num_groups), ("group_size", group_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    seed_of = seed_of or functools.partial(default_seed_of, seed)
    return [
        functools.partial(_make_group_env, env_id, functools.partial(seed_of, group), make_kwargs)
        for group in range(num_groups)
        for _ in range(group_size)
    ]


def _make_group_env(env_id: str, seed_of: Callable[[int], int], make_kwargs: dict[str, Any]) -> gym.Env:
    process = multiprocessing.current_process()
    if process.daemon:  # a tianshou SubprocVectorEnv worker: the verifier's pool needs child processes
        process.daemon = False
    return ArrayText(SeededResets(gym.make(env_id, **make_kwargs), seed_of))
