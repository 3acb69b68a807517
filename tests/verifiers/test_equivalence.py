"""The full checker (math-verify + sympy), called in-process here; the pool runs the same code in workers."""

from __future__ import annotations

import logging

import pytest
import sympy
from math_verify import parse as mv_parse
from math_verify import verify as mv_verify

from hicra.verifiers import verify_batch
from hicra.verifiers.equivalence import equivalent, exact_values_agree, judge, name_primes, parse_gold, parse_latex
from hicra.verifiers.fastpath import parse_number
from hicra.verifiers.normalize import normalize_answer

from .conftest import payloads
from .known_issues import KNOWN_ISSUES


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False),
        ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}", False),
        ("\\frac{1}{2^{99}}", "2^{-99}", True),
        ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", True),
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("2\\pi", "6.283185", True),
        ("x^2+2x+1", "(x+1)^2", True),
        ("x^2+2x+1", "(x-1)^2", False),
        ("1,2", "2,1", True),
        ("(1,2)", "(2,1)", False),
        ("( 3, \\frac{\\pi}{2} )", "(3, \\pi/2)", True),
        ("[1, 2)", "(1,2]", False),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", True),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}", False),
        ("1", "\\frac{1}{0}", False),
        ("42", "42 or 43", False),
        ("42", "42, 43", False),
        ("g(t)", "g'(t)", False),  # primes are kept
        ("g'(t)", "g^{\\prime}(t)", True),
        ("x_1'", "x_1", False),
        ("x'+y'", "y'+x'", True),
        ("(x', y')", "(y', x')", False),
        ("2i", "(1+i)^2", True),  # i is the imaginary unit when it is the only letter
        ("2i", "(1-i)^2", False),
        ("1+i, 1-i", "1-i, 1+i", True),
        ("i + x", "x + i", True),  # with another letter, i is a variable
        ("(1, 5]", "(3^{10^{-400}}, 5]", False),  # too costly: decided by spelling
        ("(1, 5]", "(1, 5]", True),
        ("1, 1, 2", "1, 2, 2", False),  # a list of solutions is a multiset
        ("x, x, y", "x, y, y", False),
        ("x, x, y", "y, x, x", True),
        ("\\frac{\\pi^2}{8}", "\\frac{\\pi^3}{8}", False),
        ("x^5 - x^4 + x^3 - x^2 + x - 1", "x^6 - x^4 + x^3 - x^2 + x - 1", False),
        ("x^5 - x^4 + x^3 - x^2 + x - 1", "(x-1)(x^4+x^2+1)", True),
        ("B", "(B) 12", True),  # option text, in the worker too
        ("\\frac{1}{2}", "(B) \\sin(\\frac{30\\pi}{180})", True),
        ("\\frac{1}{2}", "(B) \\sin(\\frac{60\\pi}{180})", False),
    ],
)
def test_equivalent(gold, answer, expected):
    assert equivalent(normalize_answer(gold), normalize_answer(answer)) is expected


@pytest.mark.parametrize(
    ("latex", "named"),
    [
        ("g'(t)", "g_{\\prime}(t)"),
        ("h''", "h_{\\prime\\prime}"),
        ("x_1'", "x_{1\\prime}"),
        ("x_{ab}'", "x_{ab\\prime}"),
        ("A'B'", "A_{\\prime}B_{\\prime}"),
        ("(2x+1)'", None),  # a prime after a bracket: no symbol to name
        ("5'", None),
    ],
)
def test_name_primes(latex, named):
    assert name_primes(latex) == named


def test_judge_needs_every_answer_equivalent():
    assert judge("\\frac{1}{2}", ["0.5", "\\frac{2}{4}"])
    assert not judge("\\frac{1}{2}", ["0.5", "\\frac{1}{3}"])


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        (sympy.Rational(1, 3), sympy.Rational(2, 6), True),
        (1 / sympy.factorial(30), 1 / sympy.factorial(31), False),
        (sympy.sqrt(2) / 2**80, sympy.sqrt(2) / 2**81, False),
        (sympy.sqrt(2) / 2, 1 / sympy.sqrt(2), True),
        (sympy.Float("1e-7"), sympy.Float("2e-7"), False),
        (sympy.Float("0.333333"), sympy.Rational(1, 3), True),
        (sympy.Integer(0), sympy.Integer(0), True),
    ],
)
def test_exact_values_agree(gold, answer, expected):
    assert exact_values_agree(gold, answer) is expected


def test_gold_parses_are_cached():
    parse_gold.cache_clear()
    parse_gold("\\frac{7}{9}")
    parse_gold("\\frac{7}{9}")
    assert parse_gold.cache_info().hits == 1


def _mv_baseline(gold: str, response: str) -> bool:
    return mv_verify(
        mv_parse(f"${gold}$", parsing_timeout=None), mv_parse(response, parsing_timeout=None), timeout_seconds=None
    )


@pytest.mark.parametrize(("gold", "response", "mv_says", "we_say", "why"), KNOWN_ISSUES)
def test_known_math_verify_issues(gold, response, mv_says, we_say, why):
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    # If math-verify changes its answer, the table (and KNOWN_ISSUES.md) must be updated.
    assert _mv_baseline(gold, response) is mv_says, why
    assert verify_batch([response], [gold])[0].correct is we_say, why


def test_no_parsing_path_executes_the_answer(canary):
    for payload in payloads(canary):
        parse_number(payload)  # fast path
        normalized = normalize_answer(payload)
        parse_latex(normalized)  # math-verify path
        equivalent("5", normalized)  # math-verify + sympy comparison path
        equivalent("1, 2", normalized)
    assert not canary.exists()


def test_canary_control_eval_based_parser_would_run_it(canary):
    # Proves the payloads are live: sympy's parse_expr (Python eval) executes them. hicra never calls it.
    sympy.parse_expr(f"__import__('os').system('touch {canary}')")
    assert canary.exists()
