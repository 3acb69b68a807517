"""How the policy's model is laid out for training: one process, DDP or FSDP2, with activation checkpointing.

The unit every layout wraps is the policy's :class:`~hicra.agents.logprobs.TokenScorer` (the scoring forward the
update differentiates), never the bare causal LM: DDP synchronises gradients and FSDP2 gathers parameters in the
forward of the module they wrap, and the scoring pass calls the model's body and a chunked head, not its forward.

- ``ddp``: ``DistributedDataParallel`` over the scorer. Gradients are all-reduced (averaged) in the backward of the
  last micro-batch of each optimiser step (:meth:`Layout.sync_grads`); buffers are not broadcast (a causal LM's
  buffers are constants such as rotary frequencies).
- ``fsdp``: FSDP2 ``fully_shard`` on each decoder layer, then on the scorer (the root: embeddings, final norm, LM
  head). Gradients are reduce-scattered (averaged) in every micro-batch's backward. Generation and weight pushes
  run inside :meth:`Layout.gathered`, which all-gathers the parameters once and keeps them whole until it exits,
  so ranks whose responses end at different lengths run no collective while they decode.

The trainer scales each rank's loss by the world size, so that these averages give the gradient of the loss over
the global batch.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch

from .distributed import DistContext

LayoutKind = Literal["single", "ddp", "fsdp"]

# DDP's forward need not broadcast buffers (torch 2.13 renamed the option `broadcast_buffers`)
_DDP_ARGS = inspect.signature(torch.nn.parallel.DistributedDataParallel.__init__).parameters
_NO_BUFFER_SYNC = {"forward_sync_buffers" if "forward_sync_buffers" in _DDP_ARGS else "broadcast_buffers": False}


@dataclass
class Layout:
    """What the trainer needs to know of the model's layout (see the module docstring)."""

    kind: LayoutKind
    root: torch.nn.Module | None = None
    """The wrapped scorer (DDP module or FSDP2 root); None in a single process."""

    @contextlib.contextmanager
    def gathered(self) -> Iterator[None]:
        """Whole parameters on every rank for the duration (FSDP2: one all-gather, no resharding after each
        forward); nothing to do for the other layouts."""
        if self.kind != "fsdp":
            yield
            return
        from torch.distributed.fsdp import FSDPModule

        units = [m for m in self.root.modules() if isinstance(m, FSDPModule)]
        for unit in units:
            unit.set_reshard_after_forward(False, recurse=False)
            unit.unshard()
        try:
            yield
        finally:
            for unit in units:
                unit.reshard()
                unit.set_reshard_after_forward(unit is not self.root, recurse=False)  # as fully_shard set them

    def sync_grads(self, sync: bool) -> contextlib.AbstractContextManager:
        """DDP: no all-reduce in this forward/backward unless ``sync`` (the optimiser step's last micro-batch)."""
        if self.kind == "ddp" and not sync:
            return self.root.no_sync()
        return contextlib.nullcontext()

    def clip_grad_norm(self, params: list[torch.nn.Parameter], max_norm: float) -> float:
        """Clip the global gradient norm (over all ranks' shards under FSDP2) to ``max_norm``; return it."""
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)


