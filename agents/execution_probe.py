"""Execution perplexity on a fixed, teacher-forced held-out set, split by strategy.

:class:`ExecutionProbe` holds every strategy's worked solution of fixed held-out problems of strategy families
(:func:`hicra.agents.strategy_metrics.solutions_of`), tokenized after the prompt exactly as a sampled response
continues it, with each solution's execution tokens (its tokens that are not planning tokens, by the run's
Strategic Grams) marked once. :meth:`ExecutionProbe.perplexities` scores them with the policy's log-prob path:
``exp(mean NLL)`` of the execution tokens, per strategy and per family and strategy. The set never changes, so a
change of these values is a change in how the policy executes each strategy, never in which strategies it picks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from .engines.hf import left_pad
from .planning import StrategicGrams
from .policy import Policy
from .strategy_metrics import perplexity_by_key, solutions_of

log = logging.getLogger(__name__)

PREFIX = "heldout_exec_perplexity"
"""Key prefix of the probe's values in ``heldout.jsonl``."""


def probe_rows(env, indices: Iterable[int]) -> list[tuple[str, str, str, str]]:
    """``(family, strategy, prompt, worked solution)`` for every strategy of every problem at ``indices`` whose
    family has strategies (prompts as ``env.reset(options={"index": i})`` poses them)."""
    rows = []
    for index in indices:
        prompt, info = env.reset(options={"index": int(index)})
        solutions = solutions_of(info["problem_id"])
        if solutions:
            family = env.get_wrapper_attr("problem")(info["problem_id"]).subject or "all"
            rows += [(family, name, prompt, text) for name, text in solutions.items()]
    return rows


def teacher_forced(policy: Policy, prompts: Sequence[str], responses: Sequence[str]) -> tuple[Tensor, ...]:
    """``(input_ids, attention_mask, prompt_length, response_ids, response_mask)`` of ``responses`` following
    ``prompts`` as :class:`~hicra.agents.policy.Generation` lays them out (prompt left-padded, chat template applied,
    response tokenized on its own and right-padded; no EOS), on the CPU."""
    tokenizer = policy.tokenizer
    prompt, prompt_mask = left_pad(policy.prompt_token_ids(list(prompts)), tokenizer.pad_token_id, "cpu")
    tokens = [tokenizer(r, add_special_tokens=False)["input_ids"] for r in responses]
    width = max(1, max(map(len, tokens)))
    response_ids = torch.full((len(tokens), width), tokenizer.pad_token_id, dtype=torch.long)
    response_mask = torch.zeros((len(tokens), width), dtype=torch.bool)
    for i, ids in enumerate(tokens):
        response_ids[i, : len(ids)], response_mask[i, : len(ids)] = torch.as_tensor(ids, dtype=torch.long), True
    input_ids = torch.cat([prompt, response_ids], dim=1)
    attention_mask = torch.cat([prompt_mask, response_mask.long()], dim=1)
    return input_ids, attention_mask, prompt.shape[1], response_ids, response_mask


class ExecutionProbe:
    """Teacher-forced execution perplexity of fixed worked solutions, by strategy.

    Args:
        policy: the policy (its tokenizer lays out the rows; its model's ``max_position_embeddings`` drops longer
            ones, counted in :meth:`record`).
        grams: the run's Strategic Grams: a solution's tokens that overlap one are planning tokens, left out.
        rows: ``(family, strategy, prompt, solution)`` (:func:`probe_rows`).
        micro_batch_size: rows per forward pass.
    """

    def __init__(
        self, policy: Policy, grams: StrategicGrams, rows: Sequence[tuple[str, str, str, str]], micro_batch_size: int
    ) -> None:
        limit = getattr(policy.model.config, "max_position_embeddings", None)
        self.batches: list[tuple[Tensor, Tensor, int, Tensor]] = []
        """``(input_ids, attention_mask, prompt_length, execution_mask)`` per micro-batch, on the CPU."""
        self.keys: list[tuple[str, str]] = []
        self.tokens: list[int] = []
        self.too_long = 0
        rows = sorted(rows, key=lambda r: len(r[2]) + len(r[3]))  # alike lengths share a micro-batch: less padding
        for start in range(0, len(rows), micro_batch_size):
            chunk = rows[start : start + micro_batch_size]
            ids, mask, plen, response_ids, response_mask = teacher_forced(policy, [r[2] for r in chunk],
                                                                          [r[3] for r in chunk])  # fmt: skip
            keep = mask.sum(dim=1) <= limit if limit else torch.ones(len(chunk), dtype=torch.bool)
            self.too_long += int((~keep).sum())
            if not bool(keep.any()):
                continue
            planning = grams.token_mask(policy.tokenizer, response_ids[keep], response_mask[keep])
            execution = response_mask[keep] & ~planning
            self.batches.append((ids[keep], mask[keep], plen, execution))
            self.keys += [(r[0], r[1]) for r, k in zip(chunk, keep.tolist()) if k]
            self.tokens += execution.sum(dim=1).tolist()
        if self.too_long:
            log.warning("execution probe: %d worked solutions longer than the model's %s positions left out",
                        self.too_long, limit)  # fmt: skip

    def __len__(self) -> int:
        return len(self.keys)

    @torch.no_grad()
    def perplexities(self, policy: Policy, temperature: float = 1.0) -> dict[str, float]:
        """``{PREFIX}/<strategy>`` and ``{PREFIX}/<family>/<strategy>``: ``exp(mean NLL)`` of the execution tokens
        (at ``temperature``, the sampling one), pooled over the rows of each key; ``{}`` with no row."""
        nll: list[float] = []
        policy.model.eval()
        for ids, mask, plen, execution in self.batches:
            device = policy.device
            logprobs, _ = policy.token_logprobs(ids.to(device), mask.to(device), plen, temperature=temperature)
            nll += (-(logprobs.double().cpu() * execution)).sum(dim=1).tolist()
        by_strategy = perplexity_by_key([s for _, s in self.keys], nll, self.tokens)
        by_family = perplexity_by_key([f"{f}/{s}" for f, s in self.keys], nll, self.tokens)
        return {f"{PREFIX}/{k}": v for part in (by_strategy, by_family) for k, v in part.items()}

    def record(self) -> dict:
        """JSON-ready: per ``<family>/<strategy>`` the number of solutions and execution tokens, and how many rows
        were too long for the model."""
        out: dict = {}
        for (family, strategy), n in zip(self.keys, self.tokens):
            entry = out.setdefault(f"{family}/{strategy}", {"solutions": 0, "execution_tokens": 0})
            entry["solutions"] += 1
            entry["execution_tokens"] += n
        return {"by_family_strategy": out, "too_long": self.too_long}
