"""Named seed purposes: every random draw of a training step comes from (run seed, step, purpose).

Two agents with the same run seed see the same problems at every step; a resumed run draws exactly what the
uninterrupted run drew, because no draw depends on state carried between steps.
"""

from __future__ import annotations

from enum import IntEnum

import gymnasium as gym
import numpy as np


class SeedPurpose(IntEnum):
    """What a derived seed is for (the values are part of the seeding rule: never renumber them)."""

    PROBLEMS = 0
    """Which problems a step draws (``env.reset`` seeds)."""
    SAMPLING = 1
    """The rollout engine's token draws."""
    SHUFFLE = 2
    """The order of micro-batches in the update."""
    CREDIT = 3
    """Random credit masks (the placebo's spans)."""
    HELDOUT = 4
    """Sampling on the held-out problems."""


def derived_seed(seed: int, step: int, purpose: SeedPurpose, *more: int) -> int:
    """A 63-bit seed from (run seed, step, purpose, ...): collision-free across steps and purposes."""
    parts = [int(seed), int(step), int(purpose), *map(int, more)]
    return int(np.random.SeedSequence(parts).generate_state(2, np.uint64)[0] >> np.uint64(1))


def draw_problems(env: gym.Env, seed: int, step: int, count: int, *, start: int = 0) -> tuple[list[str], list[str]]:
    """The raw prompts and problem ids of training step ``step``: ``env.reset`` seeded by (seed, step, PROBLEMS, b)
    for ``b`` in ``start .. start + count - 1`` (a rank of a distributed run draws its share of the step's batch)."""
    prompts, ids = [], []
    for b in range(start, start + count):
        obs, info = env.reset(seed=derived_seed(seed, step, SeedPurpose.PROBLEMS, b))
        prompts.append(obs)  # Policy.generate applies the chat template
        ids.append(info["problem_id"])
    return prompts, ids
