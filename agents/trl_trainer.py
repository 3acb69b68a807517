"""HICRA for TRL users: :class:`HICRAGRPOTrainer`, TRL's ``GRPOTrainer`` with HICRA's token advantages.

TRL gives each completion one advantage ``A`` (its reward minus its group's mean, by default also divided by the
group's std). This trainer overrides one step of TRL's, after TRL has generated and scored a batch: it marks the
planning tokens of the decoded completions with :class:`~hicra.agents.planning.StrategicGrams` and replaces ``A`` by
:func:`~hicra.agents.advantages.hicra_advantages` (``A + alpha * |A|`` on planning tokens, ``A`` elsewhere), a
Float[B, T] tensor that TRL's loss takes per token. Sampling, rewards, the loss (``loss_type``, clipping, KL) and
logging stay TRL's; with ``alpha=0`` the loss is TRL's own.

It logs, beside TRL's metrics, per generation batch: ``planning_ratio`` (share of completion tokens that are planning
tokens) and ``semantic_entropy`` (bits; Strategic Gram occurrences over the batch's completions,
:func:`~hicra.agents.metrics.semantic_entropy`). Needs ``trl`` (``pip install 'hicra[trl]'``; tested with 1.16.0);
``hicra.agents`` never imports this module by itself.

Example (the paper's GRPO centres rewards without the std: ``scale_rewards="none"``)::

    from trl import GRPOConfig
    from hicra.agents.trl_trainer import HICRAGRPOTrainer
    from hicra.verifiers.rewards import verifier_reward
    from hicra_env.datasets import env_dataset

    trainer = HICRAGRPOTrainer(
        model="Qwen/Qwen2.5-Math-1.5B", reward_funcs=[verifier_reward], alpha=0.2,
        train_dataset=env_dataset("hicra/Arithmetic-v0", num_problems=512),
        args=GRPOConfig(output_dir="runs/trl-hicra", scale_rewards="none", loss_type="dapo"),
    )
    trainer.train()
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from .advantages import hicra_advantages
from .metrics import semantic_entropy
from .planning import StrategicGrams

__all__ = ["HICRAGRPOTrainer"]

Grams = StrategicGrams | Iterable[str] | str | os.PathLike[str] | None


class HICRAGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` whose completion tokens get HICRA's advantages.

    Args:
        *args, **kwargs: Everything ``trl.GRPOTrainer`` takes (model, reward_funcs, args, train_dataset, ...).
        alpha: HICRA's amplification, a float >= 0 (the paper's 0.2; 0 gives TRL's GRPO).
        grams: The Strategic Gram lexicon: a :class:`StrategicGrams`, an iterable of grams, a path to a lexicon
            file, or ``None`` for the paper's 249 grams.
    """

    def __init__(self, *args: Any, alpha: float = 0.2, grams: Grams = None, **kwargs: Any) -> None:
        hicra_advantages(torch.zeros(0), torch.zeros(0, 0, dtype=torch.bool), alpha)  # its own check of alpha
        self.alpha = float(alpha)
        self.grams = grams if isinstance(grams, StrategicGrams) else StrategicGrams(grams)
        super().__init__(*args, **kwargs)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        return self.hicra_credit(super()._generate_and_score_completions(inputs))

    def hicra_credit(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One generation batch as TRL builds it, with ``advantages`` made HICRA's token advantages.

        Args:
            batch: TRL's batch: ``completion_ids`` Long[B, T], ``completion_mask`` Int[B, T] (and ``tool_mask``
                when tools answered inside completions), ``advantages`` Float[B] (or already Float[B, T]).

        Returns:
            A new dict, equal but for ``advantages``: Float[B, T] from ``hicra_advantages``; also logs
            ``planning_ratio`` and ``semantic_entropy``.
        """
        ids, mask = batch["completion_ids"], batch["completion_mask"].bool()
        if batch.get("tool_mask") is not None:  # tool results are not the model's words
            mask = mask & batch["tool_mask"].bool()
        tokenizer = getattr(self.processing_class, "tokenizer", self.processing_class)
        texts = tokenizer.batch_decode([row[m].tolist() for row, m in zip(ids, mask)], skip_special_tokens=True)
        planning = self.grams.token_mask(tokenizer, ids, mask, texts=texts)
        self._log_planning(planning, mask, texts)
        return {**batch, "advantages": hicra_advantages(batch["advantages"], planning, self.alpha)}

    def _log_planning(self, planning: torch.Tensor, mask: torch.Tensor, texts: list[str]) -> None:
        """``planning_ratio`` and ``semantic_entropy`` of the whole generation batch (all processes)."""
        mode = "train" if self.model.training else "eval"
        counts = torch.stack([(planning & mask).sum(), mask.sum()]).to(torch.float64)
        planned, total = self.accelerator.gather(counts).view(-1, 2).sum(dim=0).tolist()
        self._metrics[mode]["planning_ratio"].append(planned / total if total else 0.0)
        self._metrics[mode]["semantic_entropy"].append(semantic_entropy(gather_object(texts), self.grams))
