from __future__ import annotations

from fractions import Fraction

import pytest

from hicra.verifiers import fastpath
from hicra.verifiers.fastpath import Number, fast_equivalent, numbers_equal, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", Number(Fraction(12), False)),
        ("-7", Number(Fraction(-7), False)),
        ("0.5", Number(Fraction(1, 2), True)),
        (".25", Number(Fraction(1, 4), True)),
        ("\\frac{3}{4}", Number(Fraction(3, 4), False)),
        ("-\\frac{3}{4}", Number(Fraction(-3, 4), False)),
        ("\\frac34", Number(Fraction(3, 4), False)),
        ("3/4", Number(Fraction(3, 4), False)),
        ("\\frac{1}{0}", None),  # division by zero is left to the full checker
        ("3\\frac{1}{2}", Number(Fraction(7, 2), False)),  # a mixed number (math-verify's reading)
        ("-3\\frac{1}{2}", Number(Fraction(-7, 2), False)),
        ("2\\frac34", Number(Fraction(11, 4), False)),
        ("1 2", None),  # digits apart are not one number (this was 12)
        ("3 1/2", None),  # (this was 31/2); normalisation makes it 3\frac{1}{2}
        ("- 5", Number(Fraction(-5), False)),
        ("3 / 4", Number(Fraction(3, 4), False)),
        ("x+1", None),
        ("1e5", None),
        ("9" * 100, None),  # too long for the fast path
        ("", None),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        ("18", "18", True),
        ("18", "18.0", True),
        ("18", "19", False),
        ("0.5", "\\frac{1}{2}", True),
        ("\\frac{14}{3}", "4.666667", True),  # 6 decimal places, as math-verify
        ("\\frac{14}{3}", "4.67", False),
        ("\\frac{1}{3}", "0.333333", True),
        ("0.0000001", "0.0000002", False),  # math-verify: equal (absolute rounding)
        ("\\frac{1}{100000000}", "0.00000002", False),  # math-verify: equal
        ("\\frac{6}{8}", "\\frac{3}{4}", True),
        ("C", "C", True),
        ("C", "D", False),
        ("C", "c", None),
        ("1,2", "2,1", True),
        ("1,2", "1,2,2", False),
        ("1,2", "1,3", False),
        ("1,x", "x,1", None),
        ("p - q", "p-q", True),
        ("(1, 2)", "(1,2)", True),
        ("( \\frac{3}{2}, -13 )", "(1.5,-13)", True),
        ("(1,2)", "(2,1)", False),
        ("(1,2)", "[1,2]", False),
        ("[1,2)", "[1,2)", True),
        ("(1,2,3)", "(1,2)", False),
        ("(1,\\pi)", "(1,\\pi)", True),
        ("(1,\\pi)", "(2,\\pi)", False),  # the first items differ: decided in-process
        ("(5)", "(5)", True),
        ("7", "x+1", None),
        ("12", "1 2", False),  # digits apart: not a number (the key keeps them apart too)
        ("B", "(B) 12", True),  # a choice letter with its option text, part by part
        ("12", "(B) 12", True),
        ("C", "(B) 12", False),
        ("13", "(B) 12", False),
        ("(B) 12", "(C) 12", False),
        ("\\frac{1}{2}", "(B) \\sin(\\frac{30\\pi}{180})", None),  # option text for the full checker
        ("21:05", "21:05", True),
        ("9:05", "21:05", False),  # two times of day
        ("1:20", "2:40", False),
        ("9:05", "1.8", False),  # a time is never a number
        ("9:05", "9:5", None),  # against a ratio: the full checker (math-verify's ratio) decides
        # a part that certainly differs decides a tuple, an interval or a matrix (else the full checker does)
        ("( 3, \\frac{\\pi}{2} )", "( 4, \\frac{\\pi}{2} )", False),
        ("( 3, \\frac{\\pi}{2} )", "( 3, \\frac{\\pi}{3} )", False),
        ("( 3, \\frac{\\pi}{2} )", "( 3, \\pi/2 )", None),
        ("(2,\\infty)", "(3,\\infty)", False),
        ("(2,\\infty)", "(2,\\infty]", None),  # other brackets with a non-number: the full checker decides
        ("(-\\sqrt{3}, \\sqrt{3})", "(-\\sqrt{4}, \\sqrt{3})", False),
        ("(0,9) \\cup (9,36)", "(1,9) \\cup (9,36)", None),  # a union, not one bracketed value
        ("\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}", "\\begin{pmatrix} -2/3 \\\\ 2/3 \\end{pmatrix}", False),
        (
            "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}",
            "\\begin{pmatrix} -1 & 0 \\\\ 0 & -2 \\end{pmatrix}",
            False,
        ),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\end{pmatrix}", None),  # another shape
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ \\frac{4}{2} \\end{pmatrix}", None),
        ("3\\sqrt{13}", "4\\sqrt{13}", False),  # different values at a sample point (evaluate.py)
        ("6 - 5i", "7 - 5i", False),
        ("\\pi", "3.14", None),
    ],
)
def test_fast_equivalent(gold, answer, expected):
    assert fast_equivalent(gold, answer) is expected


def test_exact_values_are_compared_exactly():
    huge = 10**40
    assert not numbers_equal(Number(Fraction(1, huge), False), Number(Fraction(1, huge + 1), False))
    assert numbers_equal(Number(Fraction(2, 2 * huge), False), Number(Fraction(1, huge), False))


def test_relative_tolerance_applies_to_decimals():
    assert Fraction(1, 1000) == fastpath.REL_TOL
    one_third = Number(Fraction(1, 3), False)
    assert numbers_equal(one_third, Number(Fraction("0.333333"), True))
    assert not numbers_equal(Number(Fraction("0.000001"), True), Number(Fraction("0.0000014"), True))