def prepare(policy, config, context: DistContext, *, trainable: bool = True) -> Layout:
    """Lay ``policy`` out as ``config`` says (``parallelism``, ``mixed_precision``, ``activation_checkpointing``).

    Modifies the policy in place (its scorer is wrapped); build the optimiser afterwards, from
    ``policy.model.parameters()`` (FSDP2 replaces them by sharded ones). ``trainable=False`` is for a frozen
    reference: sharded under FSDP2, a plain copy per rank otherwise. A LoRA policy's reference runs the policy's
    own model with its adapters disabled (``policy.shares_model``): the policy's layout serves it, nothing to do.
    """
    if getattr(policy, "shares_model", False):
        return Layout("single")
    if trainable and getattr(config, "lora", None) is not None and getattr(policy, "adapter", None) is None:
        raise ValueError(
            "train.lora: expected a policy with LoRA adapters (Policy.from_pretrained(..., lora=config.lora)), got "
            "one without: it would fine-tune every weight"
        )
    if trainable and config.activation_checkpointing:
        checkpoint_layers(policy.model)
    if not context.active:
        if config.parallelism == "fsdp":
            raise ValueError(
                "parallelism: 'fsdp' shards the model over the processes of a torchrun launch, got a single "
                "process; launch with `torchrun --nproc_per_node N -m hicra.benchmarks.cli train ...` (N=1 for one "
                "GPU) or use parallelism='ddp'"
            )
        return Layout("single")
    if config.parallelism == "ddp":
        if not trainable:
            return Layout("ddp")
        if not isinstance(policy.scorer, torch.nn.parallel.DistributedDataParallel):
            device_ids = [policy.device.index] if policy.device.type == "cuda" else None
            policy.scorer = torch.nn.parallel.DistributedDataParallel(
                policy.scorer, device_ids=device_ids, **_NO_BUFFER_SYNC
            )
        return Layout("ddp", policy.scorer)
    shard(policy, context, bf16=config.mixed_precision == "bf16")
    return Layout("fsdp", policy.scorer)


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The transformer blocks of a transformers model: the classes its ``_no_split_modules`` names."""
    names = set(getattr(model, "_no_split_modules", None) or ())
    layers = [m for m in model.modules() if type(m).__name__ in names]
    if not layers:
        raise ValueError(
            f"{type(model).__name__}: found no decoder layers (expected modules of the classes its "
            f"_no_split_modules names, got {sorted(names)}), which FSDP2 and activation checkpointing wrap"
        )
    return layers


def checkpoint_layers(model: torch.nn.Module) -> None:
    """Activation checkpointing (non-reentrant) of every decoder layer, in place; a second call changes nothing.

    Parameter names gain ``_checkpoint_wrapped_module.``; ``state_dict()`` keys do not.
    """
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl,
        CheckpointWrapper,
        apply_activation_checkpointing,
        checkpoint_wrapper,
    )

    if any(isinstance(m, CheckpointWrapper) for m in model.modules()):
        return
    layer_types = tuple({type(m) for m in decoder_layers(model)})
    wrapper = functools.partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    apply_activation_checkpointing(model, checkpoint_wrapper_fn=wrapper, check_fn=lambda m: isinstance(m, layer_types))


def shard(policy, context: DistContext, *, bf16: bool) -> None:
    """FSDP2: one unit per decoder layer, the scorer as root; float32 gradient reduction under ``bf16``."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard

    if isinstance(policy.scorer, FSDPModule):
        return
    mesh = init_device_mesh(policy.device.type, (context.world_size,))
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16 else None
    options = {"mesh": mesh, **({"mp_policy": mp} if mp else {})}
    for block in _blocks(policy.model):
        fully_shard(block, reshard_after_forward=True, **options)
    fully_shard(policy.scorer, reshard_after_forward=False, **options)
    # FSDP2 takes the first module to run forward as its root: run the scorer once, so that generation (which calls
    # the causal LM inside it) finds the root set; then reshard the root (it keeps its parameters whole after a
    # forward), so that the optimiser is built over the sharded parameters.
    ids = torch.full((1, 2), policy.tokenizer.eos_token_id, dtype=torch.long, device=policy.device)
    with torch.no_grad():
        policy.scorer(ids, torch.ones_like(ids), 1, temperature=1.0, with_entropy=False, chunk_size=2)
    policy.scorer.reshard()


def _blocks(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The decoder layers, or their activation-checkpointing wrappers (FSDP2's hooks then stay outside the
    recomputed region, so backward does not gather a layer twice)."""
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import CheckpointWrapper

    wrapped = [m for m in model.modules() if isinstance(m, CheckpointWrapper)]
    return wrapped or decoder_layers(model)
