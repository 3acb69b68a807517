"""A hand-sized rollout batch for the agents' tests (not a test module)."""

from __future__ import annotations

import torch

from hicra.agents.rollout import RolloutBatch


def batch_of(lengths, rewards, groups, *, planning=None, entropy=None, old=None, max_new_tokens=None) -> RolloutBatch:
    n, t = len(lengths), max(lengths)
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    zeros = torch.zeros(n, t)
    return RolloutBatch(
        input_ids=torch.zeros(n, 1 + t, dtype=torch.long), attention_mask=torch.ones(n, 1 + t, dtype=torch.long),
        prompt_length=1, response_ids=torch.zeros(n, t, dtype=torch.long), response_mask=mask,
        group_ids=torch.tensor(groups), rewards=torch.tensor(rewards, dtype=torch.float32),
        correct=torch.tensor(rewards) > 0, sampler_logprobs=zeros if old is None else old,
        planning_mask=torch.zeros(n, t, dtype=torch.bool) if planning is None else planning & mask,
        texts=("",) * n, problem_ids=("p",) * n, old_logprobs=old, entropy=entropy, max_new_tokens=max_new_tokens,
    )  # fmt: skip
