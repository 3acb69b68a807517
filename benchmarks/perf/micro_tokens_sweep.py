"""Update time of one training step by micro-batch size and token budget, on the same rollout batches.

    python -m hicra.benchmarks.perf.micro_tokens_sweep [--model tiny] [--budgets 512,1024,2048,4096] [--reps 5]

A ``Trainer`` samples a few rollout batches (``TrainConfig`` defaults: 8 prompts x 8 completions of <= 48 tokens,
micro-batch 16 rows); then ``Trainer.update`` runs on each batch with every setting (rows, then each token budget),
the settings taking turns in every repetition, so a machine whose speed drifts slows all alike. Reported per setting:
median update seconds, its ratio to the row micro-batches', forward/backward passes per update and the padded
tokens they score (rows x width summed over micro-batches). This is how ``bench_trl``'s token budget was chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from .report import md_table


def padded_tokens(batch, chunks, trimmed: bool) -> int:
    """Tokens the passes score: rows x (trimmed width, or the batch's full width P + T) per micro-batch."""
    from hicra.agents.micro_batches import trim_padding

    width = batch.input_ids.shape[1]
    if not trimmed:
        return sum(len(c) * width for c in chunks)
    return sum(len(c) * trim_padding(batch.input_ids[c], batch.attention_mask[c], batch.prompt_length)[0].shape[1]
               for c in chunks)  # fmt: skip


def sweep(model: str, budgets: list[int], reps: int, batches: int, seed: int = 0) -> dict:
    """Every setting's update times on ``batches`` rollout batches, ``reps`` repetitions taking turns."""
    import torch

    from hicra.agents import TrainConfig, Trainer, make_agent
    from hicra.agents.micro_batches import micro_batches

    base = TrainConfig(model=model, seed=seed)
    trainer = Trainer(make_agent("grpo"), base)
    rollouts = []
    for step in range(batches):
        trainer.step = step
        batch = trainer.rollout({})
        rollouts.append((batch, trainer.agent.credit(batch, torch.Generator().manual_seed(step))))
    settings = [("rows", None)] + [(f"<= {b} tokens", b) for b in budgets]
    times: dict[str, list[float]] = {name: [] for name, _ in settings}
    shape: dict[str, dict] = {}
    for name, budget in settings:
        chunks = [micro_batches(b, torch.arange(len(b)), base.micro_batch_size, budget) for b, _ in rollouts]
        shape[name] = {"passes": statistics.mean(map(len, chunks)),
                       "padded_tokens": statistics.mean(padded_tokens(b, c, budget is not None)
                                                        for (b, _), c in zip(rollouts, chunks))}  # fmt: skip
    for rep in range(reps + 1):  # the first round warms up
        for name, budget in settings:
            trainer.config = TrainConfig(model=model, seed=seed, micro_batch_tokens=budget)
            for batch, credit in rollouts:
                start = time.perf_counter()
                trainer.update(batch, credit)
                if rep:
                    times[name].append(time.perf_counter() - start)
    rows_median = statistics.median(times["rows"])
    return {
        name: {"update_s": statistics.median(t), "vs_rows_x": rows_median / statistics.median(t), **shape[name]}
        for name, t in times.items()
    } | {"response_tokens": statistics.mean(float(b.response_mask.sum(1).float().mean()) for b, _ in rollouts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--budgets", default="512,1024,2048,4096", help="comma-separated token budgets")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument("--batches", type=int, default=3, help="rollout batches (default 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="a JSON file for the results")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    result = sweep(args.model, [int(b) for b in args.budgets.split(",")], args.reps, args.batches)
    result |= {"before_load_1m": load, "after_load_1m": os.getloadavg()[0]}
    rows = [[name, f"{r['update_s']:.3f}", f"{r['vs_rows_x']:.2f}", f"{r['passes']:.1f}", f"{r['padded_tokens']:,.0f}"]
            for name, r in result.items() if isinstance(r, dict)]  # fmt: skip
    headers = ["micro-batches", "update (s)", "faster than rows (x)", "passes (passes)", "padded (tokens)"]
    print(md_table(headers, rows))
    print(f"mean response {result['response_tokens']:.1f} tokens; load {load:.2f} -> {result['after_load_1m']:.2f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
