"""Forking tokens: the policy gradient only on the batch's highest-entropy tokens.

Wang et al. 2025, "Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive Effective Reinforcement Learning for
LLM Reasoning" (arXiv 2506.01939). About 20% of the tokens of a chain of thought have high entropy, "forks" where the
reasoning takes a direction; training on those alone matches or beats training on all. The gradient mask keeps the
response tokens whose entropy (of the full next-token distribution, under the sampling weights) is at least the
global batch's 80th percentile (``top_entropy_quantile = 0.2``); the others contribute no policy gradient but still
count in the token mean, as in the paper and TRL's ``top_entropy_quantile``. This masks, it does not amplify
(compare the ``high_entropy`` ablation, which gives the same tokens HICRA's extra credit).

Defaults: ``top_entropy_quantile = 0.2`` over hicra's GRPO loss (clip-higher 0.2 / 0.28, token mean). The paper
built on DAPO: ``--set agent.base=dapo`` adds dynamic sampling and overlong shaping. Under torchrun the threshold is
the global batch's (the ranks gather their entropies).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class ForkingTokens(Agent):
    name = "forking_tokens"
    reads_entropy = True
    defaults: ClassVar[dict[str, Any]] = {**Agent.defaults, "top_entropy_quantile": 0.2}
