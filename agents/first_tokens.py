"""First-k-tokens control: amplify each response's first ``k`` tokens (position-matched to where decisions sit).

Rules out the confound of position. On the v1 task the whole strategic choice sits in response token 0, and planning
tokens (a response's opening words) sit at its start; a gain from amplifying "the opening of a response", whatever
it says, would pass for a gain from planning tokens. This control amplifies the opening by position alone, with no
reference to the Strategic Grams: a response that holds no gram, or holds one mid-response, is still amplified at
its start.

``k`` is ``AgentConfig.first_k``; None (default) matches HICRA's count: the global batch's planning tokens per
response on average, rounded up (``ceil(planning tokens / responses)``; 0 when the batch has no planning token).
Under torchrun the average is over the global batch (the ranks gather their two counts). A response shorter than
``k`` is amplified whole, so the total can fall below ``k`` per response.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import Agent
from .entropy_masks import gather_ranks
from .rollout import RolloutBatch


class FirstTokens(Agent):
    name = "first_tokens"

    def credit_mask(self, batch: RolloutBatch, generator: torch.Generator) -> Tensor:
        k = self.config.first_k
        if k is None:
            local = torch.stack([(batch.planning_mask & batch.response_mask).sum(), torch.tensor(len(batch))])
            planning, responses = torch.stack(gather_ranks(local)[0]).sum(dim=0).tolist()
            k = -(-int(planning) // int(responses)) if responses else 0  # ceil, exact in integers
        return first_tokens_mask(batch.response_mask, k)


def first_tokens_mask(response_mask: Tensor, k: int) -> Tensor:
    """The first ``k`` response tokens of every response (all of a shorter one's), counted along each row.

    Args:
        response_mask: Bool[N, T]; k: >= 0.

    Returns:
        Bool[N, T], True only on response tokens.

    >>> first_tokens_mask(torch.tensor([[True, True, True], [True, False, False]]), 2).int()
    tensor([[1, 1, 0],
            [1, 0, 0]], dtype=torch.int32)
    """
    if response_mask.dim() != 2:
        raise ValueError(f"expected response_mask of shape [N, T], got {list(response_mask.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"k: expected an int >= 0, got {k!r}")
    mask = response_mask.bool()
    position = mask.long().cumsum(dim=1)  # 1 on a row's first response token, 2 on its second, ...
    return mask & (position <= k)
