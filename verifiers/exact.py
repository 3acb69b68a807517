"""Exact decisions on parsed values, before (and instead of) math-verify's comparison, which is slow on wrong
answers and uses an absolute tolerance (KNOWN_ISSUES.md).

* Numbers, real or complex, are compared exactly (60 significant digits, relative ``1e-40``); where a side is a
  decimal, to 6 places (math-verify's rule) and to ``REL_TOL``.
* Tuples, intervals, finite sets of numbers and matrices are compared part by part with the same rule.
* Two expressions in the same variables that take different values at a sample point are different (the
  sample only ever *rejects*; equal values leave the decision to math-verify).

Each function returns True/False when it decides and None when it cannot.
"""

from __future__ import annotations

import sympy

from .fastpath import REL_TOL, ROUND_PLACES

_PRECISION = 60  # significant digits for exact-value checks
_EXACT_REL = sympy.Rational(1, 10**40)
_SAMPLE_REL = sympy.Rational(1, 10**12)
_MAX_DEPTH = 4
_MAX_PARTS = 64


def is_plain_number(expr: object) -> bool:
    return isinstance(expr, sympy.Expr) and not expr.free_symbols and bool(expr.is_number)


def _numeric(expr: sympy.Expr) -> sympy.Expr:
    return sympy.N(expr.doit(), _PRECISION)


def _parts(value: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    return sympy.re(value), sympy.im(value)


def exact_values_agree(gold: sympy.Expr, answer: sympy.Expr) -> bool | None:
    """Exact (or, with a decimal side, 6-place and relative) comparison of two numbers; None if undecidable."""
    gold, answer = gold.doit(), answer.doit()
    if gold.is_Rational and answer.is_Rational:
        return bool(gold == answer)
    if gold.is_infinite or answer.is_infinite:
        return bool(gold == answer) if gold.is_infinite and answer.is_infinite else False
    g, a = _numeric(gold), _numeric(answer)
    if not (g.is_finite and a.is_finite):
        return None
    scale = max(abs(g), abs(a))
    if scale == 0:
        return True
    if not (gold.has(sympy.Float) or answer.has(sympy.Float)):
        return bool(abs(g - a) <= _EXACT_REL * scale)
    for g_part, a_part in zip(_parts(g), _parts(a)):
        if not (g_part.is_Number and a_part.is_Number):
            return None
        if g_part.round(ROUND_PLACES) != a_part.round(ROUND_PLACES):  # math-verify's rule for decimals
            return False
    return bool(abs(g - a) <= sympy.Rational(REL_TOL.numerator, REL_TOL.denominator) * scale)


def _all(results: list[bool | None]) -> bool | None:
    return False if False in results else (None if None in results else True)


def _sample_points(names: list[str]) -> list[dict[str, sympy.Rational]]:
    return [
        {name: sympy.Rational(k + 2, k + 7) for k, name in enumerate(names)},
        {name: sympy.Rational(2 * k + 5, 3) for k, name in enumerate(names)},
    ]


def _sample_differs(gold: sympy.Expr, answer: sympy.Expr) -> bool | None:
    """False when the two expressions differ at a sample point (same variables), else None."""
    gold_syms = {s.name: s for s in gold.free_symbols if isinstance(s, sympy.Symbol)}
    answer_syms = {s.name: s for s in answer.free_symbols if isinstance(s, sympy.Symbol)}
    if not gold_syms or gold_syms.keys() != answer_syms.keys() or len(gold_syms) != len(gold.free_symbols):
        return None
    if len(answer_syms) != len(answer.free_symbols):
        return None
    for point in _sample_points(sorted(gold_syms)):
        g = sympy.N(gold.subs({gold_syms[n]: v for n, v in point.items()}), 30)
        a = sympy.N(answer.subs({answer_syms[n]: v for n, v in point.items()}), 30)
        if not (g.is_Number and a.is_Number and g.is_finite and a.is_finite):
            continue
        if abs(g - a) > _SAMPLE_REL * max(1, abs(g), abs(a)):
            return False
    return None


def _sets_agree(gold: sympy.FiniteSet, answer: sympy.FiniteSet) -> bool | None:
    if not all(is_plain_number(x) for x in (*gold.args, *answer.args)):
        return None
    for left, right in ((gold.args, answer.args), (answer.args, gold.args)):
        for x in left:
            found = [exact_values_agree(x, y) for y in right]
            if True not in found:
                return False if all(f is False for f in found) else None
    return True


def quick_agree(gold: sympy.Basic, answer: sympy.Basic, depth: int = 0) -> bool | None:
    """Decide ``gold == answer`` part by part where it is cheap and exact (module docstring); else None."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(gold, sympy.Expr) and isinstance(answer, sympy.Expr):
        if is_plain_number(gold) and is_plain_number(answer):
            return exact_values_agree(gold, answer)
        return _sample_differs(gold, answer)
    if isinstance(gold, sympy.Tuple) and isinstance(answer, sympy.Tuple):
        if len(gold) != len(answer):
            return False
        return _all([quick_agree(g, a, depth + 1) for g, a in zip(gold, answer)]) if len(gold) <= _MAX_PARTS else None
    if isinstance(gold, sympy.Interval) and isinstance(answer, sympy.Interval):
        if (gold.left_open, gold.right_open) != (answer.left_open, answer.right_open):
            return False
        return _all([quick_agree(gold.start, answer.start, depth + 1), quick_agree(gold.end, answer.end, depth + 1)])
    if isinstance(gold, sympy.FiniteSet) and isinstance(answer, sympy.FiniteSet):
        return _sets_agree(gold, answer)
    if isinstance(gold, sympy.MatrixBase) and isinstance(answer, sympy.MatrixBase):
        if gold.shape != answer.shape:
            return False
        if len(gold) > _MAX_PARTS:
            return None
        return _all([quick_agree(g, a, depth + 1) for g, a in zip(gold, answer)])
    return None
