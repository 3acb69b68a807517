"""hicra's verifier as verl's reward: verl's data from a hicra env, and ``compute_score`` as verl loads it.

``examples/verl_reward.yaml`` holds the config lines. This file is also a valid ``custom_reward_function.path``
(it re-exports ``compute_score``)::

    python examples/verl_compute_score.py                                   # score sample responses
    python examples/verl_compute_score.py --write data/arithmetic.parquet   # verl's parquet rows from a hicra env
    python examples/verl_compute_score.py --env hicra/MATH500-v0 --data-path tests/data/math500.jsonl

With verl installed (``make install-verl``), the scores also come through verl's own loader, reading the YAML.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from hicra.verifiers.rewards import compute_score
from hicra_env.datasets import env_rows

__all__ = ["compute_score", "verl_rows"]

CONFIG = Path(__file__).with_name("verl_reward.yaml")


def verl_rows(env_id: str, num_problems: int | None = None, **env_kwargs) -> list[dict]:
    """A hicra env's problems as verl's RL rows: data_source, chat prompt, reward_model.ground_truth, extra_info."""
    return [
        {
            "data_source": env_id,
            "prompt": row["prompt"],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": row["answer"]},
            "extra_info": {"index": index, "problem_id": row["problem_id"]},
        }
        for index, row in enumerate(env_rows(env_id, num_problems, chat=True, **env_kwargs))
    ]


def verl_compute_score():
    """``compute_score`` as verl 0.9 loads it from ``verl_reward.yaml``; ``None`` without verl."""
    if importlib.util.find_spec("verl") is None:
        return None
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    return get_custom_reward_fn(OmegaConf.load(CONFIG))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="hicra/Arithmetic-v0")
    parser.add_argument("--data-path", default=None, help="JSONL/parquet problems for a data env")
    parser.add_argument("--num-problems", type=int, default=None, help="default: 3, or all of --data-path")
    parser.add_argument("--write", type=Path, default=None, help="write verl's parquet rows here")
    args = parser.parse_args(argv)
    env_kwargs = {} if args.data_path is None else {"data_path": args.data_path}
    rows = verl_rows(args.env, args.num_problems or (None if args.data_path else 3), **env_kwargs)
    if args.write is not None:
        import datasets

        args.write.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list(rows).to_parquet(str(args.write))
        print(f"wrote {len(rows)} rows to {args.write}")
    scorers = {"hicra": compute_score, "verl": verl_compute_score()}
    results = []
    for row in rows[:3]:
        gold = row["reward_model"]["ground_truth"]
        for response in (f"... so the answer is \\boxed{{{gold}}}", "I don't know.", f"{gold} or 0"):
            scored = {
                name: fn(row["data_source"], response, gold, row["extra_info"]) for name, fn in scorers.items() if fn
            }
            results.append({"problem_id": row["extra_info"]["problem_id"], "response": response, **scored})
    print("\n".join(json.dumps(r) for r in results))
    return results


if __name__ == "__main__":
    main()
