"""Run by ``torchrun`` from tests/agents/test_lora_distributed.py (2 processes, gloo on CPU); not a test module.

``python lora_distributed_worker.py PARALLELISM OUT``: a LoRA policy (tiny, r=4) with a KL to its base trains 2
HICRA steps under ``ddp`` or ``fsdp`` (``straight``); a second run trains 1 step, checkpoints, and a third trainer
restores that checkpoint and trains the second step (``resumed``). Rank 0 saves both runs' whole parameters, the
step metrics and the checkpoint's file names to ``OUT/result.pt``.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

torch.set_num_threads(1)

from hicra.agents import Policy, TrainConfig, Trainer, make_agent  # noqa: E402
from hicra.agents.checkpoint import load_checkpoint, restore_checkpoint  # noqa: E402
from hicra.agents.distributed import teardown  # noqa: E402
from hicra.agents.lora import LoraConfig  # noqa: E402


class ParityReward(gym.Wrapper):
    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32), infos


def full(tensor: torch.Tensor) -> torch.Tensor:
    return (tensor.full_tensor() if hasattr(tensor, "full_tensor") else tensor).detach().clone()


def trainer(config: TrainConfig, run_dir: Path) -> Trainer:
    policy = Policy.from_pretrained("tiny", lora=config.lora)
    env = ParityReward(gym.make("hicra/Arithmetic-v0"))
    return Trainer(make_agent("hicra", kl_coef=0.1), config, policy=policy, env=env, run_dir=run_dir)


def main(parallelism: str, out: Path) -> None:
    config = TrainConfig(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=8, micro_batch_size=8, lr=1e-2,
                         parallelism=parallelism, lora=LoraConfig(r=4), checkpoint_every=1)  # fmt: skip
    straight = trainer(config, out / "straight")
    history = straight.train(progress=False)
    result = {"straight": {k: full(p) for k, p in straight.policy.model.named_parameters()},
              "trainable": [k for k, p in straight.policy.model.named_parameters() if p.requires_grad],
              "metrics": [(m.kl, m.grad_norm, m.loss) for m in history]}  # fmt: skip
    del straight
    gc.collect()
    half = trainer(config, out / "half")
    half.train(steps=1, progress=False)
    del half
    gc.collect()
    resumed = trainer(config, out / "half")
    ckpt = load_checkpoint(out / "half")
    restore_checkpoint(ckpt, resumed.policy.model, resumed.optimizer)
    resumed.step, resumed.perplexity0 = ckpt.state["step"], tuple(ckpt.state["perplexity0"] or ()) or None
    resumed.train(progress=False)
    result["resumed"] = {k: full(p) for k, p in resumed.policy.model.named_parameters()}
    result["checkpoint"] = sorted(p.relative_to(ckpt.path).as_posix() for p in ckpt.path.rglob("*") if p.is_file())
    if resumed.dist.is_main:
        torch.save(result, out / "result.pt")
    del resumed
    gc.collect()
    teardown()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
