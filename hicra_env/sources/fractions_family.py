"""Fraction arithmetic (``fractions`` family), exact with :class:`fractions.Fraction`.

Difficulty d (1-4): d=1 adds two fractions with denominators 2-6; d=2 adds or subtracts two with denominators
2-12; d=3 chains three with denominators 2-12; d=4 multiplies or divides a sum of two by a third. The answer is
in lowest terms, as LaTeX (``\\frac{5}{6}``, or an integer).
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import lcm

from .draft import Draft, finish, latex_number, plain_number

FRACTION_DENOMINATORS: dict[int, int] = {1: 6, 2: 12, 3: 12, 4: 12}
"""difficulty -> largest denominator (smallest is 2)."""


def _fraction(rng: random.Random, largest_denominator: int) -> Fraction:
    den = rng.randint(2, largest_denominator)
    return Fraction(rng.randint(1, den - 1), den)


def _text(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _add_chain(terms: list[Fraction], ops: list[str]) -> tuple[Fraction, str]:
    """Value and worked steps of ``terms[0] ops[0] terms[1] ...`` over a common denominator."""
    den = lcm(*(t.denominator for t in terms))
    scaled = [f"{t.numerator * den // t.denominator}/{den}" for t in terms]
    total = terms[0]
    for op, t in zip(ops, terms[1:]):
        total = total + t if op == "+" else total - t
    expr = scaled[0] + "".join(f" {op} {s}" for op, s in zip(ops, scaled[1:]))
    numer = total * den
    steps = f"The common denominator is {den}: {expr} = {plain_number(numer)}/{den}"
    if total.denominator != den:
        steps += f" = {plain_number(total)}"
    return total, steps + "."


def fractions(rng: random.Random, difficulty: int) -> Draft:
    """Add, subtract, multiply or divide proper fractions."""
    largest = FRACTION_DENOMINATORS[difficulty]
    n_terms = 3 if difficulty == 3 else 2
    terms = [_fraction(rng, largest) for _ in range(n_terms)]
    ops = ["+" if difficulty == 1 else rng.choice("+-") for _ in range(n_terms - 1)]
    total, steps = _add_chain(terms, ops)
    expr = _text(terms[0]) + "".join(f" {op} {_text(t)}" for op, t in zip(ops, terms[1:]))
    if difficulty == 4:
        factor = _fraction(rng, largest)
        if rng.random() < 0.5:
            expr, result = f"({expr}) * {_text(factor)}", total * factor
            steps += f" Then {plain_number(total)} * {_text(factor)} = {plain_number(result)}."
        else:
            expr, result = f"({expr}) / {_text(factor)}", total / factor
            steps += f" Dividing by {_text(factor)} means multiplying by {factor.denominator}/{factor.numerator}:"
            steps += f" {plain_number(total)} * {factor.denominator}/{factor.numerator} = {plain_number(result)}."
        total = result
    problem = f"Compute {expr}. Give the answer as a fraction in lowest terms."
    return Draft(problem, latex_number(total), finish(steps, total))
