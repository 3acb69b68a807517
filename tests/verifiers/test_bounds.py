from __future__ import annotations

from decimal import Decimal

import pytest

from hicra.verifiers.bounds import estimate, too_costly


@pytest.mark.parametrize(
    ("latex", "costly"),
    [
        ("(3^{10^{-400}}, 5]", True),  # a root of degree 10^400
        ("3^{\\frac{1}{10^{400}}}", True),
        ("9^{9^{9^{9^9}}}", True),
        ("10^{10^{5}}", True),
        ("2^{10!}", True),
        ("10^{10}!", True),
        ("(10^{10})!", True),
        ("100000!", True),
        ("\\sqrt[10^{9}]{2}", True),
        ("x^{10^{-5}}", True),
        ("2^{100}", False),
        ("2^{2005}", False),
        ("2^{-3}", False),
        ("2^{0.5}", False),
        ("\\frac{1}{2^{99}}", False),
        ("x^{2}", False),
        ("e^{i\\pi}", False),
        ("5!", False),
        ("\\sqrt[3]{2}", False),
        ("2^{n}", False),  # unknown exponents are not judged
    ],
)
def test_too_costly(latex, costly):
    assert too_costly(latex) is costly


def test_estimate():
    assert estimate("10^{-400}") == Decimal("1e-400")
    assert estimate("\\frac{1}{2}") == Decimal("0.5")
    assert estimate("-(3+4)*2") == -14
    assert estimate("3!") == 6
    assert estimate("9^{9^{9^9}}") == Decimal("Infinity")
    assert estimate("x") is None
    assert estimate("1/0") is None
