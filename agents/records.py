"""What one training step reports (``StepMetrics``), how it is computed from a rollout, and the JSONL log."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from .base import Credit
from .batch_shaping import informative_rows
from .losses import kl_k3
from .metrics import masked_mean, mean_perplexity, pass_at_group, semantic_entropy, split_entropy
from .planning import StrategicGrams, planning_ratio
from .rollout import RolloutBatch, TokenScores


@dataclass(frozen=True)
class StepMetrics:
    """One JSON line of ``metrics.jsonl``: the sampled responses (before the update) and the update.

    Entropies are nats of the full next-token distribution. ``*_perplexity`` is ``exp(-mean log-prob)`` over
    planning / execution tokens, ``relative_*`` its ratio to the run's first finite value (the paper's
    "procedural consolidation" curve). ``semantic_entropy`` is in bits (base 2) over the distinct Strategic Grams
    of the step's responses. ``amplified_ratio`` is the share of response tokens whose advantage the agent
    amplified (0 for GRPO). ``sampler_logprob_diff`` is the mean |trainer - sampler| log-prob of the sampled
    tokens and ``is_truncated_frac`` the share of tokens whose importance weight hit the cap.
    ``reward`` includes the overlong shaping, whose mean is ``length_penalty`` (0 without it).
    ``informative_group_frac`` is the share of the batch's groups whose rewards differ (the others have zero
    advantage), ``extra_sampling_rounds`` how many extra rounds dynamic sampling took to fill the batch, and
    ``gradient_token_frac`` the share of response tokens that carry policy gradient (below 1 for forking tokens).
    ``reward_std`` is the standard deviation of the batch's rewards (unbiased, as TRL logs it), ``entropy`` the mean
    token entropy over all response tokens, ``kl`` the mean k3 estimate of KL(sampling policy || reference) per
    response token (NaN, written as null, without a reference: ``kl_coef`` 0). ``time_*`` split the step's wall time
    in seconds.
    """

    step: int
    reward: float
    reward_std: float
    accuracy: float
    pass_at_group: float
    response_length: float
    planning_ratio: float
    amplified_ratio: float
    planning_entropy: float
    execution_entropy: float
    entropy: float
    kl: float
    planning_perplexity: float
    execution_perplexity: float
    relative_planning_perplexity: float
    relative_execution_perplexity: float
    semantic_entropy: float
    sampler_logprob_diff: float
    is_truncated_frac: float
    length_penalty: float
    informative_group_frac: float
    extra_sampling_rounds: int
    gradient_token_frac: float
    loss: float
    clip_frac: float
    grad_norm: float
    skipped: bool
    time_generate: float
    time_verify: float
    time_mask: float
    time_score: float
    time_update: float


@dataclass(frozen=True)
class UpdateResult:
    """What the trainer's update reports."""

    loss: float
    clip_frac: float
    grad_norm: float
    skipped: bool
    scores: TokenScores
    """The trainer's log-probs and entropy of the sampled tokens under the sampling weights."""


