"""Full equivalence check on math-verify + sympy. Runs inside a worker process (it may be slow or hang on
adversarial input; the pool kills the worker at the deadline).

Both sides are parsed as LaTeX only (never ``ExprExtractionConfig``, which calls sympy's ``parse_expr``,
i.e. Python ``eval``), with math-verify's signal-based timeouts turned off (the pool owns the deadline).
Before math-verify compares them (KNOWN_ISSUES.md):

* identical normalised strings are equal even when math-verify cannot parse them (``\\text{Evelyn}``);
* a choice letter with its option text is compared part by part (:mod:`.choices`);
* an answer with a power or factorial out of range is decided by its spelling alone (:mod:`.bounds`);
* primes are kept: ``g'`` is read as its own symbol (math-verify drops the mark, so ``g'(t)`` equalled ``g(t)``);
* where ``i`` is the only letter on both sides, it is the imaginary unit (``(1+i)^2`` is ``2i``);
* numbers, tuples, intervals, sets of numbers and matrices are decided exactly, and expressions that differ at a
  sample point are different (:mod:`.exact`); math-verify decides the rest;
* a list of solutions is a multiset (``1, 1, 2`` is not ``1, 2, 2``).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sympy
from math_verify import LatexExtractionConfig, parse
from math_verify import verify as mv_verify

from .bounds import too_costly
from .choices import choice_pairs
from .exact import exact_values_agree, quick_agree
from .fastpath import fast_equivalent
from .lists import split_top_level
from .normalize import canonical_key, is_bare_list

__all__ = ["equivalent", "exact_values_agree", "judge", "parse_gold", "parse_latex", "warm_up"]

logger = logging.getLogger(__name__)
logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" warning is expected here

_LATEX_ONLY = (LatexExtractionConfig(),)
_PRIMED_RE = re.compile(r"([A-Za-z])(?:_\{([^{}]*)\}|_([A-Za-z0-9]))?('+)")
_IMAGINARY = sympy.Symbol("i")


def parse_latex(latex: str) -> list:
    """math-verify's LaTeX parse of ``latex`` (no eval, no signals): ``[sympy_expr, normalised_str]`` or []."""
    return parse(f"${latex}$", extraction_config=_LATEX_ONLY, parsing_timeout=None)


@lru_cache(maxsize=4096)
def parse_gold(gold: str) -> tuple:
    """Cached parse of a gold answer (golds repeat across training steps)."""
    return tuple(parse_latex(gold))


def _first_value(parsed) -> sympy.Basic | None:
    return next((x for x in parsed if isinstance(x, sympy.Basic)), None)


def name_primes(latex: str) -> str | None:
    """``g'(t)`` -> ``g_{\\prime}(t)``: a primed letter becomes its own symbol; None if a prime is elsewhere."""
    named = _PRIMED_RE.sub(lambda m: m[1] + "_{" + (m[2] or m[3] or "") + "\\prime" * len(m[4]) + "}", latex)
    return None if "'" in named else named


def _imaginary_unit(gold: list, answer: list) -> tuple[list, list]:
    """``i`` as the imaginary unit when it is the only symbol of both sides (and occurs)."""
    values = [x for x in (*gold, *answer) if isinstance(x, sympy.Basic)]
    symbols = set().union(*(x.free_symbols for x in values)) if values else set()
    if not symbols or any(getattr(s, "name", None) != "i" for s in symbols):
        return gold, answer

    def sub(parsed: list) -> list:
        return [x.subs({s: sympy.I for s in symbols}) if isinstance(x, sympy.Basic) else x for x in parsed]

    return sub(gold), sub(answer)


def _as_set(latex: str) -> str:
    return f"\\{{{latex}\\}}"


def _lists_as_multisets(gold: str, answer: str) -> bool | None:
    """Bare lists: different item counts are different; repeated items are matched one by one."""
    gold_items, answer_items = split_top_level(gold), split_top_level(answer)
    if len(gold_items) != len(answer_items):
        return False
    if len({canonical_key(x) for x in gold_items}) == len(gold_items) and len(
        {canonical_key(x) for x in answer_items}
    ) == len(answer_items):
        return None  # no repeated spelling: a set comparison decides
    remaining = list(answer_items)
    for item in gold_items:
        match = next((k for k, a in enumerate(remaining) if equivalent(item, a)), None)
        if match is None:
            return False
        remaining.pop(match)
    return True


def _compare(gold: str, answer: str) -> bool:
    gold_parsed, answer_parsed = list(parse_gold(gold)), parse_latex(answer)
    if not gold_parsed or not answer_parsed:
        return False
    gold_parsed, answer_parsed = _imaginary_unit(gold_parsed, answer_parsed)
    gold_value, answer_value = _first_value(gold_parsed), _first_value(answer_parsed)
    if gold_value is not None and answer_value is not None:
        decided = quick_agree(gold_value, answer_value)
        if decided is not None:
            return decided
    return bool(mv_verify(gold_parsed, answer_parsed, timeout_seconds=None))


def equivalent(gold: str, answer: str) -> bool:
    """Is normalised ``answer`` equivalent to normalised ``gold``? (May be slow: call it in a worker.)"""
    decided = fast_equivalent(gold, answer)  # the in-process rules hold here too (list items, option text)
    if decided is not None:
        return decided
    pairs = choice_pairs(gold, answer)
    if pairs is not None:
        return all(equivalent(g, a) for g, a in pairs)
    if too_costly(gold) or too_costly(answer):
        return False  # decided by spelling alone, checked above (bounds.py)
    if "'" in gold or "'" in answer:
        gold_named, answer_named = name_primes(gold), name_primes(answer)
        if gold_named is None or answer_named is None:
            return False  # a prime after a number or a bracket: only the same spelling matches
        gold, answer = gold_named, answer_named
    if is_bare_list(gold):  # a list of solutions: order does not matter
        if is_bare_list(answer):
            counted = _lists_as_multisets(gold, answer)
            if counted is not None:
                return counted
            answer = _as_set(answer)
        gold = _as_set(gold)
    return _compare(gold, answer)


def judge(gold: str, answers: list[str]) -> bool:
    """True iff every one of the response's distinct final answers is equivalent to ``gold``."""
    return all(equivalent(gold, answer) for answer in answers)


def warm_up() -> None:
    """Import and exercise the parsers once, so the first real check is not slowed by lazy set-up."""
    judge("\\frac{1}{2}", ["0.5"])
