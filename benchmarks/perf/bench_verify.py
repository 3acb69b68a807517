"""Throughput and agreement of ``verify_batch`` against a plain math-verify loop (run by hand, not a test).

    python -m hicra.benchmarks.perf.bench_verify [--data-dir ../shared/data] [--out runs/bench_verify]

Builds (response, gold) pairs from the MATH-500 and GSM8K golds: the gold boxed in a short solution (correct),
a reformatted equivalent (``\\dfrac``, ``x = ...``, ``#### n``, "The answer is n", thousands separators) and a
wrong answer (one digit changed, or n+1). Times ``verify_batch(..., workers=2)`` (warm pool, as in training)
against ``math_verify.verify(parse(f"${gold}$"), parse(response))`` in a loop (gold parsed as LaTeX), and
lists every pair where the verdicts differ, with a category. Math-Verify's own test suite (the field's answer
conventions) is scored by :mod:`.bench_mathverify_suite`.

A second set times the case where half the answers are wrong (early training): 1,000 MATH-500 pairs, each gold
boxed once as it is and once with its first digit changed (``+ 1`` appended for the 11 golds without a digit);
its figures are under ``half_wrong`` in ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from hicra.verifiers import verify_batch
from hicra.verifiers.api import get_pool
from hicra.verifiers.fastpath import parse_number
from hicra.verifiers.gold import read_gold
from hicra.verifiers.normalize import normalize_answer

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pair:
    source: str
    kind: str  # "correct", "reformatted" or "wrong"
    gold: str
    response: str


def _perturb(answer: str) -> str | None:
    digit = re.search(r"\d", answer)
    if digit is None:
        return None
    return answer[: digit.start()] + str((int(digit.group(0)) + 1) % 10) + answer[digit.end() :]


def _reformat(gold: str, i: int) -> str:
    """An equivalent spelling of ``gold`` (cycling through a few styles)."""
    if re.fullmatch(r"\d{4,}", gold):
        return f"The answer is \\boxed{{{int(gold):,}}}."
    style = i % 4
    if style == 0 and "\\frac" in gold:
        dfrac = gold.replace("\\frac", "\\dfrac")
        return f"Therefore $\\boxed{{{dfrac}}}$."
    if style == 1:
        return f"So we get $x = {gold}$.\n\nFinal answer: $\\boxed{{x = {gold}}}$"
    if style == 2 and re.fullmatch(r"-?\d+", gold):
        return f"Adding up, we get {gold}.\n#### {gold}"
    return f"The answer is $\\boxed{{\\displaystyle {gold}}}$."


def build_pairs(data_dir: Path) -> list[Pair]:
    pairs: list[Pair] = []
    for source in ("math500", "gsm8k"):
        rows = [json.loads(line) for line in (data_dir / f"{source}.jsonl").open(encoding="utf-8")]
        for i, row in enumerate(rows):
            gold = str(row["answer"]).strip()
            pairs.append(Pair(source, "correct", gold, f"Let me work it out.\nThe answer is $\\boxed{{{gold}}}$."))
            pairs.append(Pair(source, "reformatted", gold, _reformat(gold, i)))
            wrong = str(int(gold) + 1) if re.fullmatch(r"-?\d+", gold) else _perturb(gold)
            if wrong is not None:
                pairs.append(Pair(source, "wrong", gold, f"Thus the result is $\\boxed{{{wrong}}}$."))
    return pairs


def build_half_wrong(data_dir: Path) -> list[Pair]:
    """1,000 MATH-500 pairs: each gold once right and once wrong (a digit changed; ``+ 1`` without a digit)."""
    pairs: list[Pair] = []
    for line in (data_dir / "math500.jsonl").open(encoding="utf-8"):
        gold = str(json.loads(line)["answer"]).strip()
        wrong = _perturb(gold) or f"{gold} + 1"
        pairs.append(Pair("math500", "correct", gold, f"Let me work it out.\nThe answer is $\\boxed{{{gold}}}$."))
        pairs.append(Pair("math500", "wrong", gold, f"Thus the result is $\\boxed{{{wrong}}}$."))
    return pairs


def half_wrong_results(pairs: list[Pair], theirs: list[bool], ours: list, t_mv: float, t_ours: float) -> dict:
    """Speed-up and agreement on the half-wrong set (the disagreements listed as in the main report)."""
    return {
        "pairs": len(pairs),
        "kinds": dict(Counter(p.kind for p in pairs)),
        "math_verify_loop_s": t_mv,
        "hicra_verify_batch_s": t_ours,
        "speedup": t_mv / t_ours,
        "agreement": sum(m == v.correct for m, v in zip(theirs, ours)) / len(pairs),
        "hicra_reasons": dict(Counter(v.reason for v in ours)),
        "hicra_correct_by_kind": {
            k: sum(v.correct for p, v in zip(pairs, ours) if p.kind == k) for k in ("correct", "wrong")
        },
        "math_verify_correct_by_kind": {
            k: sum(m for p, m in zip(pairs, theirs) if p.kind == k) for k in ("correct", "wrong")
        },
        "disagreements": [
            {**asdict(p), "math_verify": m, "hicra": v.correct, "hicra_reason": v.reason, "extracted": v.extracted}
            for p, m, v in zip(pairs, theirs, ours)
            if m != v.correct
        ],
    }


def half_wrong_markdown(half: dict) -> str:
    lines = [
        "",
        "## Half the answers wrong (1,000 MATH-500 pairs: each gold right once, a digit changed once)",
        "",
        f"- math-verify loop: {half['math_verify_loop_s']:.2f} s; "
        f"hicra verify_batch: {half['hicra_verify_batch_s']:.2f} s (fresh pool and caches)",
        f"- speed-up: **{half['speedup']:.1f}x**; verdict agreement: **{100 * half['agreement']:.2f}%**",
        f"- judged correct by kind: hicra {half['hicra_correct_by_kind']}, "
        f"math-verify {half['math_verify_correct_by_kind']}",
    ]
    for d in half["disagreements"]:
        lines.append(
            f"- differs: {d['kind']} `{d['gold']}` / `{d['response']}`: math-verify {d['math_verify']}, "
            f"hicra {d['hicra']} ({d['hicra_reason']})"
        )
    return "\n".join(lines) + "\n"


def run_math_verify(pairs: list[Pair]) -> tuple[list[bool], float]:
    from math_verify import parse, verify

    start = time.perf_counter()
    verdicts = [bool(verify(parse(f"${p.gold}$"), parse(p.response))) for p in pairs]
    return verdicts, time.perf_counter() - start


def run_hicra(pairs: list[Pair], workers: int, timeout_s: float) -> tuple[list, float, float]:
    start = time.perf_counter()
    get_pool(workers).run([(0, "1", ["1"])], timeout_s=60)  # start the pool (once per process in training)
    startup = time.perf_counter() - start
    start = time.perf_counter()
    verdicts = verify_batch([p.response for p in pairs], [p.gold for p in pairs], timeout_s=timeout_s, workers=workers)
    return verdicts, time.perf_counter() - start, startup


def categorize(pair: Pair, ours, theirs: bool) -> str:
    """A first explanation of a disagreement (the report lists every pair so it can be checked by hand)."""
    if ours.reason in ("timeout", "error"):
        return f"hicra {ours.reason}"
    gold_n = normalize_answer(pair.gold)
    answer_n = normalize_answer(ours.extracted or "")
    g, a = parse_number(gold_n), parse_number(answer_n)
    if theirs and g is not None and a is not None and g.value != a.value:
        return "math-verify false positive: tolerance on values that differ"
    if pair.kind == "wrong" and theirs:
        return "math-verify false positive: accepts a perturbed (wrong) answer"
    if pair.kind != "wrong" and not theirs:
        return "math-verify false negative: rejects an equivalent answer"
    if pair.kind != "wrong" and not ours.correct:
        return "hicra false negative"
    return "hicra false positive"


def report(pairs, theirs, ours, t_mv, t_ours, startup) -> tuple[dict, str]:
    disagreements = [
        {
            **asdict(p),
            "math_verify": m,
            "hicra": v.correct,
            "hicra_reason": v.reason,
            "extracted": v.extracted,
            "category": categorize(p, v, m),
        }
        for p, m, v in zip(pairs, theirs, ours)
        if m != v.correct
    ]
    agreement = 1 - len(disagreements) / len(pairs)
    results = {
        "pairs": len(pairs),
        "kinds": dict(Counter(p.kind for p in pairs)),
        "math_verify_loop_s": t_mv,
        "hicra_verify_batch_s": t_ours,
        "hicra_pool_startup_s": startup,
        "speedup": t_mv / t_ours,
        "agreement": agreement,
        "hicra_reasons": dict(Counter(v.reason for v in ours)),
        "hicra_correct_by_kind": {
            k: sum(v.correct for p, v in zip(pairs, ours) if p.kind == k) for k in ("correct", "reformatted", "wrong")
        },
        "math_verify_correct_by_kind": {
            k: sum(m for p, m in zip(pairs, theirs) if p.kind == k) for k in ("correct", "reformatted", "wrong")
        },
        "disagreements": disagreements,
    }
    lines = [
        "# verify_batch vs math-verify loop",
        "",
        f"- pairs: {len(pairs)} ({results['kinds']})",
        f"- math-verify loop: {t_mv:.2f} s; hicra verify_batch (2 workers, warm pool): {t_ours:.2f} s "
        f"(pool start-up once: {startup:.2f} s)",
        f"- speed-up: **{t_mv / t_ours:.1f}x**; verdict agreement: **{100 * agreement:.2f}%**",
        f"- judged correct by kind: hicra {results['hicra_correct_by_kind']}, "
        f"math-verify {results['math_verify_correct_by_kind']}",
        "",
        "| source | kind | gold | response | math-verify | hicra | category |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in disagreements:
        cells = [
            d["source"],
            d["kind"],
            d["gold"],
            d["response"].replace("\n", " ")[:80],
            str(d["math_verify"]),
            f"{d['hicra']} ({d['hicra_reason']})",
            d["category"],
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return results, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_verify"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=5.0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pairs (quick runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    if not (args.data_dir / "math500.jsonl").is_file():
        parser.error(f"--data-dir: expected a folder with math500.jsonl and gsm8k.jsonl, got {args.data_dir}")
    pairs = build_pairs(args.data_dir)[: args.limit]
    ours, t_ours, startup = run_hicra(pairs, args.workers, args.timeout_s)
    theirs, t_mv = run_math_verify(pairs)
    results, markdown = report(pairs, theirs, ours, t_mv, t_ours, startup)
    if args.limit is None:
        half = build_half_wrong(args.data_dir)
        get_pool(args.workers).close()  # cold caches: the golds were read (and cached) by the main set
        read_gold.cache_clear()
        half_ours, half_t_ours, _ = run_hicra(half, args.workers, args.timeout_s)
        half_theirs, half_t_mv = run_math_verify(half)
        results["half_wrong"] = half_wrong_results(half, half_theirs, half_ours, half_t_mv, half_t_ours)
        markdown += half_wrong_markdown(results["half_wrong"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return results


if __name__ == "__main__":
    main()
