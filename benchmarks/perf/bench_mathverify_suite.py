"""Math-Verify's own test suite, ported as data: hicra's score beside plain math-verify's (run by hand).

    python -m hicra.benchmarks.perf.bench_mathverify_suite [--out runs/bench_mathverify_suite]
    python -m hicra.benchmarks.perf.bench_mathverify_suite --build PATH/TO/Math-Verify   # regenerate the corpus

The corpus (``tests/verifiers/data/mathverify_suite.json``) holds every (gold, prediction, expected) case of
the ``tests/`` of huggingface/Math-Verify, with each case's math-verify configuration and, for the cases
that are not scored, the reason (see ``EXCLUSIONS``; the rule is also in ``tests/verifiers/test_mathverify_suite.py``).
``--build`` imports those test modules from a checkout (to read their ``parametrize`` tables) and classifies
each case by running math-verify. Scoring runs hicra (``verify_batch``, lenient, ``multiple="last"`` and
``"reject"``; strict) and math-verify twice: with each case's own configuration (the suite's own score) and
plain (``verify(parse(gold), parse(pred))``, its defaults).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

from hicra.verifiers import verify_batch

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "verifiers" / "data" / "mathverify_suite.json"
SOURCE = "https://github.com/huggingface/Math-Verify"
MODULES = ("test_all", "test_boxed", "test_numina_cases", "test_open_thoughts", "test_strict", "test_yujianll")
#: Non-default configurations of the suite's helper, by test function (read from its calls in the source).
CONFIGS = {
    "test_number_extraction": {"match_types": ["expr"]},
    "test_latex_notation": {"match_types": ["latex"]},
    "test_latex_notation_math": {"match_types": ["latex"]},
    "test_relations_math": {"match_types": ["latex"]},
    "test_matrix_extraction": {"match_types": ["latex"]},
    "test_set_rel_assymetry": {"match_types": ["latex"]},
    "test_float_precision": {"precision": 5},
    "test_sqrt_precision": {"precision": 5},
    "test_symbols": {"precision": 5},
}
EXCLUSIONS = {
    "config": "the expected outcome needs a non-default math-verify flag (math-verify's defaults disagree)",
    "anchor_free": "the prediction states its answer only inside prose, with no box, answer line or bare "
    "answer: math-verify reads it only through try_extract_without_anchor, which hicra does not follow",
    "decimal_comma": "a decimal comma (1,22 / 1000,99 / 0,111): in MATH-style answers, hicra's gold format, "
    "a comma separates list items, so the notation is ambiguous",
    "expectation_false": "the expected outcome is mathematically false (1 - 1/e is not 1 + 1/e): math-verify "
    "truncates both at \\mathrm{e} and compares 1 with 1",
}
#: Cases excluded by hand (everything else is classified by running math-verify).
EXPECTATION_FALSE = {"test_yujianll.py::test_string_extraction[9]"}


def mv_score(case: dict, *, anchored_pred: bool = False, plain: bool = False) -> int:
    """math-verify's verdict (0/1) on ``case``: its own configuration, or plain defaults."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    if plain or case["config"]["match_types"] is None:
        return int(verify(parse(case["gold"]), parse(case["pred"])))
    cfg = case["config"]

    def targets(anchor: bool) -> list:
        kinds = {"latex": LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=anchor)}
        kinds["expr"] = ExprExtractionConfig(try_extract_without_anchor=anchor)
        return [kinds[k] for k in cfg["match_types"]]

    gold, pred = parse(case["gold"], targets(True)), parse(case["pred"], targets(not anchored_pred))
    flags = {"strict": cfg["strict"], "allow_set_relation_comp": cfg["allow_set_relation_comp"]}
    return int(verify(gold, pred, float_rounding=cfg["precision"], **flags))


def _has_prose(text: str) -> bool:
    """Two or more words (of 2+ letters) outside ``$...$`` and LaTeX commands: the builder's own rule."""
    outside = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)|\\[A-Za-z]+", " ", text, flags=re.DOTALL)
    return len(re.findall(r"[A-Za-z]{2,}", outside)) >= 2


