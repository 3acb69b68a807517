"""Ground truth for ``hicra grams build``: mine a lexicon from the tiny policy's own successful solutions on the
strategy miniature, and compare it with the strategies' openings and with the paper's list.

    python -m hicra.benchmarks.perf.mine_miniature_grams [--problems 400] [--samples 4] [--out runs/grams-miniature]
        [--min-cdf 0] [--distance-threshold 0.5] [--top-fraction 0.2] [--keep-numeric]

Every worked solution of a ``hicra/Miniature-v0`` strategy opens with that strategy's words
(:data:`hicra_env.sources.strategies.STRATEGIES`), and the rest is short arithmetic. The script samples
``--samples`` responses to each of ``--problems`` prompts with the shipped ``tiny`` policy (``Policy.generate``,
temperature 1, as a training rollout samples), scores them with the env's ``evaluate`` (as the trainer does), and
writes them as ``<out>/rollouts.jsonl`` (``text``, ``correct``, ``reward``, ``problem_id`` per line; sampled once,
reused on later runs). It mines a lexicon from the successful ones (:func:`hicra.agents.gram_report.build_lexicon`,
default options unless given) into ``<out>/lexicon/`` (``lexicon-<option>-<value>/`` with other options), and
writes ``comparison.json`` / ``.md`` there: which strategy openings the lexicon recovers (a 3-5-word n-gram of the
opening is kept), which kept grams are procedural (outside every opening), and the overlap with the paper's list.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def sample_rollouts(problems: int, samples: int, seed: int, max_new_tokens: int) -> list[dict]:
    """``problems x samples`` scored responses of the tiny policy on ``hicra/Miniature-v0``, one dict per response."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)
    from hicra.agents import Policy, SamplingConfig

    env = gym.make("hicra/Miniature-v0")
    policy = Policy.from_pretrained("tiny")
    sampling = SamplingConfig(temperature=1.0, max_new_tokens=max_new_tokens)
    rows: list[dict] = []
    for start in range(0, problems, 64):
        prompts, ids = [], []
        for b in range(start, min(problems, start + 64)):
            obs, info = env.reset(seed=seed + b)
            prompts.append(obs)
            ids.append(info["problem_id"])
        gen = policy.generate(prompts, num_samples=samples, sampling=sampling, seed=seed + start)
        row_ids = [ids[i] for i in gen.prompt_index.tolist()]
        rewards, infos = env.get_wrapper_attr("evaluate")(row_ids, gen.texts)
        for pid, text, reward, info in zip(row_ids, gen.texts, rewards, infos, strict=True):
            rows.append({"problem_id": pid, "text": text, "correct": bool(info["correct"]), "reward": float(reward)})
    return rows


def compare(result, openers: dict[str, str], paper: list[str]) -> dict:
    """How a mined lexicon (a :class:`~hicra.agents.gram_mining.MiningResult`) relates to the strategy openings and
    to the paper's list.

    A strategy's opening counts as recovered when some kept gram is one of its 3-5-word n-grams; a kept gram is
    procedural when it is not an n-gram of any opening (so it names arithmetic or answer formatting). ``rank`` is
    the best CDF rank (1 = highest) of a cluster holding an n-gram of the opening, None when none was clustered.
    """
    grams = list(result.grams)
    from hicra.agents.gram_mining import extract_ngrams

    opener_ngrams = {name: extract_ngrams(text, 3, 5, drop_numeric=False) for name, text in openers.items()}
    every = set().union(*opener_ngrams.values())
    kept = set(grams)
    recovered = {name: sorted(kept & ngrams) for name, ngrams in opener_ngrams.items()}
    paper_set = set(paper)
    ranks = {
        name: min((c.rank + 1 for c in result.clusters if set(c.ngrams) & ngrams), default=None)
        for name, ngrams in opener_ngrams.items()
    }
    return {
        "lexicon_size": len(grams),
        "clusters": len(result.clusters),
        "kept_clusters": sum(c.kept for c in result.clusters),
        "rank": ranks,
        "recovered": {name: bool(hits) for name, hits in recovered.items()},
        "recovered_grams": recovered,
        "procedural_kept": sorted(kept - every),
        "paper_overlap": sorted(kept & paper_set),
        "added_to_paper": sorted(kept - paper_set),
    }


def _markdown(result: dict, stats: dict) -> str:
    lines = [
        "# Grams mined from the tiny policy's successful solutions on hicra/Miniature-v0",
        "",
        f"{stats['rollouts']} responses, {stats['successful']} successful; lexicon of {result['lexicon_size']} grams.",
        "",
        f"{result['clusters']} clusters, the top {result['kept_clusters']} kept.",
        "",
        "| strategy | recovered | best cluster rank by CDF | kept n-grams of its opening |",
        "| --- | --- | ---: | --- |",
    ]
    for name, hit in result["recovered"].items():
        kept = ", ".join(result["recovered_grams"][name]) or "-"
        lines.append(f"| {name} | {'yes' if hit else 'no'} | {result['rank'][name]} | {kept} |")
    lines += ["", f"Procedural grams kept ({len(result['procedural_kept'])}): {', '.join(result['procedural_kept'])}"]
    lines += [f"In the paper's list ({len(result['paper_overlap'])}): {', '.join(result['paper_overlap']) or '-'}"]
    lines += [f"Not in the paper's list ({len(result['added_to_paper'])}): {', '.join(result['added_to_paper'])}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from hicra.agents.gram_mining import MiningConfig
    from hicra.agents.gram_report import build_lexicon
    from hicra.agents.planning import StrategicGrams
    from hicra_env.sources.strategies import STRATEGIES

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--problems", type=int, default=400)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--min-cdf", type=float, default=0.0, help="MiningConfig.min_cdf (default 0: the paper's rule)")
    p.add_argument("--distance-threshold", type=float, default=MiningConfig.distance_threshold)
    p.add_argument("--top-fraction", type=float, default=MiningConfig.top_fraction)
    p.add_argument("--keep-numeric", action="store_true", help="keep n-grams with digits")
    p.add_argument("--out", default="runs/grams-miniature")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rollouts = out / "rollouts.jsonl"
    if not rollouts.is_file():  # sampled once; rerun with another --out to resample
        rows = sample_rollouts(args.problems, args.samples, args.seed, args.max_new_tokens)
        rollouts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    options = {
        "min_cdf": args.min_cdf,
        "distance_threshold": args.distance_threshold,
        "top_fraction": args.top_fraction,
    }
    changed = {k: v for k, v in options.items() if v != getattr(MiningConfig, k)}
    tag = "-".join(["lexicon", *(f"{k.replace('_', '-')}-{v:g}" for k, v in changed.items())])
    tag += "-keep-numeric" if args.keep_numeric else ""
    result, _ = build_lexicon(out, out / tag, MiningConfig(**options, drop_numeric=not args.keep_numeric))
    openers = {name: s.opener for name, s in STRATEGIES.items()}
    comparison = compare(result, openers, list(StrategicGrams().grams))
    stats = {"rollouts": sum(1 for line in rollouts.open() if line.strip()), "successful": result.solutions}
    (out / tag / "comparison.json").write_text(json.dumps({**stats, **comparison}, indent=2) + "\n", encoding="utf-8")
    (out / tag / "comparison.md").write_text(_markdown(comparison, stats), encoding="utf-8")
    print(_markdown(comparison, stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
