"""Atomic checkpoints: a run killed mid-write never leaves a corrupt checkpoint behind.

Layout of a run directory::

    run_dir/checkpoints/step-000010/{model.pt, optimizer.pt, state.json}
    run_dir/checkpoints/step-000010/{dcp/, state.json}   # sharded (FSDP2): torch.distributed.checkpoint
    run_dir/checkpoints/latest            # text file naming the newest complete checkpoint

A model training LoRA adapters (:mod:`hicra.agents.lora`) writes ``adapter/`` (peft's format: ``adapter_config.json``,
``adapter_model.safetensors``; ``hicra eval --model .../adapter`` reads it) instead of ``model.pt``: the frozen base
comes back from the run's ``train.model``. Sharded, its DCP state holds the adapters' shards only.

``model.pt`` and ``optimizer.pt`` hold full state dicts (a single process, or rank 0 of a DDP run, whose ranks
hold equal copies). A run sharded with FSDP2 writes :func:`save_sharded_checkpoint`: every rank writes its shards
with ``torch.distributed.checkpoint`` (DCP, which reshards on load, so a run can resume on another number of
ranks), into a directory every rank sees.

A checkpoint is written into a temporary sibling directory, flushed to disk, then renamed into place (an atomic
rename on POSIX); only after that is ``latest`` replaced (write-to-temp + ``os.replace``). A crash at any point
leaves either the previous ``latest`` or the new one, each pointing at a complete directory.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .lora import has_adapters, load_adapter_state, restore_adapter, save_adapter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load_checkpoint` returns: tensors on CPU, and the JSON-able trainer state."""

    path: Path
    model_state: dict[str, torch.Tensor] | None
    """None for a sharded checkpoint: :func:`restore_checkpoint` loads it into the sharded model. The adapter
    weights alone (peft's names) for a LoRA checkpoint."""
    optimizer_state: dict[str, Any] | None
    state: dict[str, Any]
    adapter: bool = False
    """Written by a model training LoRA adapters: the adapters (and their optimiser state) only."""

    @property
    def sharded(self) -> bool:
        """Written by :func:`save_sharded_checkpoint` (FSDP2)."""
        return self.model_state is None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(folder)


