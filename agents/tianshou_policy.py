"""The LLM as a tianshou 2 policy: prompts in, sampled responses out, token ids and sampler log-probs kept.

``forward`` receives the prompts of the ready envs in ``batch.obs`` (envs built with :func:`hicra_env.group_env_fns`,
whose :class:`hicra_env.ArrayText` keeps them whole through tianshou's auto-resets) and samples one response each with
:meth:`hicra.agents.Policy.generate`. ``act`` holds the response texts the envs score; ``policy`` holds what the
update needs and tianshou's replay buffer keeps: the response token ids and the sampler's log-probs (padded to
``max_new_tokens``), the response length and the collection round.

Sampling is seeded like hicra's :class:`~hicra.agents.Trainer`: training round ``r`` (the r-th ``forward`` inside a
training step) samples with ``derived_seed(seed, r, SAMPLING)``, so round ``r`` of B x G envs that pose step ``r``'s
problems draws the very tokens the trainer draws at step ``r``. Calls outside a training step (a test collector) use
their own counter and the ``HELDOUT`` purpose.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

try:
    from tianshou.algorithm.algorithm_base import Policy as TianshouPolicy
    from tianshou.data import Batch
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("hicra's tianshou integration needs tianshou: pip install 'hicra[tianshou]'") from err

from .policy import Policy
from .sampling import SamplingConfig
from .seeds import SeedPurpose, derived_seed


class LLMPolicy(TianshouPolicy):
    """A :class:`hicra.agents.Policy` as a tianshou policy.

    Args:
        llm: the language model (its ``model`` is registered as this module's ``model``, so the algorithm's
            parameters and ``state_dict`` are the LM's).
        action_space: the envs' text action space (:class:`hicra_env.UnicodeText`).
        sampling: how responses are sampled (temperature, top-p, top-k, max_new_tokens).
        seed: seeds every round's sampling.
    """

    def __init__(
        self,
        llm: Policy,
        action_space: gym.Space,
        *,
        sampling: SamplingConfig,
        seed: int = 0,
        observation_space: gym.Space | None = None,
    ) -> None:
        # tianshou 2.0.1's Policy accepts only Discrete, MultiDiscrete, MultiBinary and Box action spaces (it raises
        # "Unsupported action space" for text); its base class reads the space only to map Box actions, so it is
        # built with a placeholder and then given the real one.
        super().__init__(action_space=gym.spaces.Discrete(1), observation_space=observation_space)
        self.action_space = action_space
        self.llm, self.model, self.sampling, self.seed = llm, llm.model, sampling, seed
        self.rounds = 0
        """Training rounds sampled so far (the next one's sampling seed is derived from it)."""
        self.eval_rounds = 0
        """Rounds sampled outside a training step (test collection)."""

    @staticmethod
    def _compile() -> None:
        """Nothing: tianshou's base class JIT-compiles its numba return estimators (GAE, n-step) here, about 15 s
        per process, and an LLM policy trained by group-relative credit uses neither."""

    def forward(self, batch: Batch, state=None, **kwargs) -> Batch:
        """One response per prompt in ``batch.obs``; ``act`` holds the texts, ``policy`` the token data."""
        prompts = _prompts(batch.obs)
        if self.is_within_training_step:
            round_, seed = self.rounds, derived_seed(self.seed, self.rounds, SeedPurpose.SAMPLING)
            self.rounds += 1
        else:
            round_, seed = -1, derived_seed(self.seed, self.eval_rounds, SeedPurpose.HELDOUT)
            self.eval_rounds += 1
        self.model.eval()  # sampling draws from the same function the update scores
        gen = self.llm.generate(prompts, num_samples=1, sampling=self.sampling, seed=seed)
        n, width = len(prompts), self.sampling.max_new_tokens
        ids = torch.full((n, width), self.llm.tokenizer.pad_token_id, dtype=torch.long)
        logprobs = torch.zeros((n, width), dtype=torch.float32)
        t = gen.response_ids.shape[1]
        ids[:, :t], logprobs[:, :t] = gen.response_ids.cpu(), gen.logprobs.float().cpu()
        act = np.empty(n, dtype=object)
        act[:] = gen.texts
        return Batch(
            act=act,
            policy=Batch(
                response_ids=ids.numpy(),
                sampler_logprobs=logprobs.numpy(),
                response_length=gen.response_mask.sum(dim=1).cpu().numpy(),
                round=np.full(n, round_),
            ),
        )


def _prompts(obs) -> list[str]:
    """The prompts of an observation batch. tianshou's ``Batch`` holds text as an object array whatever the envs
    return, but only envs that return whole prompts (:class:`hicra_env.ArrayText`) keep them whole after an
    auto-reset; the update's group check catches envs built without :func:`hicra_env.group_env_fns`."""
    prompts = list(obs)
    for i, prompt in enumerate(prompts):
        if not isinstance(prompt, str):
            raise ValueError(
                f"batch.obs[{i}]: expected a str prompt, got {type(prompt).__name__}; build the envs with "
                f"hicra.agents.tianshou_algorithms.make_vector_env or hicra_env.group_env_fns"
            )
    return prompts
