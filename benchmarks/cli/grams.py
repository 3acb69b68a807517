"""``hicra grams build``: mine a Strategic Gram lexicon from a model's successful solutions (the HICRA paper's
pipeline, :mod:`hicra.agents.gram_mining`) and write ``lexicon.json`` with ``report.md`` / ``report.json``
(:mod:`hicra.agents.gram_report`). ``hicra train --grams OUT/lexicon.json`` trains with it."""

from __future__ import annotations

import argparse

from .errors import UsageError

#: ``grams build`` flags -> the MiningConfig field each sets (None when not typed).
FLAG_FIELDS = {
    "min_n": "min_n",
    "max_n": "max_n",
    "min_df": "min_df",
    "max_ngrams": "max_ngrams",
    "embedder": "embedder",
    "device": "device",
    "batch_size": "batch_size",
    "distance_threshold": "distance_threshold",
    "n_clusters": "n_clusters",
    "linkage": "linkage",
    "top_fraction": "top_fraction",
    "min_cdf": "min_cdf",
    "min_solutions": "min_solutions",
    "min_reward": "min_reward",
}


def mining_config(args: argparse.Namespace):
    """The :class:`~hicra.agents.gram_mining.MiningConfig` of the typed flags (the rest keep their defaults)."""
    from hicra.agents.gram_mining import MiningConfig

    values = {field: getattr(args, flag) for flag, field in FLAG_FIELDS.items() if getattr(args, flag) is not None}
    if args.n_clusters is not None and args.distance_threshold is None:
        values["distance_threshold"] = None  # --n-clusters replaces the default threshold
    if args.keep_numeric:
        values["drop_numeric"] = False
    return MiningConfig(**values)


def main(args: argparse.Namespace) -> int:
    from hicra.agents.gram_report import build_lexicon

    if args.grams_command != "build":
        raise UsageError("hicra grams: error: expected an action: build (see hicra grams build --help)")
    result, paths = build_lexicon(args.source, args.out, mining_config(args))
    kept = sum(c.kept for c in result.clusters)
    print(
        f"{len(result.grams)} grams from the top {kept} of {len(result.clusters)} clusters "
        f"({result.solutions} successful solutions): {paths['lexicon']} (report: {paths['report_md']}); "
        f"train with it: hicra train --grams {paths['lexicon']}"
    )
    return 0
