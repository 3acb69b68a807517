"""Held-out accuracy: the policy on problems no training step draws, the same problems for every agent."""

from __future__ import annotations

from collections.abc import Iterable

import gymnasium as gym
import torch

from .policy import Policy
from .sampling import SamplingConfig
from .seeds import SeedPurpose


def heldout_row(correct: int, passed: int, problems: int, samples: int) -> dict[str, float | int]:
    """The held-out record from counts (summed over ranks in a distributed run)."""
    return {
        "heldout_accuracy": correct / (problems * samples),
        "heldout_pass_at_k": passed / problems,
        "heldout_problems": problems,
        "heldout_samples": samples,
    }


@torch.no_grad()
def heldout_counts(
    policy: Policy, env: gym.Env, indices: Iterable[int], sampling: SamplingConfig, samples: int, seed: int
) -> tuple[int, int, int]:
    """``(correct responses, problems with a correct response, problems)``: ``samples`` responses to each problem
    ``env.reset(options={"index": i})`` poses (pass@k: at least one of a problem's ``samples`` is correct)."""
    prompts, ids = [], []
    for index in indices:
        prompt, info = env.reset(options={"index": int(index)})
        prompts.append(prompt)
        ids.append(info["problem_id"])
    if not prompts:
        raise ValueError("indices: expected at least one held-out problem index, got none")
    policy.model.eval()
    gen = policy.generate(prompts, num_samples=samples, sampling=sampling, seed=seed)
    rows = [ids[i] for i in gen.prompt_index.tolist()]
    _, infos = env.get_wrapper_attr("evaluate")(rows, gen.texts)
    correct = torch.tensor([bool(info["correct"]) for info in infos]).view(len(prompts), samples)
    return int(correct.sum()), int(correct.any(dim=1).sum()), len(prompts)


def evaluate_heldout(policy: Policy, env: gym.Env, config, sampling: SamplingConfig, step: int, dist) -> dict:
    """The ``heldout.jsonl`` row of training step ``step``: ``config.heldout_problems`` problems right after the
    training set (``env_kwargs["num_problems"]``), ``config.heldout_samples`` each; under torchrun every rank
    takes every W-th problem and the counts are summed."""
    first, samples = config.env_kwargs["num_problems"], config.heldout_samples
    mine = range(first + dist.rank, first + config.heldout_problems, dist.world_size)
    seed = dist.seed(config.seed, step, SeedPurpose.HELDOUT)
    counts = heldout_counts(policy, env, mine, sampling, samples, seed) if mine else (0, 0, 0)
    return {"step": step, **heldout_row(*map(round, dist.sum(counts)), samples)}
