"""TRL's GRPOTrainer with hicra's verifier as the reward and HICRA's credit assignment, on a hicra env.

Runs as written on a fresh clone (CPU, the shipped 0.5M-parameter ``tiny`` policy, no download)::

    pip install -e '.[trl]'
    python examples/trl_grpo_hicra.py                       # 4 steps of 4 problems x 4 completions, ~2 CPU-minutes
    python examples/trl_grpo_hicra.py --steps 1 --group 2 --prompts 1 --max-new-tokens 8   # the smallest run
    python examples/trl_grpo_hicra.py --env hicra/MATH500-v0 --data-path tests/data/math500.jsonl --alpha 0.0

The default env is the strategy miniature (``benchmarks/presets/miniature.toml``), where the tiny policy solves about
a quarter of the problems and its completions open with Strategic Grams, so rewards, ``planning_ratio`` and
``semantic_entropy`` all move (one run: mean reward 0.19 and semantic entropy 1.7 bits on its last step).
``--alpha 0`` is TRL's plain GRPO. On a GPU, pass ``--model`` a hub id (e.g. ``Qwen/Qwen2.5-Math-1.5B``) and
``--chat`` for an instruct model's chat template; this path has run only on CPU so far.
"""

from __future__ import annotations

import argparse
import json

from trl import GRPOConfig

from hicra.agents import Policy
from hicra.agents.trl_trainer import HICRAGRPOTrainer
from hicra.verifiers.rewards import VerifierReward
from hicra_env.datasets import env_dataset

SHOWN = ("reward", "rewards/verifier_reward/mean", "planning_ratio", "semantic_entropy", "entropy", "train_loss")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="hicra/Miniature-v0", help="a registered hicra env id")
    parser.add_argument("--data-path", default=None, help="JSONL/parquet problems for a data env (e.g. MATH500)")
    parser.add_argument("--num-problems", type=int, default=None, help="training set size (default: prompts x steps)")
    parser.add_argument("--model", default="tiny", help="a hicra preset, a model folder or a hub id")
    parser.add_argument("--chat", action="store_true", help="prompts as one user turn (the model's chat template)")
    parser.add_argument("--alpha", type=float, default=0.2, help="HICRA's alpha (0: TRL's GRPO)")
    parser.add_argument("--steps", type=int, default=4, help="optimiser steps")
    parser.add_argument("--prompts", type=int, default=4, help="problems per step")
    parser.add_argument("--group", type=int, default=4, help="completions per problem (G)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--out", default="runs/trl-hicra", help="TRL's output_dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    policy = Policy.from_pretrained(args.model)  # model + tokenizer (pad token set, left padding)
    env_kwargs = {} if args.data_path is None else {"data_path": args.data_path}
    dataset = env_dataset(
        args.env, args.num_problems or args.prompts * args.steps, seed=0, chat=args.chat, **env_kwargs
    )
    config = GRPOConfig(
        output_dir=args.out, max_steps=args.steps, seed=0,
        per_device_train_batch_size=args.prompts * args.group, num_generations=args.group,
        max_completion_length=args.max_new_tokens, temperature=1.0, top_p=1.0, top_k=0,
        scale_rewards="none",  # the paper's GRPO: rewards centred per group, not divided by the group's std
        loss_type="dapo", epsilon=0.2, epsilon_high=0.28, beta=0.0,  # clip-higher, token-mean, no KL (hicra's loss)
        learning_rate=args.lr, lr_scheduler_type="constant", logging_steps=1, report_to="none",
        save_strategy="no", use_cpu=policy.device.type == "cpu", gradient_checkpointing=False, disable_tqdm=True,
    )  # fmt: skip
    trainer = HICRAGRPOTrainer(
        model=policy.model, processing_class=policy.tokenizer, args=config, train_dataset=dataset,
        reward_funcs=[VerifierReward(timeout_s=5.0)], alpha=args.alpha,
    )  # fmt: skip
    trainer.train()
    last = {k: v for row in trainer.state.log_history for k, v in row.items() if k in SHOWN}
    print(json.dumps({"steps": trainer.state.global_step, **last}))
    return last


if __name__ == "__main__":  # the verifier's worker processes re-import nothing from here
    main()
