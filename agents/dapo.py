"""DAPO: Decoupled clip and Dynamic sAmpling Policy Optimization.

Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement Learning System at Scale" (arXiv 2503.14476). Four changes to
GRPO, each a typed knob of the shared loop:

- clip-higher: ``eps_low = 0.2``, ``eps_high = 0.28``;
- token-level policy-gradient loss: ``aggregation = "token_mean"`` (every token of the batch weighs the same);
- dynamic sampling: groups whose responses are all correct or all wrong are dropped and more problems sampled
  until the batch is full (``dynamic_sampling = True``; at most ``max_extra_rounds`` extra rounds, logged as
  ``extra_sampling_rounds``);
- overlong reward shaping: a soft length penalty over the last ``overlong_buffer`` share of the length budget
  (the paper: 4096 of 20480 tokens, so 0.2; penalty 1 at the full budget).

Also as in the paper: group-normalised advantages (``normalize_std = True``) and no KL term. TRL implements the loss
(``loss_type="dapo"``) but not dynamic sampling; verl has it all (``recipe/dapo``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Agent


class DAPO(Agent):
    name = "dapo"
    defaults: ClassVar[dict[str, Any]] = {
        **Agent.defaults, "normalize_std": True, "eps_low": 0.2, "eps_high": 0.28, "aggregation": "token_mean",
        "dynamic_sampling": True, "overlong_buffer": 0.2,
    }  # fmt: skip
