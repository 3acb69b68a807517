"""Run by ``torchrun`` from tests/agents/test_distributed.py (one process per rank, gloo on CPU); not a test module.

``update IN OUT``: each configuration in IN (``{"batch", "configs": [(agent, agent kwargs, TrainConfig), ...]}``) gets a
fresh trainer; every rank takes its groups of the global batch, assigns their credit and runs one
``Trainer.update``. Rank 0 saves, per configuration, the full parameters and gradients after the update, the
step's metrics over the global batch and each rank's number of forward passes in the update.

``runs OUT_DIR SPEC_JSON``: a straight run of ``steps`` steps and a run of ``steps // 2`` steps (to be resumed by the
test with ``hicra train --resume``) of HICRA, both from ``{"agent": {AgentConfig fields}, "train": {TrainConfig
fields}}``.

``rollout OUT``: a trainer of ``forking_tokens`` samples and scores one step (dynamic sampling on); rank 0 saves every
rank's batch, its forking-token gradient mask and the matched ``high_entropy`` credit mask, and the merged batch.

``vllm OUT_DIR PARALLELISM``: a trainer sampling with the vllm engine; each rank writes ``rank-R.json`` with how far
its engine's log-probs are from the trainer's before and after one update, and how far that update moved them.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch

torch.set_num_threads(1)

from hicra.agents import TrainConfig, Trainer, make_agent  # noqa: E402
from hicra.agents.distributed import _cpu, gather_step, teardown  # noqa: E402
from hicra.agents.records import UpdateResult, step_metrics  # noqa: E402
from hicra.agents.rollout import TokenScores  # noqa: E402


def full(tensor: torch.Tensor) -> torch.Tensor:
    """A parameter or gradient as a whole tensor (gathered from the ranks' shards under FSDP2)."""
    return (tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor).detach().clone()


def one_update(name: str, agent_kwargs: dict, config: TrainConfig, batch) -> dict | None:
    trainer = Trainer(make_agent(name, **agent_kwargs), config)
    share = trainer.dist.shard(config.prompts_per_step, "prompts_per_step")
    local = batch.select(torch.nonzero(torch.isin(batch.group_ids, torch.tensor(list(share)))).flatten())
    local = trainer.score(local) if trainer.score_first else local  # as train_step: several epochs score first
    credit = trainer.agent.credit(local, torch.Generator().manual_seed(0))
    passes: list[int] = []
    hook = trainer.policy.scorer.register_forward_hook(lambda *args: passes.append(1))
    update = trainer.update(local, credit)
    hook.remove()
    per_rank = trainer.dist.gather(len(passes))
    params = {k: full(p) for k, p in trainer.policy.model.named_parameters()}
    grads = {k: full(p.grad) for k, p in trainer.policy.model.named_parameters()}
    merged = gather_step(trainer.dist, local, credit, update, {}, trainer.policy.tokenizer.pad_token_id)
    grams, tis_cap = trainer.grams, trainer.agent.config.tis_cap
    del trainer, update, credit
    gc.collect()  # this trainer's DDP/FSDP wrappers go now, on every rank at once, not at a later collection
    if merged is None:
        return None
    metrics = step_metrics(0, *merged[:3], grams, perplexity0=None, tis_cap=tis_cap, timings={})
    return {"params": params, "grads": grads, "metrics": asdict(metrics), "passes": per_rank}


def engine_gap(trainer: Trainer, seed: int) -> tuple[float, torch.Tensor, object]:
    """Max |sampler - trainer| log-prob over a fresh sample of this rank's engine; the trainer's log-probs; the
    sample."""
    prompts = [f"What is {a} + {b}?" for a, b in [(3, 4), (10, 2)]]
    gen = trainer.policy.generate(prompts, num_samples=4, sampling=trainer.sampling, seed=seed)
    with torch.no_grad():
        logprobs, _ = trainer.policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)
    return float((logprobs - gen.logprobs).abs().max()), logprobs, gen


def vllm_update(out: Path, parallelism: str) -> None:
    config = TrainConfig(prompts_per_step=2, group_size=4, max_new_tokens=12, micro_batch_size=4, lr=1e-2,
                         engine="vllm", vllm_kv_cache_gib=0.25, parallelism=parallelism)  # fmt: skip
    trainer = Trainer(make_agent("grpo"), config)
    rank = trainer.dist.rank
    before, old, sample = engine_gap(trainer, seed=1_000 * (rank + 1))  # far apart: vLLM seeds sample j with s + j
    batch = trainer.rollout({})
    batch = replace(batch, rewards=torch.arange(len(batch)).remainder(2).float())  # a learning signal in every group
    update = trainer.update(batch, trainer.agent.credit(batch, torch.Generator()))
    with torch.no_grad():
        new, _ = trainer.policy.token_logprobs(sample.input_ids, sample.attention_mask, sample.prompt_length)
    after, _, _ = engine_gap(trainer, seed=1_000 * (rank + 1) + 500)
    result = {"before": before, "after": after, "moved": float((new - old).abs().max()), "grad_norm": update.grad_norm}
    (out / f"rank-{rank}.json").write_text(json.dumps(result))


def rollout_step(out: Path) -> None:
    config = TrainConfig(prompts_per_step=4, group_size=2, max_new_tokens=8, micro_batch_size=4)
    trainer = Trainer(make_agent("forking_tokens", dynamic_sampling=True, max_extra_rounds=1), config)
    batch = trainer.score(trainer.rollout({}))
    forking = trainer.agent.credit(batch, torch.Generator())
    matched = make_agent("high_entropy").credit(batch, torch.Generator())
    parts = trainer.dist.gather(_cpu((batch, forking.loss_mask, matched.amplified)))
    merged = gather_step(trainer.dist, batch, forking, UpdateResult(0.0, 0.0, 0.0, False, TokenScores(
        batch.old_logprobs, batch.entropy)), {}, trainer.policy.tokenizer.pad_token_id)  # fmt: skip
    if parts is not None:
        torch.save({"parts": parts, "merged": merged[0]}, out)


def main() -> None:
    faulthandler.enable()  # a rank that aborts in C++ (SIGABRT) prints where its Python was
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
    elif mode == "rollout":
        rollout_step(Path(args[0]))
    elif mode == "vllm":
        vllm_update(Path(args[0]), args[1])
        return  # the engine leaves the process group itself, at exit
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    torch.distributed.barrier()  # rank 0 saves while the others wait: every rank leaves the group together
    teardown()


if __name__ == "__main__":
    main()
    if sys.argv[1] != "update":
        sys.exit(0)  # runs: the trainers closed their files; vllm: vLLM's own shutdown (at exit) leaves the group
    # update: rank 0's results are saved and the group is left. Exit without the interpreter's teardown, whose
    # order of C++ destructors is not under test (CI saw a rank of this mode abort with "terminate called without an
    # active exception"; not reproduced on the development machine).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