def _write_file(path: Path, write) -> None:
    with open(path, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def save_checkpoint(
    run_dir: str | Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict,
    keep: int = 2,
) -> Path:
    """Atomically write checkpoint ``step`` under ``run_dir/checkpoints`` and point ``latest`` at it."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".step-{step:06d}-", dir=root))
    try:
        if has_adapters(model):
            save_adapter(model, tmp / "adapter")
            _fsync_tree(tmp / "adapter")
        else:
            _write_file(tmp / "model.pt", lambda fh: torch.save(model.state_dict(), fh))
        _write_file(tmp / "optimizer.pt", lambda fh: torch.save(optimizer.state_dict(), fh))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _publish(root, tmp, step, state, keep)


def save_sharded_checkpoint(
    run_dir: str | Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict,
    keep: int = 2,
) -> Path:
    """:func:`save_checkpoint` for a model sharded with FSDP2; every rank calls it (a collective).

    Each rank writes its shards of ``model`` and ``optimizer`` with ``torch.distributed.checkpoint``; rank 0 then
    publishes the directory as atomically as the unsharded format.
    """
    import torch.distributed as dist
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    root, main = Path(run_dir) / "checkpoints", dist.get_rank() == 0
    tmp = root / f".step-{step:06d}-sharded"
    if main:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    dist.barrier()
    model_state, optimizer_state = get_state_dict(model, optimizer, options=_dcp_options(model))
    dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=tmp / "dcp")
    final = _publish(root, tmp, step, state, keep) if main else root / f"step-{step:06d}"
    dist.barrier()
    return final


def save_run_checkpoint(
    run_dir: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict,
    keep: int,
    *,
    sharded: bool,
    dist,
) -> Path:
    """A training run's checkpoint: every rank its shards (``sharded``, FSDP2), else rank 0 the whole model; every
    rank calls it and returns the checkpoint's folder."""
    if sharded:
        return save_sharded_checkpoint(run_dir, step, model, optimizer, state, keep)
    path = save_checkpoint(run_dir, step, model, optimizer, state, keep) if dist.is_main else None
    dist.barrier()
    return path or Path(run_dir) / "checkpoints" / f"step-{step:06d}"


def _publish(root: Path, tmp: Path, step: int, state: dict, keep: int) -> Path:
    """Add ``state.json`` to the written ``tmp``, rename it to ``step-N`` and point ``latest`` at it."""
    final = root / f"step-{step:06d}"
    try:
        payload = json.dumps({**state, "step": step, "torch_rng": torch.get_rng_state().tolist()}).encode()
        _write_file(tmp / "state.json", lambda fh: fh.write(payload))
        _fsync_dir(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer_tmp = root / ".latest.tmp"
    _write_file(pointer_tmp, lambda fh: fh.write(final.name.encode()))
    os.replace(pointer_tmp, root / "latest")
    _fsync_dir(root)
    _prune(root, keep)
    log.info("checkpoint written: %s", final)
    return final


def _prune(root: Path, keep: int) -> None:
    done = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".step-*"):  # temporaries of a run killed mid-write
        shutil.rmtree(stale, ignore_errors=True)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint directory of a run, or None."""
    pointer = Path(run_dir) / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = pointer.parent / pointer.read_text().strip()
    return path if (path / "state.json").is_file() else None


PARTIAL_LOGS = ("metrics.jsonl", "heldout.jsonl", "rollouts.jsonl", "tensorboard", "wandb")
"""What a run writes besides checkpoints and ``config.json``: set aside when a run starts over."""


def set_aside_partial_logs(run_dir: str | Path) -> Path | None:
    """Move the logs of a run that wrote no checkpoint into ``run_dir/partial-<k>/`` (the first free k), so that
    a run started over does not append to them; the folder, or None when there was nothing to move."""
    present = [Path(run_dir) / name for name in PARTIAL_LOGS if (Path(run_dir) / name).exists()]
    if not present:
        return None
    k = 0
    while (Path(run_dir) / f"partial-{k}").exists():
        k += 1
    aside = Path(run_dir) / f"partial-{k}"
    aside.mkdir()
    for path in present:
        os.replace(path, aside / path.name)
    return aside


def load_checkpoint(run_dir: str | Path) -> Checkpoint:
    """Load the newest complete checkpoint of ``run_dir``; raises FileNotFoundError naming the folder."""
    path = latest_checkpoint(run_dir)
    if path is None:
        raise FileNotFoundError(
            f"no checkpoint in {run_dir}: expected {Path(run_dir) / 'checkpoints' / 'latest'} "
            "(was the run started with a run directory and stopped after its first checkpoint?)"
        )
    sharded, adapter = (path / "dcp").is_dir(), (path / "adapter").is_dir()
    if sharded:
        model_state = None
    elif adapter:
        model_state = load_adapter_state(path / "adapter")
    else:
        model_state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    optimizer_state = None if sharded else torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True)
    state = json.loads((path / "state.json").read_text())
    torch.set_rng_state(torch.tensor(state.pop("torch_rng"), dtype=torch.uint8))
    return Checkpoint(path=path, model_state=model_state, optimizer_state=optimizer_state, state=state, adapter=adapter)


def _dcp_options(model):
    """DCP state-dict options: a LoRA model's frozen base is not part of its checkpoint (so loading it cannot be
    strict; ``dcp.load`` still fails on an adapter tensor the checkpoint lacks)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    adapters = has_adapters(model)
    return StateDictOptions(ignore_frozen_params=adapters, strict=not adapters)


def restore_checkpoint(checkpoint: Checkpoint, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Load ``checkpoint``'s model and optimizer state into ``model`` and ``optimizer``.

    A sharded checkpoint loads into a model sharded with FSDP2 on any number of ranks (or an unsharded one); a
    full one into an unsharded model (a single process or DDP).
    """
    if checkpoint.sharded:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        options = _dcp_options(model)
        model_state, optimizer_state = get_state_dict(model, optimizer, options=options)
        states = {"model": model_state, "optimizer": optimizer_state}
        dcp.load(states, checkpoint_id=checkpoint.path / "dcp")
        set_state_dict(
            model, optimizer, model_state_dict=states["model"], optim_state_dict=states["optimizer"], options=options
        )
        return
    if checkpoint.adapter != has_adapters(model):
        has, wants = ("LoRA adapters", "full weights") if checkpoint.adapter else ("full weights", "LoRA adapters")
        raise ValueError(
            f"{checkpoint.path}: expected a checkpoint of {wants} for this model, got one of {has}: resume with the "
            "run's own train.lora"
        )
    if checkpoint.adapter:
        restore_adapter(model, checkpoint.model_state)
        optimizer.load_state_dict(checkpoint.optimizer_state)
        return
    if any(hasattr(p, "full_tensor") for p in model.parameters()):
        raise ValueError(
            f"{checkpoint.path}: expected a sharded checkpoint for a model sharded with FSDP2, got full state dicts "
            "(written by a single process or DDP); resume this run with parallelism='ddp'"
        )
    model.load_state_dict(checkpoint.model_state)
    optimizer.load_state_dict(checkpoint.optimizer_state)
