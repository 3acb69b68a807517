"""What one training step reports (``StepMetrics``), how it is computed from a rollout, and the JSONL log."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .metrics import mean_perplexity, pass_at_group, semantic_entropy, split_entropy
from .planning import StrategicGrams, planning_ratio
from .rollout import RolloutBatch


@dataclass(frozen=True)
class RolloutMetrics:
    """Metrics of the sampled responses, before the update (the paper's dynamics plots)."""

    reward: float
    accuracy: float
    pass_at_group: float
    response_length: float
    planning_entropy: float
    execution_entropy: float
    execution_perplexity: float
    semantic_entropy: float
    planning_ratio: float


@dataclass(frozen=True)
class StepMetrics(RolloutMetrics):
    """One JSON line of ``metrics.jsonl``.

    ``relative_execution_perplexity`` is execution-token perplexity divided by its value at step 0 (the
    paper's "procedural consolidation" curve). ``semantic_entropy`` is in bits (base 2) over the distinct
    Strategic Grams of the step's responses. Entropies are nats of the full next-token distribution.
    ``time_*`` split the step's wall time (generation, verification, old log-probs + masks, update).
    """

    step: int
    relative_execution_perplexity: float
    loss: float
    clip_frac: float
    grad_norm: float
    skipped: bool
    time_generate: float
    time_verify: float
    time_logprobs: float
    time_update: float


def rollout_metrics(batch: RolloutBatch, grams: StrategicGrams) -> RolloutMetrics:
    """Metrics of a rollout batch (no model calls): rewards, lengths, entropy split, gram statistics."""
    planning = batch.planning_mask & batch.response_mask
    execution = batch.response_mask & ~batch.planning_mask
    plan_ent, exec_ent = split_entropy(batch.entropy, batch.planning_mask, batch.response_mask)
    return RolloutMetrics(
        reward=float(batch.rewards.float().mean()),
        accuracy=float(batch.correct.float().mean()),
        pass_at_group=float(pass_at_group(batch.correct, batch.group_ids)),
        response_length=float(batch.response_mask.sum(dim=1).float().mean()),
        planning_entropy=float(plan_ent),
        execution_entropy=float(exec_ent),
        execution_perplexity=float(mean_perplexity(batch.old_logprobs, execution)),
        semantic_entropy=float(semantic_entropy(list(batch.texts), grams, base=2.0)),
        planning_ratio=float(planning_ratio(planning, batch.response_mask)),
    )


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; readers treat null as "undefined this step"
    return value


def append_jsonl(path: Path, metrics: StepMetrics) -> None:
    """Append one step to ``metrics.jsonl`` (flushed, so a killed run keeps every finished step)."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({k: _jsonable(v) for k, v in asdict(metrics).items()}) + "\n")
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
