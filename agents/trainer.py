"""The one training loop shared by every agent.

Each step: draw B problems from the env, sample G responses each, verify them in one batch, build a typed
:class:`RolloutBatch` (old log-probs, token entropy, planning mask), let the agent assign token advantages,
then K PPO epochs over micro-batches with gradient accumulation, clipping and one optimiser step each.

With one PPO epoch (the default) the old log-probs are those of the update's own forward pass, detached (the
weights have not moved yet, so they are exactly the sampling policy's): one forward per micro-batch instead of
a separate scoring pass. The batch's ``old_logprobs`` and ``entropy`` are filled in from it for the metrics.
Several epochs, or an agent whose credit reads the rollout's entropy (``high_entropy``), score first.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

import hicra_env  # noqa: F401  (registers the hicra/* ids)

from .base import Agent
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .planning import StrategicGrams
from .policy import Policy, SamplingConfig
from .records import StepMetrics, append_jsonl, rollout_metrics, truncate_jsonl
from .registry import make_agent
from .rollout import RolloutBatch

log = logging.getLogger(__name__)


def derived_seed(*parts: int) -> int:
    """A 63-bit seed from integers (run seed, step, purpose): collision-free across steps and purposes."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def draw_problems(env: gym.Env, seed: int, step: int, count: int) -> tuple[list[str], list[str]]:
    """The raw prompts and problem ids of training step ``step``: ``env.reset`` seeded by (seed, step, 0, b)."""
    prompts, ids = [], []
    for b in range(count):
        obs, info = env.reset(seed=derived_seed(seed, step, 0, b))
        prompts.append(obs)  # Policy.generate applies the chat template
        ids.append(info["problem_id"])
    return prompts, ids


