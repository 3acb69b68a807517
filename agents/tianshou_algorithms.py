"""hicra's agents as tianshou 2 ``Algorithm``s: GRPO, HICRA, entropy-GRPO and every other agent of ``AGENTS``.

tianshou owns the loop: its ``Collector`` steps B x G envs (:func:`make_vector_env`) with the LLM policy
(:class:`~hicra.agents.tianshou_policy.LLMPolicy`), its ``OnPolicyTrainer`` hands the collected buffer to
:meth:`HicraAlgorithm.update` and logs what it returns. The update is hicra's own, called, not copied: the buffer
becomes a :class:`~hicra.agents.rollout.RolloutBatch` (planning tokens from ``StrategicGrams.token_mask``), the agent
assigns credit (``Agent.credit``), and every optimiser step accumulates ``Agent.loss`` over micro-batches with
:func:`~hicra.agents.micro_batches.accumulate_gradients`. Its metrics are hicra's ``StepMetrics``, by their names.

Groups. Env ``k`` belongs to group ``k // G``, and the G envs of a group reset on one problem at every round
(:func:`hicra_env.group_env_fns`), seeded as hicra's ``Trainer`` draws step ``r``'s problems. A collected response's
group is (its round, its env's group); the update checks that every group holds G responses to one problem.

tianshou's ``batch_size`` is the mini-batch of one optimiser step (None: the whole collected batch, one step per
pass, as hicra's ``Trainer`` does) and ``update_step_num_repetitions`` the number of passes (hicra's
``ppo_epochs``); ``TrainConfig.micro_batch_size`` (or ``micro_batch_tokens``, a token budget) only splits the
forward and backward passes.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import asdict, fields, make_dataclass, replace
from typing import Literal

import numpy as np
import torch

try:
    from tianshou.algorithm.algorithm_base import OnPolicyAlgorithm, TrainingStats
    from tianshou.algorithm.optim import OptimizerFactory, TorchOptimizerFactory
    from tianshou.data import Batch
    from tianshou.env import BaseVectorEnv, DummyVectorEnv, SubprocVectorEnv
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("hicra's tianshou integration needs tianshou: pip install 'hicra[tianshou]'") from err

from hicra_env import group_env_fns

from .base import Agent, Credit
from .collect import length_penalty, score_tokens
from .config import TrainConfig
from .distributed import DistContext
from .engines.hf import left_pad
from .micro_batches import accumulate_gradients
from .parallel import Layout
from .planning import StrategicGrams
from .policy import Policy
from .records import StepMetrics, UpdateResult, next_perplexity0, step_metrics
from .rollout import RolloutBatch, TokenScores
from .sampling import SamplingConfig
from .seeds import SeedPurpose, derived_seed
from .tianshou_policy import LLMPolicy

log = logging.getLogger(__name__)

HicraTrainingStats = make_dataclass(
    "HicraTrainingStats", [(f.name, f.type) for f in fields(StepMetrics)], bases=(TrainingStats,), kw_only=True
)
HicraTrainingStats.__doc__ = """tianshou's ``TrainingStats`` carrying hicra's ``StepMetrics`` fields, so tianshou's
loggers write them under hicra's names (``update/reward``, ``update/planning_ratio``, ``update/loss``, ...)."""

_SINGLE, _ONE_PROCESS = Layout("single"), DistContext()


def problem_seed(seed: int, group: int, reset: int) -> int:
    """The seed of group ``group``'s problem at reset ``reset``: what hicra's ``Trainer`` uses for problem
    ``group`` of step ``reset`` (``derived_seed(seed, reset, PROBLEMS, group)``)."""
    return derived_seed(seed, reset, SeedPurpose.PROBLEMS, group)


