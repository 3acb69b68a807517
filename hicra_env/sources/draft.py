"""`Draft`: what a procedural generator returns, and the exact-number formatting every family shares."""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple


class Draft(NamedTuple):
    """A generated problem before it gets an id: question, gold answer, worked solution (ends in \\boxed{}).

    ``strategies`` holds ``(strategy name, worked solution)`` for every strategy of a strategy family
    (:mod:`hicra_env.sources.strategies`), the one ``solution`` follows among them; empty for other families.
    """

    problem: str
    answer: str
    solution: str
    strategies: tuple[tuple[str, str], ...] = ()


def latex_number(value: Fraction | int) -> str:
    """Exact LaTeX for an integer or fraction in lowest terms: ``7``, ``-3``, ``\\frac{5}{6}``, ``-\\frac{1}{2}``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def plain_number(value: Fraction | int) -> str:
    """Plain text for an integer or fraction: ``7``, ``-3``, ``5/6``."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def finish(steps: str, answer: Fraction | int | str) -> str:
    """A solution: the worked steps, then ``The answer is \\boxed{answer}.``"""
    gold = answer if isinstance(answer, str) else latex_number(answer)
    return f"{steps} The answer is \\boxed{{{gold}}}."


def signed(value: int) -> str:
    """``+ 5`` or ``- 5`` for writing chains."""
    return f"+ {value}" if value >= 0 else f"- {-value}"