class Trainer:
    """Trains ``agent``'s policy on ``config.env_id``; writes ``metrics.jsonl`` and checkpoints to ``run_dir``."""

    def __init__(
        self,
        agent: Agent,
        config: TrainConfig,
        *,
        run_dir: str | Path | None = None,
        policy: Policy | None = None,
        env: gym.Env | None = None,
        grams: StrategicGrams | None = None,
    ) -> None:
        self.agent, self.config = agent, config
        self.policy = policy or Policy.from_pretrained(config.model, device=config.device, dtype=config.dtype)
        self.env = env or gym.make(config.env_id, **config.env_kwargs)
        if not hasattr(self.env.unwrapped, "evaluate"):
            raise TypeError(
                f"{config.env_id}: expected a hicra_env.MathEnv (with .evaluate), got {self.env.unwrapped!r}"
            )
        self.grams = grams or StrategicGrams()
        self.sampling = SamplingConfig(
            temperature=config.temperature, top_p=config.top_p, max_new_tokens=config.max_new_tokens
        )
        params = [p for p in self.policy.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        self.ref_model = None
        if agent.config.kl_coef > 0:
            self.ref_model = copy.deepcopy(self.policy.model).eval().requires_grad_(False)
        self.fused_scoring = config.ppo_epochs == 1 and not agent.uses_rollout_entropy
        """Take old log-probs and entropy from the update's forward pass instead of a separate scoring pass."""
        self.step, self.perplexity0 = 0, None
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(json.dumps(self.describe(), indent=2))

    def describe(self) -> dict:
        """The JSON written to ``run_dir/config.json`` (enough to rebuild the trainer on resume)."""
        return {
            "agent": self.agent.name,
            "agent_config": asdict(self.agent.config),
            "train": asdict(self.config),
        }

    # ---------------------------------------------------------------- rollout

    @torch.no_grad()
    def _score_tokens(self, input_ids, attention_mask, prompt_length) -> tuple[torch.Tensor, ...]:
        """Old log-probs, entropy (zeros, filled by the update, under fused scoring) and reference log-probs."""
        logps, ents, refs = [], [], []
        for rows in torch.arange(input_ids.shape[0]).split(self.config.micro_batch_size):
            if not self.fused_scoring:
                lp, ent = self.policy.token_logprobs(
                    input_ids[rows],
                    attention_mask[rows],
                    prompt_length,
                    temperature=self.config.temperature,
                    with_entropy=True,
                )
                logps.append(lp), ents.append(ent)
            if self.ref_model is not None:
                refs.append(self._ref_logprobs(input_ids[rows], attention_mask[rows], prompt_length))
        ref = torch.cat(refs) if refs else None
        if self.fused_scoring:
            placeholder = torch.zeros(input_ids.shape[0], input_ids.shape[1] - prompt_length, device=input_ids.device)
            return placeholder, placeholder.clone(), ref
        return torch.cat(logps), torch.cat(ents), ref

    def _ref_logprobs(self, input_ids, attention_mask, prompt_length) -> torch.Tensor:
        live = self.policy.model
        try:
            self.policy.model = self.ref_model
            lp, _ = self.policy.token_logprobs(
                input_ids, attention_mask, prompt_length, temperature=self.config.temperature
            )
        finally:
            self.policy.model = live
        return lp

    def rollout(self, timings: dict[str, float]) -> RolloutBatch:
        """Sample, verify and score one batch of B x G responses (no gradient)."""
        cfg, t0 = self.config, time.perf_counter()
        prompts, problem_ids = draw_problems(self.env, cfg.seed, self.step, cfg.prompts_per_step)
        self.policy.model.eval()
        gen = self.policy.generate(
            prompts,
            num_samples=cfg.group_size,
            sampling=self.sampling,
            seed=derived_seed(cfg.seed, self.step, 1),
        )
        t1 = time.perf_counter()
        row_ids = [problem_ids[i] for i in gen.prompt_index.tolist()]
        rewards, infos = self.env.unwrapped.evaluate(row_ids, gen.texts)
        t2 = time.perf_counter()
        old_logprobs, entropy, ref = self._score_tokens(gen.input_ids, gen.attention_mask, gen.prompt_length)
        planning = self.grams.token_mask(self.policy.tokenizer, gen.response_ids, gen.response_mask, texts=gen.texts)
        timings.update(generate=t1 - t0, verify=t2 - t1, logprobs=time.perf_counter() - t2)
        return RolloutBatch(
            input_ids=gen.input_ids, attention_mask=gen.attention_mask, prompt_length=gen.prompt_length,
            response_ids=gen.response_ids, response_mask=gen.response_mask, group_ids=gen.prompt_index,
            rewards=torch.as_tensor(np.asarray(rewards), dtype=torch.float32),
            correct=torch.tensor([bool(i["correct"]) for i in infos]),
            old_logprobs=old_logprobs, entropy=entropy, planning_mask=planning,
            texts=tuple(gen.texts), problem_ids=tuple(row_ids), ref_logprobs=ref,
        )  # fmt: skip

    # ----------------------------------------------------------------- update
    def _micro_batch_loss(self, batch: RolloutBatch, rows: torch.Tensor, advantages: torch.Tensor, weight: float):
        sub = batch.select(rows)
        lp, ent = self.policy.token_logprobs(
            sub.input_ids, sub.attention_mask, sub.prompt_length, temperature=self.config.temperature,
            with_entropy=self.agent.needs_entropy_grad or self.fused_scoring,
        )  # fmt: skip
        if self.fused_scoring:  # the sampling policy's log-probs are these, before the optimiser step
            old, ent_detached = lp.detach(), ent.detach()
            batch.old_logprobs[rows], batch.entropy[rows] = old, ent_detached
            sub = replace(sub, old_logprobs=old, entropy=ent_detached)
        loss, stats = self.agent.loss(sub, lp, advantages, ent if self.agent.needs_entropy_grad else None)
        return loss * weight, stats

    def update(self, batch: RolloutBatch, advantages: torch.Tensor) -> dict[str, float]:
        """K PPO epochs; each accumulates gradients over micro-batches, then clips and steps once.

        A non-finite loss or gradient norm skips that optimiser step (logged; training goes on).
        """
        cfg, n = self.config, len(batch)
        generator = torch.Generator().manual_seed(derived_seed(cfg.seed, self.step, 2))
        total_tokens = batch.response_mask.sum().clamp(min=1)
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        out = {"loss": 0.0, "clip_frac": 0.0, "grad_norm": 0.0, "skipped": False}
        self.policy.model.eval()  # no dropout: old and new log-probs come from the same function
        for _ in range(cfg.ppo_epochs):
            self.optimizer.zero_grad(set_to_none=True)
            loss_sum, clip_sum, finite = 0.0, 0.0, True
            for rows in torch.randperm(n, generator=generator).split(cfg.micro_batch_size):
                share = batch.response_mask[rows].sum() / total_tokens
                weight = float(share if self.agent.config.aggregation == "token_mean" else len(rows) / n)
                loss, stats = self._micro_batch_loss(batch, rows, advantages[rows], weight)
                finite = finite and bool(torch.isfinite(loss))
                if not finite:  # the step is skipped; later micro-batches still fill fused old log-probs
                    if self.fused_scoring:
                        continue
                    break
                loss.backward()
                loss_sum, clip_sum = loss_sum + float(loss.detach()), clip_sum + weight * stats["clip_frac"]
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)) if finite else math.nan
            if not (finite and math.isfinite(grad_norm)):
                log.warning("step %d: non-finite loss or gradient norm; optimiser step skipped", self.step)
                self.optimizer.zero_grad(set_to_none=True)
                out["skipped"] = True
                continue
            self.optimizer.step()
            out.update(loss=loss_sum, clip_frac=clip_sum, grad_norm=grad_norm)
        return out

    # ------------------------------------------------------------------- loop
    def train_step(self) -> StepMetrics:
        """One rollout + update; returns (and logs) its metrics."""
        timings: dict[str, float] = {}
        batch = self.rollout(timings)
        generator = torch.Generator().manual_seed(derived_seed(self.config.seed, self.step, 3))
        advantages = self.agent.token_advantages(batch, generator)
        t0 = time.perf_counter()
        upd = self.update(batch, advantages)
        summary = rollout_metrics(batch, self.grams)
        if self.perplexity0 is None:
            self.perplexity0 = summary.execution_perplexity
        metrics = StepMetrics(
            **asdict(summary), step=self.step,
            relative_execution_perplexity=summary.execution_perplexity / self.perplexity0,
            loss=upd["loss"], clip_frac=upd["clip_frac"], grad_norm=upd["grad_norm"], skipped=upd["skipped"],
            time_generate=timings["generate"], time_verify=timings["verify"],
            time_logprobs=timings["logprobs"], time_update=time.perf_counter() - t0,
        )  # fmt: skip
        if self.run_dir is not None:
            append_jsonl(self.run_dir / "metrics.jsonl", metrics)
        self.step += 1
        return metrics

    def train(self, steps: int | None = None, *, progress: bool = True) -> list[StepMetrics]:
        """Run until ``steps`` (default ``config.steps``) steps are done in total, checkpointing as configured."""
        target, history = steps if steps is not None else self.config.steps, []
        bar = tqdm(total=target, initial=self.step, desc=f"{self.agent.name}", disable=not progress, leave=False)
        while self.step < target:
            metrics = self.train_step()
            history.append(metrics)
            bar.update(1)
            bar.set_postfix(acc=f"{metrics.accuracy:.2f}", len=f"{metrics.response_length:.0f}")
            every = self.config.checkpoint_every
            if self.run_dir is not None and every and self.step % every == 0:
                self.save()
        bar.close()
        if self.run_dir is not None:
            self.save()
        return history

    def save(self) -> Path:
        """Atomically checkpoint model, optimiser, step and step-0 perplexity to ``run_dir``."""
        if self.run_dir is None:
            raise ValueError("save: this trainer has no run_dir; pass run_dir= to Trainer to checkpoint")
        state = {"perplexity0": self.perplexity0, **self.describe()}
        return save_checkpoint(
            self.run_dir,
            self.step,
            self.policy.model,
            self.optimizer,
            state,
            keep=self.config.keep_checkpoints,
        )

    @classmethod
    def resume(cls, run_dir: str | Path, **overrides) -> Trainer:
        """Rebuild the trainer of ``run_dir`` from its config and newest checkpoint; continues bit-for-bit."""
        ckpt = load_checkpoint(run_dir)
        described = ckpt.state
        agent = make_agent(described["agent"], **described["agent_config"])
        config = replace(TrainConfig(**described["train"]), **overrides)
        trainer = cls(agent, config, run_dir=run_dir)
        trainer.policy.model.load_state_dict(ckpt.model_state)
        trainer.optimizer.load_state_dict(ckpt.optimizer_state)
        trainer.step, trainer.perplexity0 = described["step"], described["perplexity0"]
        truncate_jsonl(Path(run_dir) / "metrics.jsonl", trainer.step - 1)
        log.info("resumed %s at step %d from %s", described["agent"], trainer.step, ckpt.path)
        return trainer
