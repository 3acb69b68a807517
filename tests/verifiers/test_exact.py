from __future__ import annotations

import pytest
import sympy

from hicra.verifiers.exact import exact_values_agree, quick_agree

x, y = sympy.symbols("x y")
IM = sympy.I


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        (2 * IM, (1 + IM) ** 2, True),
        (-2 * IM, (1 + IM) ** 2, False),
        (sympy.Rational(1, 2) + IM / 2, 1 / (1 - IM), True),
        (1 + IM, sympy.Float("1.0") + sympy.Float("1.0") * IM, True),
        (1 + IM, sympy.Float("1.0") + sympy.Float("1.001") * IM, False),
        (sympy.oo, sympy.oo, True),
        (sympy.oo, -sympy.oo, False),
        (sympy.oo, sympy.Integer(5), False),
    ],
)
def test_exact_values_agree_complex_and_infinite(gold, answer, expected):
    assert exact_values_agree(gold, answer) is expected


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        (sympy.Tuple(3, sympy.pi / 2), sympy.Tuple(3, sympy.pi / 2), True),
        (sympy.Tuple(3, sympy.pi / 2), sympy.Tuple(4, sympy.pi / 2), False),
        (sympy.Tuple(1, 2), sympy.Tuple(1, 2, 3), False),
        (sympy.Interval(1, 5, left_open=True), sympy.Interval(1, 5, left_open=True), True),
        (sympy.Interval(1, 5, left_open=True), sympy.Interval(1, 5), False),
        (sympy.Interval(sympy.pi**2 / 8, 5), sympy.Interval(sympy.pi**3 / 8, 5), False),
        (sympy.Interval(2, sympy.oo), sympy.Interval(2, sympy.oo), True),
        (sympy.FiniteSet(1, -2), sympy.FiniteSet(-2, 1), True),
        (sympy.FiniteSet(1, -2), sympy.FiniteSet(1, 2), False),
        (sympy.Matrix([1, 2]), sympy.Matrix([1, 2]), True),
        (sympy.Matrix([1, 2]), sympy.Matrix([2, 1]), False),
        (sympy.Matrix([1, 2]), sympy.Matrix([[1, 2]]), False),
        (x**5 - 1, x**6 - 1, False),  # different values at a sample point
        (x**2 + 2 * x + 1, (x + 1) ** 2, None),  # equal values: left to math-verify
        (x + y, x + 2 * y, False),
        (x, y, None),  # different variables: not sampled
        (sympy.Function("f")(x), x, None),
        (sympy.Tuple(1, x), sympy.Interval(1, 2), None),  # different kinds: left to math-verify
    ],
)
def test_quick_agree(gold, answer, expected):
    assert quick_agree(gold, answer) is expected
