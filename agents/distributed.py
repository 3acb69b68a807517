"""Data-parallel training over ``torch.distributed``: the process group, each rank's share, and the reductions.

Launched with ``torchrun``, every process runs the same :class:`~hicra.agents.trainer.Trainer` loop on its own
share of each step. The rules:

- **Process group.** :func:`setup` joins the default group from torchrun's environment (``RANK``, ``WORLD_SIZE``,
  ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT`` or any rendezvous torchrun supports): gloo for CPU tensors and,
  on CUDA, NCCL for CUDA tensors. It runs before the trainer builds the policy or a rollout engine (vLLM's
  ``external_launcher`` executor reuses that group). A group created beforehand by the caller is used as is.
- **Batch.** ``prompts_per_step`` (B) is the global batch: rank r takes problems ``[r B/W, (r+1) B/W)`` of the
  step (:meth:`DistContext.shard`), so the step's problems are those of a single process, and a group of G
  responses stays whole on one rank (advantages are per group, so per rank is exact).
- **Seeds.** Problem draws depend on (seed, step, problem index) only. Sampling, credit and held-out draws add
  the rank as one more seed part when W > 1 (:meth:`DistContext.seed`): ranks draw independently, a run is
  reproducible for a given world size, and W = 1 draws exactly what a single process draws.
- **Reductions.** Sums and the step's rollouts travel to rank 0, which alone writes logs and checkpoints.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

import torch
import torch.distributed as dist

from .base import Credit
from .records import UpdateResult
from .rollout import RolloutBatch, TokenScores, concat_batches, pad_right
from .seeds import SeedPurpose, derived_seed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the run: ``rank`` of ``world_size`` (0 of 1 in a single process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    """Index of the process on its node (its GPU)."""
    active: bool = False
    """A process group exists: collectives run (also for a world of one, e.g. ``torchrun --nproc_per_node 1``)."""

    @property
    def is_main(self) -> bool:
        """Rank 0: writes logs and checkpoints."""
        return self.rank == 0

    def shard(self, count: int, name: str) -> range:
        """This rank's contiguous share of ``count`` items, which must split evenly over the ranks."""
        if count % self.world_size:
            raise ValueError(
                f"{name}: expected a multiple of the world size {self.world_size} (every rank takes the same number "
                f"of whole groups), got {count}"
            )
        per_rank = count // self.world_size
        return range(self.rank * per_rank, (self.rank + 1) * per_rank)

    def seed(self, seed: int, step: int, purpose: SeedPurpose) -> int:
        """The seed of this rank's draws for ``purpose`` at ``step`` (the single-process seed when W = 1)."""
        return derived_seed(seed, step, purpose, *((self.rank,) if self.world_size > 1 else ()))

    def sum(self, values: Sequence[float]) -> list[float]:
        """Element-wise sums over the ranks (float64; the values themselves without a group)."""
        if not self.active:
            return [float(v) for v in values]
        total = torch.tensor([float(v) for v in values], dtype=torch.float64)
        dist.all_reduce(total)
        return total.tolist()

    def all(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank."""
        return self.sum([0.0 if flag else 1.0])[0] == 0.0

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj`` (picklable, tensors on CPU) in rank order on rank 0; None on the others."""
        if not self.active:
            return [obj]
        out = [None] * self.world_size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


def gather_step(
    context: DistContext, batch: RolloutBatch, credit: Credit, update: UpdateResult, timings: dict, pad_id: int
) -> tuple[RolloutBatch, Credit, UpdateResult, dict[str, float]] | None:
    """One step's rollouts, credit and scores of every rank, as one global batch on rank 0 (None elsewhere).

    The update's loss, clip fraction and gradient norm are already global (see the trainer); the timings are the
    slowest rank's. Without a process group: the arguments as they are.
    """
    if not context.active:
        return batch, credit, update, timings
    parts = context.gather(_cpu((batch, credit, update.scores, timings)))
    if parts is None:
        return None
    merged = concat_batches([p[0] for p in parts], pad_id)
    width = merged.response_ids.shape[1]

    def cat(index: int, name: str, value) -> torch.Tensor:
        return pad_right([getattr(p[index], name) for p in parts], width, value)

    loss_mask = None if parts[0][1].loss_mask is None else cat(1, "loss_mask", False)
    credit = Credit(cat(1, "advantages", 0.0), cat(1, "amplified", False), loss_mask)
    scores = TokenScores(cat(2, "logprobs", 0.0), cat(2, "entropy", 0.0))
    slowest = {key: max(p[3].get(key, 0.0) for p in parts) for key in {k for p in parts for k in p[3]}}
    return merged, credit, replace(update, scores=scores), slowest


def _cpu(value: Any) -> Any:
    """``value`` with every tensor (in dataclasses, tuples, lists and dicts) moved to the CPU, for pickling."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _cpu(getattr(value, f.name)) for f in fields(value) if f.init})
    if isinstance(value, (tuple, list)):
        return type(value)(_cpu(v) for v in value)
    if isinstance(value, dict):
        return {k: _cpu(v) for k, v in value.items()}
    return value


def setup(device: str) -> tuple[DistContext, str]:
    """Join torchrun's process group (when launched by it) and return the context and this rank's device.

    Under torchrun a CUDA ``device`` without an index becomes ``cuda:$LOCAL_RANK`` (one GPU per process); an explicit
    index is kept. Without torchrun and without an existing group: a single process, ``device`` unchanged.
    """
    launched = "WORLD_SIZE" in os.environ and "RANK" in os.environ
    cuda, indexed = str(device).split(":")[0] == "cuda", ":" in str(device)
    if not dist.is_initialized() and launched:
        dist.init_process_group(backend="cuda:nccl,cpu:gloo" if cuda else "gloo")
        log.info("joined the process group: rank %d of %d", dist.get_rank(), dist.get_world_size())
    if not dist.is_initialized():
        return DistContext(), device
    local_rank = int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    if cuda:
        device = str(device) if indexed else f"cuda:{local_rank}"
        torch.cuda.set_device(torch.device(device))
    context = DistContext(dist.get_rank(), dist.get_world_size(), local_rank, active=True)
    return context, device


def teardown() -> None:
    """Leave the process group, if there is one (the end of a torchrun process).

    Unreachable DDP/FSDP wrappers (held in reference cycles) are collected first, while the group they hold is still
    alive, rather than in an arbitrary order at interpreter exit."""
    if dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()
