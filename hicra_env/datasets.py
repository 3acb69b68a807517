"""hicra envs as prompt/answer datasets for trainers that take a dataset, such as TRL's ``GRPOTrainer``.

One call turns a registered id (procedural or data) into rows ``{"prompt", "answer", "problem_id"}``: the prompt
exactly as ``env.reset`` poses it (template included), the gold answer the env's verifier checks, and the id.
Everything goes through ``gymnasium.make`` and ``get_wrapper_attr``, so env kwargs and user wrappers apply::

    from hicra_env.datasets import env_dataset
    from hicra.verifiers.rewards import verifier_reward

    train = env_dataset("hicra/Arithmetic-v0", num_problems=64)
    test = env_dataset("hicra/MATH500-v0", data_path="math500.jsonl")
    trainer = GRPOTrainer(model=..., reward_funcs=[verifier_reward], train_dataset=train)

``datasets`` (Hugging Face) is imported only by :func:`env_dataset`; :func:`env_rows` gives the same rows as plain
dicts.

>>> rows = env_rows("hicra/Arithmetic-v0", num_problems=2, template="plain-v1")
>>> [sorted(r) for r in rows] == [["answer", "problem_id", "prompt"]] * 2
True
>>> rows[0]["problem_id"]
'arithmetic-d1-0'
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from . import register_envs

__all__ = ["MAX_ROWS", "env_dataset", "env_rows"]

MAX_ROWS = 1_000_000
"""Most problems one dataset holds; a procedural env (about 2**31 problems) needs ``num_problems=``."""


def _check_count(name: str, value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name}: expected an int >= 1 or None, got {value!r}")


def env_rows(
    env_id: str, num_problems: int | None = None, *, seed: int | None = None, chat: bool = False, **env_kwargs: Any
) -> list[dict[str, Any]]:
    """The problems of a registered env as rows ``{"prompt", "answer", "problem_id"}``.

    Args:
        env_id: A registered id, e.g. ``"hicra/Arithmetic-v0"`` or ``"hicra/MATH500-v0"``.
        num_problems: Use the env's first ``num_problems`` problems (passed to ``gymnasium.make``, so this is the
            env's own training set); ``None``: all of them (a data env; a procedural env needs a number).
        seed: ``None``: rows in the env's problem order. An int: the same rows in an order drawn from the env's
            ``np_random`` after ``reset(seed=seed)``.
        chat: Give each prompt as one user turn ``[{"role": "user", "content": prompt}]``, so that TRL applies the
            tokenizer's chat template (as hicra's ``Policy`` does); else the prompt text.
        env_kwargs: Passed to ``gymnasium.make`` (``data_path=``, ``template=``, ``difficulty=``, ...).

    Returns:
        One row per problem, each problem once: its prompt as ``reset(options={"index": i})`` poses it, its gold
        answer (``get_wrapper_attr("problem")(problem_id).answer``) and its ``problem_id``.
    """
    _check_count("num_problems", num_problems)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed: expected an int or None, got {seed!r}")
    register_envs()
    if num_problems is not None:
        env_kwargs["num_problems"] = num_problems
    env = gym.make(env_id, **env_kwargs)
    try:
        count = int(env.get_wrapper_attr("num_problems"))
        if count > MAX_ROWS:
            raise ValueError(
                f"num_problems: expected an int from 1 to {MAX_ROWS} for {env_id}, which draws from {count} "
                f"problems, got {num_problems!r}"
            )
        env.reset(seed=seed)
        order = range(count) if seed is None else env.np_random.permutation(count).tolist()
        problem = env.get_wrapper_attr("problem")
        rows = []
        for index in order:
            prompt, info = env.reset(options={"index": int(index)})
            pid = info["problem_id"]
            content = [{"role": "user", "content": prompt}] if chat else prompt
            rows.append({"prompt": content, "answer": problem(pid).answer, "problem_id": pid})
        return rows
    finally:
        env.close()


def env_dataset(
    env_id: str, num_problems: int | None = None, *, seed: int | None = None, chat: bool = False, **env_kwargs: Any
):
    """:func:`env_rows` as a Hugging Face ``datasets.Dataset`` (columns ``prompt``, ``answer``, ``problem_id``), the
    ``train_dataset`` TRL's ``GRPOTrainer`` takes; its reward functions receive ``answer`` and ``problem_id``."""
    try:
        import datasets
    except ImportError as err:
        raise ImportError(
            f"env_dataset needs the Hugging Face `datasets` package ({err}): pip install 'hicra[trl]'"
        ) from err
    return datasets.Dataset.from_list(env_rows(env_id, num_problems, seed=seed, chat=chat, **env_kwargs))
