"""Run by ``torchrun`` from tests/agents/test_distributed.py (one process per rank, gloo on CPU); not a test module.

``update IN OUT``: each configuration in IN (``{"batch", "configs": [(agent, agent kwargs, TrainConfig), ...]}``) gets a
fresh trainer; every rank takes its groups of the global batch, assigns their credit and runs one
``Trainer.update``. Rank 0 saves, per configuration, the full parameters and gradients after the update and the
step's metrics over the global batch.

``runs OUT_DIR SPEC_JSON``: a straight run of ``steps`` steps and a run of ``steps // 2`` steps (to be resumed by the
test with ``hicra train --resume``) of HICRA, both from ``{"agent": {AgentConfig fields}, "train": {TrainConfig
fields}}``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch

torch.set_num_threads(1)

from hicra.agents import TrainConfig, Trainer, make_agent  # noqa: E402
from hicra.agents.distributed import gather_step  # noqa: E402
from hicra.agents.records import step_metrics  # noqa: E402


def full(tensor: torch.Tensor) -> torch.Tensor:
    """A parameter or gradient as a whole tensor (gathered from the ranks' shards under FSDP2)."""
    return (tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor).detach().clone()


def one_update(name: str, agent_kwargs: dict, config: TrainConfig, batch) -> dict | None:
    trainer = Trainer(make_agent(name, **agent_kwargs), config)
    share = trainer.dist.shard(config.prompts_per_step, "prompts_per_step")
    local = batch.select(torch.nonzero(torch.isin(batch.group_ids, torch.tensor(list(share)))).flatten())
    credit = trainer.agent.credit(local, torch.Generator().manual_seed(0))
    update = trainer.update(local, credit)
    params = {k: full(p) for k, p in trainer.policy.model.named_parameters()}
    grads = {k: full(p.grad) for k, p in trainer.policy.model.named_parameters()}
    merged = gather_step(trainer.dist, local, credit, update, {}, trainer.policy.tokenizer.pad_token_id)
    if merged is None:
        return None
    metrics = step_metrics(
        0, *merged[:3], trainer.grams, perplexity0=None, tis_cap=trainer.agent.config.tis_cap, timings={}
    )
    return {"params": params, "grads": grads, "metrics": asdict(metrics)}


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "update":
        spec = torch.load(args[0], weights_only=False)
        results = [one_update(*config, spec["batch"]) for config in spec["configs"]]
        if torch.distributed.get_rank() == 0:
            torch.save(results, args[1])
    elif mode == "runs":
        out, spec = Path(args[0]), json.loads(args[1])
        config = TrainConfig(**spec["train"])
        Trainer(make_agent("hicra", **spec["agent"]), config, run_dir=out / "straight").train(progress=False)
        half = replace(config, steps=config.steps // 2)
        Trainer(make_agent("hicra", **spec["agent"]), half, run_dir=out / "resumed").train(progress=False)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
