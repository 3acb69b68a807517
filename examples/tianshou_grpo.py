"""Train the tiny policy with GRPO (or HICRA, entropy-GRPO, any hicra agent) through tianshou 2's own Collector and
OnPolicyTrainer, on a hicra env.

    pip install -e '.[tianshou]'
    python examples/tianshou_grpo.py                                  # GRPO on hicra/Miniature-v0, 4 updates
    python examples/tianshou_grpo.py --agent hicra --logdir runs/ts   # HICRA, TensorBoard logs in runs/ts
    python examples/tianshou_grpo.py --steps 1 --prompts 1 --group-size 2 --max-new-tokens 8   # the smallest run
    python examples/tianshou_grpo.py --device cuda                    # on a GPU (not run on one yet)

Each update collects one round: ``prompts x group-size`` envs, the G envs of a group on one problem, one response
each. tianshou's trainer hands the round to the algorithm, whose update is hicra's own (credit, PPO loss, metrics);
every update's hicra metrics are printed (and, with ``--logdir``, written by tianshou's TensorboardLogger).
"""

from __future__ import annotations

import argparse

from tianshou.data import Collector, VectorReplayBuffer
from tianshou.trainer import OnPolicyTrainerParams
from tianshou.utils import LazyLogger, TensorboardLogger

from hicra.agents import AGENTS, TrainConfig, make_agent
from hicra.agents.tianshou_algorithms import make_algorithm, make_vector_env

SHOWN = ("reward", "accuracy", "response_length", "planning_ratio", "semantic_entropy", "loss", "grad_norm")


class PrintLogger(LazyLogger):
    """Prints every update's hicra metrics; forwards every row to tianshou's TensorboardLogger when given one."""

    def __init__(self, tensorboard: TensorboardLogger | None = None) -> None:
        super().__init__()
        self.training_interval = self.update_interval = 1
        self.tensorboard = tensorboard

    def write(self, step_type: str, step: int, data: dict) -> None:
        if step_type == "update/update_step":
            print(f"update {step}: " + "  ".join(f"{key}={data[key]:.4g}" for key in SHOWN), flush=True)
        if self.tensorboard is not None:
            self.tensorboard.write(step_type, step, self.tensorboard.prepare_dict_for_logging(data))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="grpo", choices=sorted(AGENTS))
    parser.add_argument("--env", default="hicra/Miniature-v0", help="any registered hicra env id")
    parser.add_argument("--model", default="tiny", help="a preset, hub id or local path")
    parser.add_argument("--device", default="cpu", help="torch device of the policy (cpu, cuda, cuda:1, ...)")
    parser.add_argument("--steps", type=int, default=4, help="updates (one collected round each)")
    parser.add_argument("--prompts", type=int, default=2, help="problems per round (B)")
    parser.add_argument("--group-size", type=int, default=4, help="responses per problem (G)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--venv", default="dummy", choices=["dummy", "subproc"], help="tianshou vector env")
    parser.add_argument("--logdir", default=None, help="also write TensorBoard logs here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = TrainConfig(
        env_id=args.env, model=args.model, device=args.device, prompts_per_step=args.prompts,
        group_size=args.group_size, max_new_tokens=args.max_new_tokens, lr=args.lr, seed=args.seed,
    )  # fmt: skip
    envs = make_vector_env(config, args.venv)
    algorithm = make_algorithm(make_agent(args.agent), config, envs.action_space[0])
    n = len(envs)
    tensorboard = None
    if args.logdir:
        from torch.utils.tensorboard import SummaryWriter

        tensorboard = TensorboardLogger(SummaryWriter(args.logdir))
    params = OnPolicyTrainerParams(
        training_collector=Collector(algorithm, envs, VectorReplayBuffer(n, n)),
        max_epochs=1, epoch_num_steps=args.steps * n, collection_step_num_env_steps=n,
        batch_size=None, update_step_num_repetitions=config.ppo_epochs,
        logger=PrintLogger(tensorboard), show_progress=False, verbose=False,
    )  # fmt: skip
    info = algorithm.run_training(params)
    envs.close()
    print(f"{args.agent}: {info.update_step} updates on {info.train_step} responses to {args.env} via tianshou")


if __name__ == "__main__":
    main()
