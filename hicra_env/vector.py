"""Group rollouts: G copies of one problem in a vector env, for GRPO-style groups."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


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
