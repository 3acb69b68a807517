from __future__ import annotations

import pytest

from hicra.verifiers.evaluate import compile_value, values_differ


@pytest.mark.parametrize(
    ("gold", "answer", "differ"),
    [
        ("3\\sqrt{13}", "4\\sqrt{13}", True),
        ("11\\sqrt2", "21\\sqrt2", True),
        ("6 - 5i", "7 - 5i", True),  # i is the imaginary unit where it is the only letter
        ("x^5 - x^4 + x^3 - x^2 + x - 1", "x^6 - x^4 + x^3 - x^2 + x - 1", True),
        ("(a+5)(b+2)", "(a+6)(b+2)", True),
        ("-\\frac{\\pi}{6}", "-\\frac{\\pi}{7}", True),
        ("\\frac9{19}", "\\frac0{19}", True),
        ("2k", "3k", True),
        # equal values decide nothing (the full checker does)
        ("x^2+2x+1", "(x+1)^2", False),
        ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", False),
        ("2i", "(1+i)^2", False),
        ("-2^2", "-4", False),
        # outside the grammar, or not comparable here: no decision
        ("\\sqrt{5}", "2.236068", False),  # a decimal against an exact value: the 6-place rule decides elsewhere
        ("x", "y", False),  # different letters
        ("e", "2", False),  # e is Euler's number to math-verify: not read here
        ("x^23", "x^2 3", False),  # a multi-digit exponent without braces is not read
        ("1", "10^{17}+1-10^{17}", False),  # float cancellation: the tolerance grows with the largest term
        ("\\sin x", "\\cos x", False),
        ("1, 2", "1, 3", False),
        ("x/2", "x/3", False),
    ],
)
def test_values_differ(gold, answer, differ):
    assert values_differ(gold, answer) is differ


def test_compile_value_reads_letters():
    value, letters, _ = compile_value("2x^2 + 3y")
    assert letters == {"x", "y"}
    assert value({"x": 2, "y": 1}) == 11
    assert compile_value("\\binom{5}{2}") is None
