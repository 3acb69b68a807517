"""Assignments in answers: ``x = 5``, ``(p,q) = (3,2)``, ``x = 5+5+1 = 11``, ``p=5,q=2;p=7,q=2``.

An answer ``lhs = value`` names its value when ``lhs`` is a name: a symbol (``x``, ``a_{37}``, ``\\theta``), a
function value (``f(x)``), a tuple of names (``(p,q)``), a ratio or fraction of names (``A:B``,
``\\frac{NO}{BO}``) or an absolute value (``|AB|``). Then the value is the last side of the chain, before any
``\\approx`` (``x = 1/3 \\approx 0.33`` -> ``1/3``). Any other ``lhs`` (``2x+4y-3 = 0``, ``7 = 11a+c``) makes
an equation, which is kept whole and compared as an equation.

Groups of assignments separated by ``;`` become tuples (``p=5,q=2;p=7,q=2`` -> ``(5,2),(7,2)``); in a comma
list each item loses its own name (``a_3 = 2, a_{37} = 19`` -> ``2, 19``).
"""

from __future__ import annotations

import re

from .lists import split_top_level

_SUBSCRIPT_RE = re.compile(r"_(?:\{[^{}]*\}|\w)")
_NAME_RE = re.compile(r"(?:\\[A-Za-z]+|[A-Za-z'|(){}:,/ ])+")
#: Commands that make an expression, not a name (``\\sqrt{x} = 3`` is an equation).
_OPERATOR_RE = re.compile(
    r"\\(?:sqrt|sin|cos|tan|cot|sec|csc|log|ln|exp|cdot|times|div|pm|mp|sum|prod|int)(?![A-Za-z])"
)
_APPROX_RE = re.compile(r"\\approx|\\simeq|≈")
_MAX_NAME_CHARS = 40


def is_name(lhs: str) -> bool:
    """True when ``lhs`` names a value (see the module docstring) rather than being an expression."""
    lhs = lhs.strip()
    if not lhs or len(lhs) > _MAX_NAME_CHARS:
        return False
    return not _OPERATOR_RE.search(lhs) and bool(_NAME_RE.fullmatch(_SUBSCRIPT_RE.sub("", lhs)))


def _cut_approx(value: str) -> str:
    parts = _APPROX_RE.split(value)
    return parts[0].strip() if parts[0].strip() else value.strip()


def assigned_value(item: str) -> str | None:
    """The value an assignment item names (``x = 5`` -> ``5``); None when ``item`` is not an assignment."""
    sides = split_top_level(item, "=")
    if len(sides) < 2:
        sides = _APPROX_RE.split(item)
        if len(sides) == 2 and is_name(sides[0]) and sides[1].strip():
            return sides[1].strip()  # x \approx 11
        return None
    if not is_name(sides[0]) or any(not side for side in sides[1:]):
        return None
    return _cut_approx(sides[-1])


def _assignment_groups(s: str) -> str | None:
    """``p=5,q=2;p=7,q=2`` -> ``(5,2),(7,2)``; None unless every ``;`` group is a list of assignments."""
    groups = split_top_level(s, ";")
    if len(groups) < 2:
        return None
    tuples = []
    for group in groups:
        values = [assigned_value(item) for item in split_top_level(group)]
        if not values or any(v is None for v in values):
            return None
        tuples.append(values[0] if len(values) == 1 else "(" + ",".join(values) + ")")  # type: ignore[arg-type]
    return ",".join(tuples)  # type: ignore[arg-type]


def strip_assignments(s: str) -> str:
    """The values an answer assigns (see the module docstring); equations and other answers unchanged."""
    grouped = _assignment_groups(s)
    if grouped is not None:
        return grouped
    items = split_top_level(s)
    values = [assigned_value(item) for item in items]
    if all(v is None for v in values):
        return s
    return ",".join(v if v is not None else item for item, v in zip(items, values))


def is_equation(s: str) -> bool:
    """True when ``s`` is (or lists) an equation that is not a plain assignment (``2x+4y-3=0``)."""
    return any(len(split_top_level(item, "=")) > 1 for item in split_top_level(s))