def _decimal_comma(text: str) -> bool:
    """A short text (40 characters at most) with a decimal comma outside math: ``1,22``, ``0,111``."""
    plain = re.sub(r"\$[^$]*\$", " ", text)  # inside math, 1,22 is a list
    numbers = re.finditer(r"(?<![\d,.(\[{])\d+(?:,\d+)+(?![\d,)\]}])", plain)
    return len(text) <= 40 and any(not re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+", m.group(0)) for m in numbers)


def classify(case: dict) -> str | None:
    """Why ``case`` is not scored (a key of ``EXCLUSIONS``), or None."""
    if case["id"] in EXPECTATION_FALSE:
        return "expectation_false"
    if mv_score(case, plain=True) != case["expected"]:
        return "config"
    if _decimal_comma(case["gold"]) or _decimal_comma(case["pred"]):
        return "decimal_comma"
    if case["expected"] == 1 and _has_prose(case["pred"]) and mv_score(case, anchored_pred=True) != 1:
        return "anchor_free"
    return None


def _case(module: str, test: str, index: int, values: dict, config: dict) -> dict:
    expected = values.get("expected", values.get("result"))
    cfg = {"match_types": ["latex", "expr"], "precision": 6, "strict": True, "allow_set_relation_comp": False}
    cfg.update(config)
    for key in ("precision", "strict", "allow_set_relation_comp"):
        cfg[key] = values.get(key, cfg[key])
    if module == "test_yujianll":
        cfg = {"match_types": None, "precision": None, "strict": None, "allow_set_relation_comp": None}
    case_id = f"{module}.py::{test}[{index}]"
    return {"id": case_id, "gold": values["gold"], "pred": values["pred"], "expected": int(expected), "config": cfg}


def collect(checkout: Path) -> list[dict]:
    """Every parametrised (gold, pred, expected) case of the suite, in file order (imports its test modules)."""
    sys.path.insert(0, str(checkout))
    cases = []
    for module in MODULES:
        tests = importlib.import_module(f"tests.{module}")
        for name, fn in vars(tests).items():
            marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
            for mark in marks:
                names = [n.strip() for n in mark.args[0].split(",")]
                for index, row in enumerate(mark.args[1]):
                    cases.append(_case(module, name, index, dict(zip(names, row)), CONFIGS.get(name, {})))
    # test_all.py::test_precision calls the helper once with literal arguments (precision=4).
    literal = {"gold": "$\\frac{1}{3}$", "pred": "0.3333$", "expected": 1, "precision": 4}
    cases.append(_case("test_all", "test_precision", 0, literal, {}))
    return cases


def _mit_notice(path: Path) -> str:
    """The licence notice at the top of ``path`` (its leading ``#`` comment lines), kept with the cases."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return "\n".join(lines).strip()


def build(checkout: Path) -> dict:
    """The corpus: attribution, the exclusion rule and every case with its classification."""
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    cases = collect(checkout)
    for case in cases:
        case["excluded"] = classify(case)
    return {
        "source": {
            "repository": SOURCE,
            "commit": commit.stdout.strip() or "unknown",
            "paths": [f"tests/{m}.py" for m in MODULES],
            "licence": "Apache-2.0 (the repository's LICENCE); tests/test_all.py also carries an MIT notice: "
            "Copyright (c) 2024 The HuggingFace Team",
            "ported": "test cases only (inputs and expected outcomes), as data; no library code",
            "notice": _mit_notice(checkout / "tests" / "test_all.py"),
        },
        "exclusions": EXCLUSIONS,
        "cases": cases,
    }


def _tally(cases: list[dict], verdicts: list[int]) -> dict:
    scored = [(c, v) for c, v in zip(cases, verdicts) if c["excluded"] is None]
    return {
        "scored_agree": sum(v == c["expected"] for c, v in scored),
        "scored": len(scored),
        "all_agree": sum(v == c["expected"] for c, v in zip(cases, verdicts)),
        "all": len(cases),
        "false_positives": sum(v == 1 and c["expected"] == 0 for c, v in zip(cases, verdicts)),
    }


def run(corpus: dict, workers: int, timeout_s: float) -> tuple[dict, list[dict]]:
    """Verdicts of every contender on every case; returns tallies and hicra's (lenient, last) misses."""
    cases = corpus["cases"]
    preds, golds = [c["pred"] for c in cases], [c["gold"] for c in cases]
    contenders: dict[str, list[int]] = {}
    ours = {}
    for name, kwargs in {
        "hicra (lenient, multiple=last)": {"mode": "lenient", "multiple": "last"},
        "hicra (lenient, multiple=reject)": {"mode": "lenient", "multiple": "reject"},
        "hicra (strict, multiple=last)": {"mode": "strict", "multiple": "last"},
    }.items():
        ours[name] = verify_batch(preds, golds, timeout_s=timeout_s, workers=workers, **kwargs)
        contenders[name] = [int(v.correct) for v in ours[name]]
    contenders["math-verify, each case's own configuration"] = [mv_score(c) for c in cases]
    contenders["math-verify, plain: verify(parse(gold), parse(pred))"] = [mv_score(c, plain=True) for c in cases]
    first = ours["hicra (lenient, multiple=last)"]
    misses = [
        {
            "id": c["id"],
            "expected": c["expected"],
            "reason": v.reason,
            "extracted": v.extracted,
            "excluded": c["excluded"],
        }
        for c, v in zip(cases, first)
        if int(v.correct) != c["expected"]
    ]
    return {name: _tally(cases, verdicts) for name, verdicts in contenders.items()}, misses


def report(corpus: dict, tallies: dict, misses: list[dict]) -> str:
    src = corpus["source"]
    lines = [
        "# Math-Verify's test suite: hicra beside math-verify",
        "",
        f"Cases from {src['repository']} @ {src['commit'][:12]} ({', '.join(src['paths'])}); {src['licence']}.",
        "",
        "| verifier | scored cases (unambiguous) | all cases | false positives (all cases) |",
        "| --- | --- | --- | --- |",
    ]
    for name, t in tallies.items():
        scored = f"{t['scored_agree']}/{t['scored']} ({100 * t['scored_agree'] / t['scored']:.1f}%)"
        every = f"{t['all_agree']}/{t['all']} ({100 * t['all_agree'] / t['all']:.1f}%)"
        lines.append(f"| {name} | {scored} | {every} | {t['false_positives']} |")
    lines += ["", "Not scored:", ""]
    lines += [f"- `{key}`: {text}" for key, text in corpus["exclusions"].items()]
    lines += ["", "hicra (lenient, multiple=last) disagrees with the expected outcome on:", ""]
    lines += ["| case | expected | hicra | extracted | scored? |", "| --- | --- | --- | --- | --- |"]
    for m in misses:
        extracted = (m["extracted"] or "").replace("|", "\\|").replace("\n", " ")[:60]
        lines.append(f"| {m['id']} | {m['expected']} | {m['reason']} | `{extracted}` | {m['excluded'] or 'yes'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_mathverify_suite"))
    parser.add_argument("--build", type=Path, default=None, metavar="CHECKOUT", help="regenerate --corpus from it")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    if args.build is not None:
        corpus = build(args.build)
        args.corpus.write_text(json.dumps(corpus, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {len(corpus['cases'])} cases to {args.corpus}")
        return corpus
    if not args.corpus.is_file():
        parser.error(
            f"--corpus: expected the ported suite (tests/verifiers/data/mathverify_suite.json), got {args.corpus}"
        )
    corpus = json.loads(args.corpus.read_text(encoding="utf-8"))
    tallies, misses = run(corpus, args.workers, args.timeout_s)
    markdown = report(corpus, tallies, misses)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps({"tallies": tallies, "misses": misses}, indent=2), encoding="utf-8"
    )
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return tallies


if __name__ == "__main__":
    main()
