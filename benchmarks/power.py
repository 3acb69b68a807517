"""How many seeds a comparison needs, from pilot runs of one agent: ``python -m hicra.benchmarks.power RUN_DIR``.

A pre-registered comparison fixes its number of seeds before any agent but the pilot's has run. The pilots give
the seed-to-seed standard deviation ``s`` of held-out accuracy (each run's last evaluation). Two agents run on the
same seeds are compared on paired differences; before they have run, their correlation is unknown, so the SD of a
difference is taken as that of two independent runs, ``sqrt(2) * s`` (an upper bound when the agents' runs on one
seed are positively correlated, as shared problems and first rollouts make them). A few pilot seeds estimate ``s``
poorly, so :func:`sd_upper` also gives its one-sided upper confidence limit (Browne 1995: plan with the upper 80%
limit of a pilot SD rather than the point estimate). :func:`~.stats.seeds_needed` then gives the pairs a paired t
test needs to detect a difference ``delta`` at ``alpha`` with the wanted power.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps

from .runs import find_runs
from .stats import paired_t_power, sd, seeds_needed

__all__ = ["PilotPower", "pilot_power", "sd_upper"]


def sd_upper(s: float, n: int, confidence: float = 0.8) -> float:
    """One-sided upper ``confidence`` limit of a standard deviation estimated as ``s`` from ``n`` values (normal
    data): ``s * sqrt((n - 1) / chi2_{1 - confidence, n - 1})``."""
    if n < 2 or not 0 < confidence < 1:
        raise ValueError(f"n, confidence: expected n >= 2 and confidence in (0, 1), got {n!r}, {confidence!r}")
    df = n - 1
    return s * math.sqrt(df / float(sps.chi2.ppf(1 - confidence, df)))


@dataclass(frozen=True)
class PilotPower:
    """The power calculation of one set of pilot runs."""

    heldout: dict[int, float]
    """Seed -> held-out accuracy of the run's last evaluation."""
    sd: float
    """Seed-to-seed sample SD of ``heldout``."""
    sd_upper: float
    """Its one-sided upper limit (``confidence``)."""
    paired_sd: float
    """SD assumed for a paired difference of two agents: ``sqrt(2) * sd_upper``."""
    seeds: int
    """Pairs needed: :func:`~.stats.seeds_needed` (``delta``, ``paired_sd``, ``alpha``, ``power``)."""


def pilot_power(
    heldout: dict[int, float], delta: float, alpha: float, power: float = 0.8, confidence: float = 0.8
) -> PilotPower:
    """The seeds a paired comparison needs, from pilot held-out accuracies ``{seed: accuracy}`` (module doc)."""
    values = list(heldout.values())
    if len(values) < 2:
        raise ValueError(f"pilots: expected held-out accuracy of at least 2 seeds, got {len(values)}")
    s = sd(values)
    upper = sd_upper(s, len(values), confidence)
    paired = math.sqrt(2) * upper
    return PilotPower(dict(heldout), s, upper, paired, seeds_needed(delta, paired, alpha, power))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hicra.benchmarks.power", description=__doc__.split("\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="pilot runs (of one agent) or their folder")
    parser.add_argument("--delta", type=float, default=0.05, help="difference of held-out accuracy to detect")
    parser.add_argument("--alpha", type=float, default=0.01, help="two-sided level (Holm's first step: 0.05 / m)")
    parser.add_argument("--power", type=float, default=0.8)
    parser.add_argument("--confidence", type=float, default=0.8, help="upper confidence limit of the pilot SD")
    parser.add_argument("--paired-sd", type=float, nargs="*", default=[], help="other SDs of a paired difference")
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="also print the power of these counts")
    args = parser.parse_args(argv)
    runs = find_runs(args.run_dirs)
    agents = sorted({r.agent for r in runs})
    if len(agents) != 1:
        parser.error(f"expected pilot runs of one agent, got {', '.join(agents)}")
    heldout = {r.seed: r.final_heldout() for r in runs}
    result = pilot_power(heldout, args.delta, args.alpha, args.power, args.confidence)
    print(f"pilots: {agents[0]}, seeds {sorted(heldout)}")
    print("held-out accuracy (last evaluation): " + ", ".join(f"{k}: {v:.4f}" for k, v in sorted(heldout.items())))
    print(f"seed-to-seed SD {result.sd:.4f}; upper {args.confidence:.0%} limit {result.sd_upper:.4f}")
    print(f"paired-difference SD assumed sqrt(2) x {result.sd_upper:.4f} = {result.paired_sd:.4f}")
    where = f"delta {args.delta}, two-sided alpha {args.alpha}, power {args.power}"
    print(f"seeds needed ({where}): {result.seeds}")
    for other in args.paired_sd:
        print(
            f"seeds needed with paired-difference SD {other}: {seeds_needed(args.delta, other, args.alpha, args.power)}"
        )
    for n in args.seeds:
        reached = paired_t_power(n, args.delta, result.paired_sd, args.alpha)
        print(f"power with {n} seeds at paired-difference SD {result.paired_sd:.4f}: {reached:.3f}")


if __name__ == "__main__":
    main()
