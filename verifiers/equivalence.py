"""Full equivalence check on math-verify + sympy. Runs inside a worker process (it may be slow or hang on
adversarial input; the pool kills the worker at the deadline).

Both sides are parsed as LaTeX only (never ``ExprExtractionConfig``, which calls sympy's ``parse_expr``,
i.e. Python ``eval``), with math-verify's signal-based timeouts turned off (the pool owns the deadline).
math-verify's verdict is then corrected where it is known to be wrong (KNOWN_ISSUES.md):

* two numbers (integers, rationals, exact expressions such as ``1/2006!`` or ``\\sqrt{2}/2^{60}``) are
  compared exactly (60 significant digits), not with math-verify's absolute tolerance;
* where a side is a decimal, the values must agree to 6 places (math-verify's rule) and to ``REL_TOL``;
* identical normalised strings are equal even when math-verify cannot parse them (``\\text{Evelyn}``).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import sympy
from math_verify import LatexExtractionConfig, parse
from math_verify import verify as mv_verify

from .fastpath import REL_TOL, ROUND_PLACES
from .normalize import canonical_key, is_bare_list

logger = logging.getLogger(__name__)
logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" warning is expected here

_LATEX_ONLY = (LatexExtractionConfig(),)
_PRECISION = 60  # significant digits for exact-value checks
_EXACT_REL = sympy.Rational(1, 10**40)


def parse_latex(latex: str) -> list:
    """math-verify's LaTeX parse of ``latex`` (no eval, no signals): ``[sympy_expr, normalised_str]`` or []."""
    return parse(f"${latex}$", extraction_config=_LATEX_ONLY, parsing_timeout=None)


@lru_cache(maxsize=4096)
def parse_gold(gold: str) -> tuple:
    """Cached parse of a gold answer (golds repeat across training steps)."""
    return tuple(parse_latex(gold))


def _first_expr(parsed) -> sympy.Basic | None:
    return next((x for x in parsed if isinstance(x, sympy.Expr)), None)


def _is_plain_number(expr: sympy.Basic | None) -> bool:
    return isinstance(expr, sympy.Expr) and not expr.free_symbols and bool(expr.is_number)


def _numeric(expr: sympy.Expr) -> sympy.Float:
    return sympy.N(expr.doit(), _PRECISION)


def exact_values_agree(gold: sympy.Expr, answer: sympy.Expr) -> bool | None:
    """Exact (or, with a decimal side, relative) comparison of two numbers; None if not decidable here."""
    gold, answer = gold.doit(), answer.doit()
    if gold.is_Rational and answer.is_Rational:
        return bool(gold == answer)
    g, a = _numeric(gold), _numeric(answer)
    if not (g.is_finite and a.is_finite) or g.has(sympy.I) or a.has(sympy.I):
        return None
    scale = max(abs(g), abs(a))
    if scale == 0:
        return True
    if not (gold.has(sympy.Float) or answer.has(sympy.Float)):
        return bool(abs(g - a) <= _EXACT_REL * scale)
    if g.round(ROUND_PLACES) != a.round(ROUND_PLACES):  # math-verify's rule for decimals
        return False
    return bool(abs(g - a) <= sympy.Rational(REL_TOL.numerator, REL_TOL.denominator) * scale)


def _as_set(latex: str) -> str:
    return f"\\{{{latex}\\}}"


def equivalent(gold: str, answer: str) -> bool:
    """Is normalised ``answer`` equivalent to normalised ``gold``? (May be slow: call it in a worker.)"""
    if gold and canonical_key(gold) == canonical_key(answer):
        return True
    if is_bare_list(gold):  # a list of solutions: order does not matter
        gold = _as_set(gold)
        if is_bare_list(answer):
            answer = _as_set(answer)
    gold_parsed = parse_gold(gold)
    answer_parsed = parse_latex(answer)
    if not gold_parsed or not answer_parsed:
        return False
    gold_expr, answer_expr = _first_expr(gold_parsed), _first_expr(answer_parsed)
    if _is_plain_number(gold_expr) and _is_plain_number(answer_expr):
        exact = exact_values_agree(gold_expr, answer_expr)  # decides numbers without math-verify's tolerance
        if exact is not None:
            return exact
    return bool(mv_verify(list(gold_parsed), answer_parsed, timeout_seconds=None))


def judge(gold: str, answers: list[str]) -> bool:
    """True iff every one of the response's distinct final answers is equivalent to ``gold``."""
    return all(equivalent(gold, answer) for answer in answers)


def warm_up() -> None:
    """Import and exercise the parsers once, so the first real check is not slowed by lazy set-up."""
    judge("\\frac{1}{2}", ["0.5"])
