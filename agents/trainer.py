"""The one training loop shared by every agent.

Each step: draw B problems from the env, sample G responses each with the policy's rollout engine (which also
returns its own per-token log-probs), verify them in one batch, mark planning tokens, and build a typed
:class:`RolloutBatch` (rewards with the agent's overlong shaping; with dynamic sampling, groups without signal
replaced by new ones, :meth:`Trainer.rollout`). The agent assigns token credit; then K PPO epochs over micro-batches
with gradient accumulation, clipping and one optimiser step each, every token's loss weighted by the truncated
importance ratio of trainer to sampler. Finally the engine gets the new weights.

With one PPO epoch (the default) the old log-probs are the update's own first forward pass, detached: the weights
have not moved yet, so that pass *is* the sampling policy. Several epochs, or an agent whose credit reads the
rollout's entropy (``high_entropy``), score the batch first.

Under ``torchrun`` every rank runs this loop on its share of the step's problems (:mod:`hicra.agents.distributed`)
with the model laid out as ``config.parallelism`` says (:mod:`hicra.agents.parallel`); every rank's loss is scaled
so that the averaged gradients are those of the loss over the global batch, and rank 0 alone writes the logs and
the (unsharded) checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import gymnasium as gym
import torch
from tqdm.auto import tqdm

import hicra_env  # noqa: F401  (registers the hicra/* ids)

from . import distributed, parallel
from .base import Agent, Credit
from .checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    restore_checkpoint,
    save_run_checkpoint,
    set_aside_partial_logs,
)
from .collect import RolloutCollector, score_tokens
from .heldout import HeldoutEvaluator
from .lexicon import check_recorded_lexicon, load_lexicon
from .micro_batches import accumulate_gradients
from .planning import StrategicGrams
from .policy import Policy
from .records import StepMetrics, UpdateResult, append_rollouts, next_perplexity0, step_metrics, truncate_jsonl
from .rollout import RolloutBatch, TokenScores
from .run_config import RunConfig
from .run_log import RunLog
from .seeds import SeedPurpose, derived_seed
from .strategy_metrics import StrategyTracker

log = logging.getLogger(__name__)


class Trainer:
    """Trains ``agent``'s policy on ``config.env_id``; writes ``config.json``, ``metrics.jsonl`` and checkpoints
    to ``run_dir``.

    ``policy``, ``env`` and ``grams`` replace what ``config`` would build (a given policy keeps its own engine).
    """

    def __init__(
        self,
        agent: Agent,
        config,
        *,
        run_dir: str | Path | None = None,
        policy: Policy | None = None,
        env: gym.Env | None = None,
        grams: StrategicGrams | None = None,
    ) -> None:
        self.agent, self.config = agent, config
        self.grams, self.grams_sha256 = (grams, None) if grams is not None else load_lexicon(config.grams)
        """The Strategic Gram lexicon (``config.grams``, loaded before anything else so a bad file fails at once)."""
        # before any model or engine is built: vLLM's external_launcher reuses the process group
        self.dist, device = distributed.setup(config.device)
        self.dist.shard(config.prompts_per_step, "prompts_per_step")  # B must split evenly
        self.env = env or gym.make(config.env_id, **config.env_kwargs)  # the one check of the env id
        self.policy = policy or Policy.from_pretrained(
            config.model, device=device, dtype=config.dtype, engine=config.engine, lora=config.lora, engine_options={
                "kv_cache_gib": config.vllm_kv_cache_gib, "gpu_memory_utilization": config.vllm_gpu_memory_utilization,
                "distributed": self.dist.active,  # under torchrun: one engine per rank, on this process group
            },
        )  # fmt: skip
        self.reference = self.policy.frozen_copy() if agent.config.kl_coef > 0 else None
        if self.reference is not None:
            parallel.prepare(self.reference, config, self.dist, trainable=False)
        self.layout = parallel.prepare(self.policy, config, self.dist)
        """The model's layout over the ranks (one process, DDP or FSDP2)."""
        params = [p for p in self.policy.model.parameters() if p.requires_grad]  # FSDP2's shards: after prepare
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        self.collector = RolloutCollector(
            self.env, self.policy, self.grams, self.reference, self.dist, config, agent.config, self._sampling
        )
        self.sampling = self.collector.sampling
        self.strategies = StrategyTracker.for_env(self.env, config.env_kwargs.get("num_problems"))
        """Each step's strategy mix of strategy families (``strategy/<family>/<strategy>`` keys; none without them)."""
        self.strategy_row: dict = {}
        self.heldout = (
            HeldoutEvaluator(config, self.env, self.policy, self.grams, self.dist) if config.heldout_problems else None
        )
        """The held-out splits (chosen by text, once) and their evaluation; None without held-out problems."""
        self.score_first = config.ppo_epochs > 1 or agent.reads_entropy
        """Score the batch before credit assignment (else the update's first pass gives the old log-probs)."""
        self.step, self.perplexity0 = 0, None
        self._last_save = time.monotonic()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.run_log: RunLog | None = None
        """Where metrics go (``config.log_to``; rank 0 of a run with a ``run_dir`` only)."""
        if self.run_dir is not None and self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.run_config.to_json(self.run_dir / "config.json")
            lexicon = {"path": config.grams, "sha256": self.grams_sha256, "grams": len(self.grams)}
            (self.run_dir / "lexicon.json").write_text(json.dumps(lexicon, indent=2) + "\n", encoding="utf-8")
            if self.heldout is not None:
                self.heldout.write(self.run_dir)
            self.run_log = RunLog(self.run_dir, config.log_to, config=self.run_config.to_dict())

    @property
    def run_config(self) -> RunConfig:
        """The run's :class:`RunConfig` (the agent's resolved configuration); ``config.json`` holds it."""
        return RunConfig(agent=self.agent.name, agent_config=self.agent.config, train=self.config)

    # ---------------------------------------------------------------- rollout
    def rollout(self, timings: dict[str, float]) -> RolloutBatch:
        """This step's rollout (:meth:`RolloutCollector.rollout`): this rank's B / W problems x G responses."""
        return self.collector.rollout(self.step, timings)

    def _sampling(self) -> contextlib.AbstractContextManager:
        """Where the policy samples: under FSDP2 the ``hf`` engine runs this model, whose parameters are gathered
        for the duration; vLLM samples from its own copy of the weights."""
        return self.layout.gathered() if self.policy.engine.name == "hf" else contextlib.nullcontext()

    def score(self, batch: RolloutBatch) -> RolloutBatch:
        """``batch`` with ``old_logprobs`` and ``entropy``: the current (sampling) weights' scores of its tokens."""
        scores = score_tokens(self.policy, self.config, batch.input_ids, batch.attention_mask, batch.prompt_length)
        return replace(batch, old_logprobs=scores.logprobs, entropy=scores.entropy)

    # ----------------------------------------------------------------- update
    def update(self, batch: RolloutBatch, credit: Credit) -> UpdateResult:
        """K PPO epochs; each accumulates gradients over micro-batches, then clips and steps once.

        A non-finite loss or gradient norm (on any rank) skips that optimiser step (logged; training goes on).
        Several epochs need the batch scored first (:meth:`score`): else every epoch would take the moving weights'
        log-probs as the old ones (ratio 1, nothing clipped, importance weights against the wrong policy).
        """
        cfg, n = self.config, len(batch)
        if cfg.ppo_epochs > 1 and batch.old_logprobs is None:
            raise ValueError(
                f"update: ppo_epochs={cfg.ppo_epochs} expects a scored batch (old_logprobs from the sampling weights); "
                "got old_logprobs=None; call trainer.score(batch) first, as train_step does"
            )
        generator = torch.Generator().manual_seed(derived_seed(cfg.seed, self.step, SeedPurpose.SHUFFLE))
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        first = TokenScores(torch.zeros_like(batch.sampler_logprobs), torch.zeros_like(batch.sampler_logprobs))
        result = {"loss": 0.0, "clip_frac": 0.0, "grad_norm": 0.0, "skipped": False}
        self.policy.model.eval()  # no dropout: old and new log-probs come from the same function
        for epoch in range(cfg.ppo_epochs):
            self.optimizer.zero_grad(set_to_none=True)
            order = torch.randperm(n, generator=generator)
            loss_sum, clip_sum, finite = accumulate_gradients(
                self.policy, self.agent, self.layout, self.dist, batch, credit, order,
                micro_batch_size=cfg.micro_batch_size, micro_batch_tokens=cfg.micro_batch_tokens,
                temperature=cfg.temperature, first=first if epoch == 0 else None,
            )  # fmt: skip
            finite = self.dist.all(finite)
            loss_sum, clip_sum = self.dist.sum([loss_sum, clip_sum])
            grad_norm = self.layout.clip_grad_norm(params, cfg.max_grad_norm) if finite else math.nan
            if not (finite and math.isfinite(grad_norm)):
                log.warning("step %d: non-finite loss or gradient norm; optimiser step skipped", self.step)
                self.optimizer.zero_grad(set_to_none=True)
                result["skipped"] = True
                continue
            self.optimizer.step()
            result.update(loss=loss_sum, clip_frac=clip_sum, grad_norm=grad_norm)
        self.policy.engine.load_weights(self.policy.model)
        scores = first if batch.old_logprobs is None else TokenScores(batch.old_logprobs, batch.entropy)
        return UpdateResult(**result, scores=scores)

    # ------------------------------------------------------------------- loop
    def train_step(self) -> StepMetrics:
        """One rollout + credit + update; returns (and logs) its metrics."""
        timings: dict[str, float] = {}
        batch = self.rollout(timings)
        if self.score_first:
            t0 = time.perf_counter()
            batch = self.score(batch)
            timings["score"] = time.perf_counter() - t0
        generator = torch.Generator().manual_seed(self.dist.seed(self.config.seed, self.step, SeedPurpose.CREDIT))
        credit = self.agent.credit(batch, generator)
        t0 = time.perf_counter()
        upd = self.update(batch, credit)
        timings["update"] = time.perf_counter() - t0
        metrics = self._metrics(batch, credit, upd, timings)
        self.perplexity0 = next_perplexity0(self.perplexity0, metrics)
        if self.run_log is not None:
            self.run_log.log(self.step, {**asdict(metrics), **self.strategy_row} if self.strategy_row else metrics)
            if self.config.log_rollouts:
                append_rollouts(self.run_dir / "rollouts.jsonl", self.step, batch)
        self.step += 1
        return metrics

    def _metrics(self, batch: RolloutBatch, credit: Credit, upd: UpdateResult, timings: dict) -> StepMetrics:
        """The step's metrics over the global batch: rank 0 computes them from every rank's rollouts, all get them."""
        merged = distributed.gather_step(self.dist, batch, credit, upd, timings, self.policy.tokenizer.pad_token_id)
        metrics = None
        if merged is not None:
            batch, credit, upd, timings = merged
            metrics = step_metrics(
                self.step, batch, credit, upd, self.grams, perplexity0=self.perplexity0,
                tis_cap=self.agent.config.tis_cap, timings=timings,
                length_penalty=float(self.collector.length_penalty(batch.response_mask).mean()),
            )  # fmt: skip
            self.strategy_row = self.strategies.step_metrics(batch.problem_ids, batch.texts, batch.correct.tolist())
        return self.dist.broadcast(metrics)

    def evaluate_heldout(self) -> dict | None:
        """Accuracy on the held-out problems (``config.heldout_problems``, and the out-of-distribution split of
        ``config.heldout_ood_env_kwargs``) and execution perplexity by strategy, logged to ``heldout.jsonl``."""
        if self.heldout is None:
            return None
        row = self.heldout.evaluate(self.step, self.sampling, self._sampling)
        if self.run_log is not None:
            self.run_log.log(row["step"], row, prefix="heldout", file="heldout.jsonl")
        return row

    def train(
        self, steps: int | None = None, *, progress: bool = True, on_step: Callable[[StepMetrics], None] | None = None
    ) -> list[StepMetrics]:
        """Run until ``steps`` (default ``config.steps``) steps are done in total, checkpointing as configured.

        ``progress`` shows a tqdm bar; ``on_step`` is called with each step's metrics (e.g. to report progress
        from a worker process).
        """
        cfg = self.config
        target, history = steps if steps is not None else cfg.steps, []
        quiet = not (progress and self.dist.is_main)
        bar = tqdm(total=target, initial=self.step, desc=f"{self.agent.name}", disable=quiet, leave=False)
        while self.step < target:
            metrics = self.train_step()
            history.append(metrics)
            bar.update(1)
            bar.set_postfix(acc=f"{metrics.accuracy:.2f}", len=f"{metrics.response_length:.0f}")
            if on_step is not None:
                on_step(metrics)
            if cfg.heldout_every and self.step % cfg.heldout_every == 0 and self.step < target:
                self.evaluate_heldout()
            if self.run_dir is not None and self.dist.broadcast(self._checkpoint_due()):  # rank 0's clock decides
                self.save()
        bar.close()
        if history and cfg.heldout_problems:
            self.evaluate_heldout()
        if self.run_dir is not None:
            self.save()
        if self.run_log is not None:
            self.run_log.close()  # flushed and closed; a later train() reopens the back ends
        return history

    def _checkpoint_due(self) -> bool:
        every, minutes = self.config.checkpoint_every, self.config.checkpoint_minutes
        by_steps = bool(every) and self.step % every == 0
        return by_steps or (minutes > 0 and time.monotonic() - self._last_save >= 60 * minutes)

    def save(self) -> Path:
        """Atomically checkpoint model, optimiser, step and step-0 perplexities to ``run_dir`` (rank 0 alone, or
        every rank its shards under FSDP2); every rank calls it."""
        if self.run_dir is None:
            raise ValueError("save: this trainer has no run_dir; pass run_dir= to Trainer to checkpoint")
        state = {"perplexity0": self.perplexity0, "run_config": self.run_config.to_dict()}
        self._last_save = time.monotonic()
        return save_run_checkpoint(
            self.run_dir, self.step, self.policy.model, self.optimizer, state, self.config.keep_checkpoints,
            sharded=self.layout.kind == "fsdp", dist=self.dist,
        )  # fmt: skip

    @classmethod
    def resume(cls, run_dir: str | Path, **overrides) -> Trainer:
        """Rebuild the trainer of ``run_dir`` from its run config and newest checkpoint; continues bit-for-bit
        (on the same number of ranks; under torchrun every rank calls it, and ``run_dir`` is on a file system every
        rank sees).

        ``overrides`` replace ``TrainConfig`` fields (e.g. ``steps=`` to train longer). A run killed before its first
        checkpoint starts over from its ``config.json``, with a warning; its partial logs move to ``partial-<k>/``.
        """
        if latest_checkpoint(run_dir) is None:
            return cls._start_over(Path(run_dir), overrides)
        ckpt = load_checkpoint(run_dir)
        run = RunConfig.from_dict(ckpt.state["run_config"])
        check_recorded_lexicon(run_dir, run.train.grams)
        trainer = cls(run.make_agent(), replace(run.train, **overrides), run_dir=run_dir)
        restore_checkpoint(ckpt, trainer.policy.model, trainer.optimizer)
        trainer.policy.engine.load_weights(trainer.policy.model)
        perplexity0 = ckpt.state["perplexity0"]
        trainer.step, trainer.perplexity0 = ckpt.state["step"], tuple(perplexity0) if perplexity0 else None
        if trainer.dist.is_main:
            truncate_jsonl(Path(run_dir) / "metrics.jsonl", trainer.step - 1)
            truncate_jsonl(Path(run_dir) / "heldout.jsonl", trainer.step)
            truncate_jsonl(Path(run_dir) / "rollouts.jsonl", trainer.step - 1)
        log.info("resumed %s at step %d from %s", run.agent, trainer.step, ckpt.path)
        return trainer

    @classmethod
    def _start_over(cls, run_dir: Path, overrides: dict) -> Trainer:
        config = run_dir / "config.json"
        if not config.is_file():
            raise FileNotFoundError(
                f"no checkpoint in {run_dir}, nor a config.json to start the run over from: expected the folder of a "
                "run started with a run directory"
            )
        run = RunConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        trainer = cls(run.make_agent(), replace(run.train, **overrides), run_dir=run_dir)
        if trainer.dist.is_main:
            aside = set_aside_partial_logs(run_dir)
            log.warning(
                "resume: %s has no checkpoint (the run stopped before its first one); starting it over from step 0%s",
                run_dir, f", its partial logs moved to {aside}" if aside else "",
            )  # fmt: skip
        trainer.dist.barrier()
        return trainer
