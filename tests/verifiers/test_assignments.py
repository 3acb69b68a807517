"""Assignments (``x = 5`` names 5) against equations (``2x+4y-3 = 0`` is compared whole)."""

from __future__ import annotations

import pytest

from hicra.verifiers.assignments import assigned_value, is_equation, is_name, strip_assignments


@pytest.mark.parametrize(
    ("lhs", "expected"),
    [
        ("x", True),
        ("a_{37}", True),
        ("\\theta", True),
        ("f(x)", True),
        ("(p,q,r)", True),
        ("A:B", True),
        ("V_{1}:V_{2}", True),
        ("\\frac{NO}{BO}", True),
        ("|AB|", True),
        ("2x+4y-3", False),
        ("7", False),
        ("x^2/4 + y^2/3", False),
        ("a +3z", False),
        ("\\sqrt{x}", False),  # an operator makes an expression
        ("", False),
        ("x" * 41, False),
    ],
)
def test_is_name(lhs, expected):
    assert is_name(lhs) is expected


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("x = 5", "5"),
        ("x = 5+5+1 = 7 = 11", "11"),  # a chain names its last side
        ("x = 5+5+1 = 1/3 \\approx 11", "1/3"),  # ... before any approximation
        ("x \\approx 11", "11"),
        ("(p,q) = (3,2)", "(3,2)"),
        ("2x+4y-3 = 0", None),
        ("x = ", None),
        ("x == 5", None),
        ("5", None),
    ],
)
def test_assigned_value(item, value):
    assert assigned_value(item) == value


@pytest.mark.parametrize(
    ("answer", "stripped"),
    [
        ("p=5,q=2;p=7,q=2", "(5,2),(7,2)"),  # ";" groups of assignments are tuples
        ("a_3 = 2, a_{37} = 19", "2,19"),
        ("x = -5, p = \\frac{14}{3}", "-5,\\frac{14}{3}"),
        ("a=4, -8, -10", "4,-8,-10"),
        ("x = 11,111", "11,111"),  # the caller then reads thousands separators
        ("1 = \\zzz = x = 0", "1 = \\zzz = x = 0"),  # an equation chain stays whole
        ("y = 2x+3", "2x+3"),
    ],
)
def test_strip_assignments(answer, stripped):
    assert strip_assignments(answer) == stripped


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("2x+4y-3=0", True), ("x-2y+z-1=0, y=1", True), ("5", False), ("1, 2", False), ("x \\geq 5", False)],
)
def test_is_equation(answer, expected):
    assert is_equation(answer) is expected
