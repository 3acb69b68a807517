"""Step-0 probe of a policy on a strategy miniature: per family, each strategy's share at temperature 1, accuracy
given the strategy, and token entropy at token 0 against the deciding token (the first after the preamble).

``python -m hicra.agents.tiny_probe --model tiny-v2 --env hicra/MiniatureV2-v0`` prints the table (unseen problems:
indices from 1,000,000, far from any training set); ``--eval-noise RUN_DIR`` instead re-evaluates a run's held-out
accuracy (in distribution and at ``difficulty=2``) with several sampling seeds, for the pre-registration's
power calculation. A response's strategy is the one whose opener it holds
(``"none"`` if no opener appears); the deciding token is the first token whose characters start after the end of
the response's first sentence (the shared preamble ``We have ... .``), so on the first miniature, whose responses
open with the strategy, the second sentence's first token is measured instead: read its column as ``-``.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ProbeRow:
    """One family and strategy at step 0: responses taking it, their accuracy and mean token entropies (nats)."""

    family: str
    strategy: str
    count: int
    share: float
    accuracy: float
    entropy_token0: float
    entropy_decision: float


def strategy_of(text: str, names: list[str]) -> str:
    """The strategy among ``names`` whose opener ``text`` holds, the earliest in the text; ``"none"`` otherwise."""
    from hicra_env.sources import STRATEGIES

    found = [(text.find(STRATEGIES[n].opener), n) for n in names if STRATEGIES[n].opener in text]
    return min(found)[1] if found else "none"


def decision_index(tokenizer, ids: list[int]) -> int | None:
    """Index of the first token whose characters start after the first ``.`` of the decoded response."""
    pieces = [tokenizer.decode([i]) for i in ids]
    text = "".join(pieces)
    end = text.find(".")
    if end < 0:
        return None
    start = 0
    for k, piece in enumerate(pieces):
        if start > end:
            return k
        start += len(piece)
    return None


def probe(model: str, env_id: str, *, problems: int = 128, samples: int = 4, max_new_tokens: int = 80, seed: int = 0):
    """Sample ``samples`` responses to each of ``problems`` unseen problems at T=1 and tabulate them by family and
    strategy (:class:`ProbeRow`, families in turn)."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the ids)
    from hicra_env.sources import strategy_solutions

    from .policy import Policy
    from .sampling import SamplingConfig

    policy, env = Policy.from_pretrained(model), gym.make(env_id)
    posed = [env.reset(options={"index": 1_000_000 + i}) for i in range(problems)]
    prompts, ids = [p for p, _ in posed], [info["problem_id"] for _, info in posed]
    gen = policy.generate(
        prompts, num_samples=samples, sampling=SamplingConfig(max_new_tokens=max_new_tokens), seed=seed
    )
    rows = [ids[i] for i in gen.prompt_index.tolist()]
    rewards, _ = env.get_wrapper_attr("evaluate")(rows, gen.texts)
    entropy = policy.score(gen.input_ids, gen.attention_mask, gen.prompt_length, temperature=1.0, micro_batch_size=64)
    cells: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    for r, (pid, text) in enumerate(zip(rows, gen.texts)):
        names = list(strategy_solutions(pid))
        length = int(gen.response_mask[r].sum())
        k = decision_index(policy.tokenizer, gen.response_ids[r, :length].tolist())
        decision = float(entropy.entropy[r, k]) if k is not None and k < length else float("nan")
        cells[pid.split("-")[0], strategy_of(text, names)].append(
            (float(rewards[r]), float(entropy.entropy[r, 0]), decision)
        )
    totals = defaultdict(int)
    for (family, _), values in cells.items():
        totals[family] += len(values)
    order = list(dict.fromkeys(pid.split("-")[0] for pid in ids))
    return [
        ProbeRow(family, name, len(v), len(v) / totals[family], *(_mean(x) for x in zip(*v)))
        for family in order
        for (f, name), v in sorted(cells.items())
        if f == family
    ]


