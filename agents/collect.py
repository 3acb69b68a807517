"""One step's rollout for the training loop: sample, verify, shape, mark; dynamic sampling over rounds.

:class:`RolloutCollector` holds what a rollout reads (env, policy, Strategic Grams, the optional KL reference, the
process group and the run's settings) and builds the typed :class:`~hicra.agents.rollout.RolloutBatch` of a step:
this rank's B / W problems x G responses, rewards with the agent's overlong shaping, planning tokens marked. With
``dynamic_sampling`` the groups whose responses are all correct or all wrong are replaced by new ones.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from .batch_shaping import buffer_tokens, informative_rows, overlong_penalty, pick_groups
from .config import AgentConfig, TrainConfig
from .planning import StrategicGrams
from .policy import Policy
from .rollout import RolloutBatch, TokenScores, concat_batches
from .sampling import SamplingConfig
from .seeds import SeedPurpose, derived_seed, draw_problems


def score_tokens(policy: Policy, config: TrainConfig, input_ids, attention_mask, prompt_length: int) -> TokenScores:
    """The log-probs and entropy of the sampled tokens under ``policy``, at the run's temperature."""
    return policy.score(
        input_ids,
        attention_mask,
        prompt_length,
        temperature=config.temperature,
        micro_batch_size=config.micro_batch_size,
    )


class RolloutCollector:
    """Samples a step's :class:`RolloutBatch`; ``sampling_scope()`` wraps the engine call (FSDP2's gathered
    parameters for the ``hf`` engine)."""

    def __init__(
        self, env, policy: Policy, grams: StrategicGrams, reference: Policy | None, dist, config: TrainConfig,
        agent_config: AgentConfig, sampling_scope: Callable[[], contextlib.AbstractContextManager],
    ) -> None:  # fmt: skip
        self.env, self.policy, self.grams, self.reference, self.dist = env, policy, grams, reference, dist
        self.config, self.agent_config, self.sampling_scope = config, agent_config, sampling_scope
        self.sampling = SamplingConfig(
            temperature=config.temperature, top_p=config.top_p, top_k=config.top_k, max_new_tokens=config.max_new_tokens
        )

    def rollout(self, step: int, timings: dict[str, float]) -> RolloutBatch:
        """Sample, verify and mark one batch of B x G responses (no gradient): this rank's B / W problems.

        With ``dynamic_sampling`` the groups whose responses are all correct or all wrong (by the verifier, before
        any reward shaping, which would make nearly every group look informative) are dropped and further
        rounds of B / W new problems are sampled until B / W informative groups are in or ``max_extra_rounds`` are
        spent (the ranks go on while any of them is short; a batch still short is filled with uninformative groups,
        so every rank trains on B / W groups); ``RolloutBatch.extra_rounds`` says how many rounds it took.
        """
        batch = self.sample_round(step, 0, timings)
        if not self.agent_config.dynamic_sampling:
            return batch
        need, rounds = len(self.dist.shard(self.config.prompts_per_step, "prompts_per_step")), [batch]
        while len(rounds) <= self.agent_config.max_extra_rounds:
            pool = concat_batches(rounds, self.policy.tokenizer.pad_token_id)
            if self.dist.all(
                int(informative_rows(pool.correct.float(), pool.group_ids).sum()) >= need * self.config.group_size
            ):
                break
            rounds.append(self.sample_round(step, len(rounds), timings))
        pool = concat_batches(rounds, self.policy.tokenizer.pad_token_id)
        rows, _ = pick_groups(pool.correct.float(), pool.group_ids, need)
        return replace(pool.select(rows), extra_rounds=len(rounds) - 1)

    def sample_round(self, step: int, round_: int, timings: dict[str, float]) -> RolloutBatch:
        """One sampling round: this rank's share of B problems (round r > 0 draws the step's problems
        ``r B ..``, new ones, with its own sampling seed); rewards include the overlong shaping."""
        cfg, t0 = self.config, time.perf_counter()
        share = self.dist.shard(cfg.prompts_per_step, "prompts_per_step")
        start = share.start + round_ * cfg.prompts_per_step
        prompts, problem_ids = draw_problems(self.env, cfg.seed, step, len(share), start=start)
        self.policy.model.eval()
        seed = self.dist.seed(cfg.seed, step, SeedPurpose.SAMPLING)
        seed = seed if round_ == 0 else derived_seed(seed, round_, SeedPurpose.SAMPLING)
        with self.sampling_scope():
            gen = self.policy.generate(prompts, num_samples=cfg.group_size, sampling=self.sampling, seed=seed)
        t1 = time.perf_counter()
        row_ids, groups = [problem_ids[i] for i in gen.prompt_index.tolist()], gen.prompt_index + start
        rewards, infos = self.env.get_wrapper_attr("evaluate")(row_ids, gen.texts)
        rewards = torch.as_tensor(np.asarray(rewards), dtype=torch.float32) + self.length_penalty(gen.response_mask)
        t2 = time.perf_counter()
        planning = self.grams.token_mask(self.policy.tokenizer, gen.response_ids, gen.response_mask, texts=gen.texts)
        ref = None
        if self.reference is not None:
            ref = score_tokens(self.reference, cfg, gen.input_ids, gen.attention_mask, gen.prompt_length).logprobs
        for part, seconds in (("generate", t1 - t0), ("verify", t2 - t1), ("mask", time.perf_counter() - t2)):
            timings[part] = timings.get(part, 0.0) + seconds
        return RolloutBatch(
            input_ids=gen.input_ids, attention_mask=gen.attention_mask, prompt_length=gen.prompt_length,
            response_ids=gen.response_ids, response_mask=gen.response_mask, group_ids=groups, rewards=rewards,
            correct=torch.tensor([bool(i["correct"]) for i in infos]), sampler_logprobs=gen.logprobs,
            planning_mask=planning, texts=tuple(gen.texts), problem_ids=tuple(row_ids), ref_logprobs=ref,
            max_new_tokens=cfg.max_new_tokens,
        )  # fmt: skip

    def length_penalty(self, response_mask: torch.Tensor) -> torch.Tensor:
        """Float[N] overlong reward shaping of responses (0 when ``overlong_buffer`` is 0)."""
        return length_penalty(response_mask, self.agent_config, self.config.max_new_tokens)


def length_penalty(response_mask: torch.Tensor, agent_config: AgentConfig, max_new_tokens: int) -> torch.Tensor:
    """Float[N] the agent's overlong reward shaping of responses of a ``max_new_tokens`` budget (0 without it)."""
    return overlong_penalty(
        response_mask.sum(dim=1).cpu(), max_length=max_new_tokens,
        buffer=buffer_tokens(agent_config.overlong_buffer, max_new_tokens), penalty=agent_config.overlong_penalty,
    )  # fmt: skip