def make_vector_env(config: TrainConfig, kind: Literal["dummy", "subproc"] = "dummy") -> BaseVectorEnv:
    """``prompts_per_step x group_size`` envs of ``config.env_id`` in a tianshou vector env, in groups of G that pose
    the problems hicra's ``Trainer`` draws at each step (``subproc``: one spawned process per env)."""
    fns = group_env_fns(
        config.env_id, num_groups=config.prompts_per_step, group_size=config.group_size,
        seed_of=functools.partial(problem_seed, config.seed), **config.env_kwargs,
    )  # fmt: skip
    if kind == "dummy":
        return DummyVectorEnv(fns)
    if kind == "subproc":
        return SubprocVectorEnv(fns, context="spawn")
    raise ValueError(f"kind: expected 'dummy' or 'subproc', got {kind!r}")


def collected_groups(rounds: np.ndarray, env_ids: np.ndarray, problem_ids: list[str], group_size: int) -> torch.Tensor:
    """Long[N]: the group of each collected response, (round, env_id // G) numbered from 0 in sorted order.

    Raises ``ValueError`` unless every group holds exactly ``group_size`` responses to one problem.
    """
    keys = np.stack([np.asarray(rounds, dtype=np.int64), np.asarray(env_ids, dtype=np.int64) // group_size], axis=1)
    _, groups, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    groups = groups.reshape(-1)
    for g in range(len(counts)):
        rows = np.flatnonzero(groups == g)
        problems = sorted({problem_ids[i] for i in rows})
        if counts[g] != group_size or len(problems) != 1:
            raise ValueError(
                f"group {g} (round {keys[rows[0], 0]}, envs {sorted(env_ids[rows].tolist())}): expected {group_size} "
                f"responses to one problem, got {counts[g]} to {problems}; build the envs with make_vector_env or "
                f"hicra_env.group_env_fns and collect whole rounds (n_step a multiple of the number of envs)"
            )
    return torch.as_tensor(groups, dtype=torch.long)


class HicraAlgorithm(OnPolicyAlgorithm[LLMPolicy]):
    """A hicra :class:`~hicra.agents.Agent` trained by tianshou (see the module docstring).

    Args:
        policy: the LLM policy the collector samples with.
        agent: credit assignment and loss (``make_agent("hicra")``, ...).
        config: the run's ``TrainConfig``; its ``group_size``, ``seed``, ``temperature``, ``micro_batch_size``,
            ``micro_batch_tokens``, ``lr``, ``weight_decay`` and ``max_grad_norm`` are used (tianshou's trainer sets
            the rest).
        grams: the Strategic Grams that mark planning tokens (default: the paper's list).
        optim: tianshou optimizer factory (default: AdamW with ``config.lr`` and ``config.weight_decay``, as
            hicra's ``Trainer``); an LR scheduler it carries is stepped after every update.
    """

    def __init__(
        self,
        *,
        policy: LLMPolicy,
        agent: Agent,
        config: TrainConfig,
        grams: StrategicGrams | None = None,
        optim: OptimizerFactory | None = None,
    ) -> None:
        super().__init__(policy=policy)
        self.agent, self.config, self.grams = agent, config, grams or StrategicGrams()
        optim = optim or TorchOptimizerFactory(torch.optim.AdamW, lr=config.lr, weight_decay=config.weight_decay)
        self.optimizer, scheduler = optim.create_instances(policy.model)
        """The torch optimizer. The update steps it after accumulating micro-batch gradients, which tianshou's
        ``Algorithm.Optimizer.step(loss)`` cannot do (it zeroes the gradients, then backpropagates one loss)."""
        if scheduler is not None:
            self.lr_schedulers.append(scheduler)  # tianshou steps it after every update
        self._optimizers.append(self.Optimizer(self.optimizer, policy.model))  # its state in tianshou's state_dict
        self.reference = policy.llm.frozen_copy() if agent.config.kl_coef > 0 else None
        self.step, self.perplexity0 = 0, None
        """Updates done so far (seeds the update's shuffle and credit as hicra's ``Trainer`` step does)."""

    def rollout_batch(self, batch: Batch) -> RolloutBatch:
        """The collected responses (a tianshou ``Batch`` from the buffer) as hicra's ``RolloutBatch``, rows in order."""
        llm, device = self.policy.llm, self.policy.llm.device
        problem_ids = [str(p) for p in batch.info.problem_id]
        groups = collected_groups(batch.policy.round, batch.info.env_id, problem_ids, self.config.group_size)
        lengths = torch.as_tensor(batch.policy.response_length, dtype=torch.long)
        width = max(1, int(lengths.max()))
        response_ids = torch.as_tensor(batch.policy.response_ids[:, :width], dtype=torch.long).to(device)
        response_mask = (torch.arange(width)[None, :] < lengths[:, None]).to(device)
        prompt, prompt_mask = left_pad(
            llm.prompt_token_ids([str(p) for p in batch.obs]), llm.tokenizer.pad_token_id, device
        )
        texts = tuple(str(a) for a in batch.act)
        input_ids, attention_mask = (
            torch.cat([prompt, response_ids], 1),
            torch.cat([prompt_mask, response_mask.long()], 1),
        )
        ref = None
        if self.reference is not None:
            ref = self._score(self.reference, input_ids, attention_mask, prompt.shape[1]).logprobs
        return RolloutBatch(
            input_ids=input_ids, attention_mask=attention_mask, prompt_length=prompt.shape[1],
            response_ids=response_ids, response_mask=response_mask, group_ids=groups.to(device),
            rewards=torch.as_tensor(np.asarray(batch.rew, dtype=np.float32))
            + length_penalty(response_mask, self.agent.config, self.config.max_new_tokens),
            correct=torch.as_tensor(np.asarray(batch.info.correct, dtype=bool)),
            sampler_logprobs=torch.as_tensor(batch.policy.sampler_logprobs[:, :width], dtype=torch.float32).to(device),
            planning_mask=self.grams.token_mask(llm.tokenizer, response_ids, response_mask, texts=texts),
            texts=texts, problem_ids=tuple(problem_ids), ref_logprobs=ref, max_new_tokens=self.config.max_new_tokens,
        )  # fmt: skip

    def _score(self, llm: Policy, input_ids, attention_mask, prompt_length: int) -> TokenScores:
        return score_tokens(llm, self.config, input_ids, attention_mask, prompt_length)

    def _update_with_batch(self, batch: Batch, batch_size: int | None, repeat: int) -> TrainingStats:
        """Credit, then ``repeat`` passes over the batch in mini-batches of ``batch_size`` (None: all of it)."""
        timings = {}
        self.policy.llm.model.eval()  # tianshou's update runs in train mode; hicra scores and trains without dropout
        rollout = self.rollout_batch(batch)
        n = len(rollout)
        steps_per_pass = math.ceil(n / batch_size) if batch_size else 1
        if repeat > 1 or steps_per_pass > 1 or self.agent.reads_entropy:  # the weights move before the last pass
            t0 = time.perf_counter()
            scores = self._score(self.policy.llm, rollout.input_ids, rollout.attention_mask, rollout.prompt_length)
            rollout = replace(rollout, old_logprobs=scores.logprobs, entropy=scores.entropy)
            timings["score"] = time.perf_counter() - t0
        seed = self.config.seed
        credit = self.agent.credit(
            rollout, torch.Generator().manual_seed(derived_seed(seed, self.step, SeedPurpose.CREDIT))
        )
        t0 = time.perf_counter()
        upd = self._passes(rollout, credit, batch_size or n, repeat)
        timings["update"] = time.perf_counter() - t0
        shaping = length_penalty(rollout.response_mask, self.agent.config, self.config.max_new_tokens)
        metrics = step_metrics(
            self.step, rollout, credit, upd, self.grams, perplexity0=self.perplexity0,
            tis_cap=self.agent.config.tis_cap, timings=timings, length_penalty=float(shaping.mean()),
        )  # fmt: skip
        self.perplexity0 = next_perplexity0(self.perplexity0, metrics)
        self.step += 1
        return HicraTrainingStats(**asdict(metrics))

    def _passes(self, batch: RolloutBatch, credit: Credit, batch_size: int, repeat: int) -> UpdateResult:
        """``repeat`` shuffled passes; each mini-batch of ``batch_size`` rows accumulates its gradients over
        micro-batches and takes one clipped optimiser step (a non-finite loss or norm skips the step)."""
        cfg, n, llm, optimizer = self.config, len(batch), self.policy.llm, self.optimizer
        generator = torch.Generator().manual_seed(derived_seed(cfg.seed, self.step, SeedPurpose.SHUFFLE))
        params = [p for g in optimizer.param_groups for p in g["params"]]
        first = TokenScores(torch.zeros_like(batch.sampler_logprobs), torch.zeros_like(batch.sampler_logprobs))
        result = {"loss": 0.0, "clip_frac": 0.0, "grad_norm": 0.0, "skipped": False}
        for epoch in range(repeat):
            order, loss, clip = torch.randperm(n, generator=generator), 0.0, 0.0
            for rows in order.split(batch_size):
                mini, mini_credit = batch.select(rows), credit.select(rows)
                scores = TokenScores(first.logprobs[rows], first.entropy[rows]) if epoch == 0 else None
                optimizer.zero_grad(set_to_none=True)
                mini_loss, mini_clip, finite = accumulate_gradients(
                    llm, self.agent, _SINGLE, _ONE_PROCESS, mini, mini_credit, torch.arange(len(rows)),
                    micro_batch_size=cfg.micro_batch_size, micro_batch_tokens=cfg.micro_batch_tokens,
                    temperature=cfg.temperature, first=scores,
                )  # fmt: skip
                if scores is not None:
                    first.logprobs[rows], first.entropy[rows] = scores.logprobs, scores.entropy
                grad_norm = _SINGLE.clip_grad_norm(params, cfg.max_grad_norm) if finite else math.nan
                if not (finite and math.isfinite(grad_norm)):
                    log.warning("update %d: non-finite loss or gradient norm; optimiser step skipped", self.step)
                    optimizer.zero_grad(set_to_none=True)
                    result["skipped"] = True
                    continue
                optimizer.step()
                share = len(rows) / n
                loss, clip = loss + share * mini_loss, clip + share * mini_clip
                result.update(loss=loss, clip_frac=clip, grad_norm=grad_norm)
        llm.engine.load_weights(llm.model)
        scores = first if batch.old_logprobs is None else TokenScores(batch.old_logprobs, batch.entropy)
        return UpdateResult(**result, scores=scores)


def make_algorithm(
    agent: Agent, config: TrainConfig, action_space, *, llm: Policy | None = None, grams: StrategicGrams | None = None
) -> HicraAlgorithm:
    """``agent`` as a tianshou algorithm over ``llm`` (default: ``config.model`` loaded on ``config.device``),
    sampling as ``config`` says; ``action_space`` is the envs' (``envs.action_space[0]``).

    Dynamic sampling (DAPO) is refused: tianshou's ``Collector`` decides what is sampled, so groups without signal
    cannot be replaced; ``hicra train`` does it, or set ``agent.dynamic_sampling=false``.
    """
    if agent.config.dynamic_sampling:
        raise ValueError(
            f"{agent.name}: expected dynamic_sampling=false in the tianshou path (tianshou's Collector decides what is "
            "sampled, so groups without signal cannot be replaced), got true; use hicra train, or "
            "make_agent(..., dynamic_sampling=False)"
        )
    llm = llm or Policy.from_pretrained(config.model, device=config.device, dtype=config.dtype)
    sampling = SamplingConfig(
        temperature=config.temperature, top_p=config.top_p, top_k=config.top_k, max_new_tokens=config.max_new_tokens
    )
    policy = LLMPolicy(llm, action_space, sampling=sampling, seed=config.seed)
    return HicraAlgorithm(policy=policy, agent=agent, config=config, grams=grams)