def step_metrics(
    step: int,
    batch: RolloutBatch,
    credit: Credit,
    update: UpdateResult,
    grams: StrategicGrams,
    *,
    perplexity0: tuple[float, float] | None,
    tis_cap: float,
    timings: dict[str, float],
    length_penalty: float = 0.0,
) -> StepMetrics:
    """The metrics of one step (no model calls). ``perplexity0``: the (execution, planning) perplexities the
    relative ones divide by (None on the first step: its own); ``length_penalty``: the mean overlong shaping."""
    scores = update.scores
    response = batch.response_mask
    planning = batch.planning_mask & response
    execution = response & ~planning
    plan_ent, exec_ent = split_entropy(scores.entropy, planning, response)
    exec_ppl = mean_perplexity(scores.logprobs, execution)
    plan_ppl = mean_perplexity(scores.logprobs, planning)
    ref = batch.ref_logprobs
    exec0, plan0 = perplexity0 if perplexity0 is not None else (exec_ppl, plan_ppl)
    diff = (scores.logprobs - batch.sampler_logprobs).abs()
    truncated = (
        (scores.logprobs - batch.sampler_logprobs) > math.log(tis_cap) if tis_cap > 0 else torch.zeros_like(response)
    )
    return StepMetrics(
        step=step,
        reward=float(batch.rewards.float().mean()),
        reward_std=float(batch.rewards.float().std()) if len(batch) > 1 else 0.0,
        accuracy=float(batch.correct.float().mean()),
        pass_at_group=float(pass_at_group(batch.correct, batch.group_ids)),
        response_length=float(response.sum(dim=1).float().mean()),
        planning_ratio=float(planning_ratio(planning, response)),
        amplified_ratio=float(planning_ratio(credit.amplified, response)),
        planning_entropy=float(plan_ent),
        execution_entropy=float(exec_ent),
        entropy=masked_mean(scores.entropy, response),
        kl=math.nan if ref is None else masked_mean(kl_k3(scores.logprobs, ref), response),
        planning_perplexity=float(plan_ppl),
        execution_perplexity=float(exec_ppl),
        relative_planning_perplexity=float(plan_ppl / plan0) if plan0 else math.nan,
        relative_execution_perplexity=float(exec_ppl / exec0) if exec0 else math.nan,
        semantic_entropy=float(semantic_entropy(list(batch.texts), grams, base=2.0)),
        sampler_logprob_diff=masked_mean(diff, response),
        is_truncated_frac=masked_mean(truncated.float(), response),
        length_penalty=length_penalty,
        informative_group_frac=_informative_group_frac(batch),
        extra_sampling_rounds=batch.extra_rounds,
        gradient_token_frac=1.0 if credit.loss_mask is None else float(planning_ratio(credit.loss_mask, response)),
        loss=update.loss, clip_frac=update.clip_frac, grad_norm=update.grad_norm, skipped=update.skipped,
        **{f"time_{part}": timings.get(part, 0.0) for part in ("generate", "verify", "mask", "score", "update")},
    )  # fmt: skip


def _informative_group_frac(batch: RolloutBatch) -> float:
    groups = torch.unique(batch.group_ids)
    useful = torch.unique(batch.group_ids[informative_rows(batch.rewards, batch.group_ids)])
    return len(useful) / max(len(groups), 1)


def next_perplexity0(perplexity0: tuple[float, float] | None, metrics: StepMetrics) -> tuple[float, float]:
    """The (execution, planning) reference perplexities after ``metrics``: each the first finite value seen."""
    current = (metrics.execution_perplexity, metrics.planning_perplexity)
    if perplexity0 is None:
        return current
    return tuple(old if math.isfinite(old) else new for old, new in zip(perplexity0, current))  # type: ignore[return-value]


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; readers treat null as "undefined this step"
    return value


def append_jsonl(path: Path, row: StepMetrics | dict) -> None:
    """Append one row (a step's metrics) to a JSONL log, flushed, so a killed run keeps every finished step."""
    values = asdict(row) if not isinstance(row, dict) else row
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({k: _jsonable(v) for k, v in values.items()}) + "\n")
        fh.flush()


def append_rollouts(path: Path, step: int, batch: RolloutBatch) -> None:
    """Append one step's responses to ``rollouts.jsonl``: a line per response with its problem, group, text, reward
    and correctness (what ``hicra grams build`` mines and what a reader inspects)."""
    with open(path, "a", encoding="utf-8") as fh:
        for i, text in enumerate(batch.texts):
            row = {"step": step, "problem_id": batch.problem_ids[i], "group": int(batch.group_ids[i]), "text": text,
                   "reward": float(batch.rewards[i]), "correct": bool(batch.correct[i])}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
        fh.flush()


def read_jsonl(path: Path) -> list[dict]:
    """Every complete line of a ``metrics.jsonl`` (a truncated last line from a kill is ignored)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def truncate_jsonl(path: Path, last_step: int) -> None:
    """Keep only the steps ``<= last_step`` (used on resume, so no step is logged twice)."""
    if path.is_file():
        rows = [r for r in read_jsonl(path) if r.get("step", -1) <= last_step]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


STEP_FIELDS = tuple(f.name for f in fields(StepMetrics))