def eval_noise(
    run_dir: str, *, eval_seeds: int = 3, ood: dict | None = None, initial: bool = False
) -> list[tuple[str, int, float]]:
    """Held-out accuracy of a run's latest checkpoint (step 0's weights if it has none, or with ``initial``)
    re-evaluated with ``eval_seeds`` sampling seeds, on the run's held-out problems and, with ``ood``, on its
    out-of-distribution split (the env made with ``env_kwargs`` updated by ``ood``): ``[(split, eval seed,
    accuracy)]``. The problems are the ones the run recorded in ``heldout_problems.json`` (indices
    ``num_problems ..`` for a run without that file). The spread over eval seeds is the evaluation noise of one
    held-out figure."""
    import json
    from pathlib import Path

    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the ids)

    from .checkpoint import latest_checkpoint
    from .heldout import heldout_counts
    from .policy import Policy
    from .sampling import SamplingConfig

    folder = Path(run_dir)
    train = json.loads((folder / "config.json").read_text())["train"]
    policy = Policy.from_pretrained(train["model"])
    checkpoint = None if initial else latest_checkpoint(run_dir)
    if checkpoint is not None:
        policy.model.load_state_dict(torch.load(checkpoint / "model.pt", map_location="cpu"))
    recorded = (
        json.loads((folder / "heldout_problems.json").read_text())
        if (folder / "heldout_problems.json").is_file()
        else {}
    )
    first, count = train["env_kwargs"]["num_problems"], train["heldout_problems"]
    sampling = SamplingConfig(max_new_tokens=train["max_new_tokens"])
    splits = {"in": ("heldout", train["env_kwargs"])}
    if ood:
        splits["ood"] = ("heldout_ood", {**train["env_kwargs"], **ood})
    results = []
    for split, (key, kwargs) in splits.items():
        env = gym.make(train["env_id"], **kwargs)
        indices = recorded[key]["indices"] if key in recorded else range(first, first + count)
        for seed in range(eval_seeds):
            right, _, problems = heldout_counts(policy, env, indices, sampling, train["heldout_samples"], 10_000 + seed)
            results.append((split, seed, right / (problems * train["heldout_samples"])))
    return results


def _mean(values: tuple[float, ...]) -> float:
    """Mean of the finite values (a response too short for a deciding token has nan there)."""
    finite = [v for v in values if v == v]
    return sum(finite) / len(finite) if finite else float("nan")


def main(argv: list[str] | None = None) -> None:
    """Print the probe's table (markdown)."""
    parser = argparse.ArgumentParser(prog="python -m hicra.agents.tiny_probe", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny-v2")
    parser.add_argument("--env", default="hicra/MiniatureV2-v0")
    parser.add_argument("--problems", type=int, default=128)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-noise", metavar="RUN_DIR", help="instead: re-evaluate a run's held-out accuracy")
    parser.add_argument("--eval-seeds", type=int, default=3)
    parser.add_argument("--initial", action="store_true", help="with --eval-noise: the run's starting weights")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.eval_noise:
        for split, seed, accuracy in eval_noise(
            args.eval_noise, eval_seeds=args.eval_seeds, ood={"difficulty": 2}, initial=args.initial
        ):
            print(f"{args.eval_noise}\t{split}\teval seed {seed}\theld-out accuracy {accuracy:.4f}")
        return
    table = probe(args.model, args.env, problems=args.problems, samples=args.samples,
                  max_new_tokens=args.max_new_tokens, seed=args.seed)  # fmt: skip
    print("| family | strategy | responses | share | accuracy | entropy token 0 | entropy deciding token |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in table:
        print(
            f"| {row.family} | {row.strategy} | {row.count} | {row.share:.2f} | {row.accuracy:.2f} | "
            f"{row.entropy_token0:.3f} | {row.entropy_decision:.3f} |"
        )


if __name__ == "__main__":
    main()
