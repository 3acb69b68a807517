"""The paper's dynamics metrics for responses produced elsewhere (another framework's rollouts or checkpoints).

A responses file is JSONL, one response per line::

    {"step": 0, "prompt": "What is 7 + 5?", "response": "Let's break it down: ... \\boxed{12}", "answer": "12"}

``step`` groups responses (a training step, or a checkpoint's index; default 0); ``answer`` (the gold) gives
accuracy through the verifier, or ``correct`` (a bool) gives it directly; both are optional. A scoring model
(any causal LM hicra loads) gives every response token's log-prob and full-distribution entropy under the prompt
(its chat template applied, as in training), so the same metrics as ``metrics.jsonl`` come out per step:
planning / execution token entropy and perplexity, their perplexity relative to the first step, semantic
entropy, planning ratio, accuracy.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from hicra.agents.engines.base import Completions
from hicra.agents.metrics import mean_perplexity, semantic_entropy, split_entropy
from hicra.agents.planning import StrategicGrams, planning_ratio


def read_responses(path: str | Path) -> dict[int, list[dict[str, Any]]]:
    """Rows of a responses file grouped by ``step`` (sorted); ``ValueError`` names a bad line."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: expected a JSON object per line, got: {err}") from None
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("prompt"), str)
            or not isinstance(row.get("response"), str)
        ):
            raise ValueError(f"{path}:{number}: expected string fields 'prompt' and 'response', got {line[:80]!r}")
        step = row.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"{path}:{number}: expected 'step' to be an integer >= 0, got {step!r}")
        groups[step].append(row)
    if not groups:
        raise ValueError(f"{path}: expected at least one response, got an empty file")
    return dict(sorted(groups.items()))


def _correct(rows: list[dict[str, Any]]) -> list[bool] | None:
    if all("correct" in r for r in rows):
        return [bool(r["correct"]) for r in rows]
    if all("answer" in r for r in rows):
        from hicra.verifiers import verify_batch

        return [v.correct for v in verify_batch([r["response"] for r in rows], [str(r["answer"]) for r in rows])]
    return None


@torch.no_grad()
def score_step(policy, rows: list[dict[str, Any]], grams: StrategicGrams, batch_size: int = 16) -> dict[str, float]:
    """The dynamics metrics of one step's responses under ``policy`` (a :class:`hicra.agents.Policy`)."""
    tokenizer = policy.tokenizer
    prompts = policy.prompt_token_ids([r["prompt"] for r in rows])
    responses = [tuple(tokenizer(r["response"], add_special_tokens=False)["input_ids"]) for r in rows]
    gen = policy._to_generation(prompts, Completions(tuple(responses), tuple((0.0,) * len(t) for t in responses)), 1)
    scores = policy.score(
        gen.input_ids, gen.attention_mask, gen.prompt_length, temperature=1.0, micro_batch_size=batch_size
    )
    response = gen.response_mask
    planning = grams.token_mask(tokenizer, gen.response_ids, response, texts=gen.texts) & response
    plan_ent, exec_ent = split_entropy(scores.entropy, planning, response)
    correct = _correct(rows)
    return {
        "accuracy": sum(correct) / len(correct) if correct is not None else math.nan,
        "responses": len(rows),
        "response_length": float(response.sum(dim=1).float().mean()),
        "planning_ratio": planning_ratio(planning, response),
        "planning_entropy": plan_ent,
        "execution_entropy": exec_ent,
        "planning_perplexity": mean_perplexity(scores.logprobs, planning),
        "execution_perplexity": mean_perplexity(scores.logprobs, response & ~planning),
        "semantic_entropy": semantic_entropy([r["response"] for r in rows], grams),
    }


def score_responses(path: str | Path, policy, grams: StrategicGrams | None = None) -> list[dict[str, float]]:
    """One metrics row per step of the responses file, with perplexities relative to the first finite value."""
    grams = grams or StrategicGrams()
    rows = [{"step": step, **score_step(policy, group, grams)} for step, group in read_responses(path).items()]
    for kind in ("planning", "execution"):
        first = next((r[f"{kind}_perplexity"] for r in rows if math.isfinite(r[f"{kind}_perplexity"])), math.nan)
        for r in rows:
            r[f"relative_{kind}_perplexity"] = r[f"{kind}_perplexity"] / first if first else math.nan
    return rows
