"""In-process fast path: decides the common cases (integers, decimals, simple fractions, multiple-choice
letters (also with their option text), times of day, identical normalised strings, unordered lists and
ordered tuples/intervals of those) without sympy or a worker process.

It returns the verdict math-verify would return, except where math-verify is wrong (see KNOWN_ISSUES.md):
exact values (integers, fractions) are compared exactly; where a side is a decimal, the two values must agree
to 6 decimal places (math-verify's rule) *and* to a relative tolerance, so tiny magnitudes are not all equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .choices import choice_pairs
from .evaluate import values_differ
from .normalize import canonical_key, is_bare_list, split_top_level
from .notation import parse_time

#: Relative tolerance for comparisons that involve a decimal.
REL_TOL = Fraction(1, 1000)
#: Decimal places math-verify rounds both sides to before comparing decimals.
ROUND_PLACES = 6
_MAX_NUMBER_CHARS = 60
_MAX_LIST_ITEMS = 32

_INT_RE = re.compile(r"[-+]?\d+")
_DECIMAL_RE = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)")
_FRAC_RE = re.compile(
    r"(?P<sign>[-+]?)(?P<whole>\d+)?\\frac(?:\{(?P<n>[-+]?\d+)\}\{(?P<d>[-+]?\d+)\}|(?P<n1>\d)(?P<d1>\d))"
)
_DIGITS_APART_RE = re.compile(r"\d\s+\d")
_RATIO_RE = re.compile(r"\d+\s*:\s*\d+")
#: A numeral with its base: ``4210_{5}``, ``1A_{16}``.
_BASE_RE = re.compile(r"([0-9A-F]*\d[0-9A-F]*)_\{?\s*(\d{1,2})\s*\}?")
#: Letters that are names on their own (``x``, ``A``) and Greek letters with a capital form (``\\pi``, ``\\Pi``).
_IDENTIFIER_RE = re.compile(
    r"(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])|\\(?:[Gg]amma|[Dd]elta|[Tt]heta|[Ll]ambda|[Xx]i|[Pp]i|[Ss]igma|[Uu]psilon|"
    r"[Pp]hi|[Pp]si|[Oo]mega)(?![A-Za-z])"
)
_SLASH_RE = re.compile(r"(?P<n>[-+]?\d+)\s*/\s*(?P<d>[-+]?\d+)")
_CHOICE_RE = re.compile(r"[A-E]")
_BRACKETED_RE = re.compile(r"([(\[])(.*)([)\]])")
_MATRIX_RE = re.compile(r"\\begin\{([pbv]?matrix)\}(.*)\\end\{\1\}", re.DOTALL)


@dataclass(frozen=True)
class Number:
    """An exactly-known value; ``decimal`` when it was written with a decimal point."""

    value: Fraction
    decimal: bool


def parse_number(s: str) -> Number | None:
    """``"12"``, ``"-0.5"``, ``"\\frac{3}{4}"``, ``"\\frac34"``, ``"3/4"`` -> Number; anything else -> None.

    A whole number before ``\\frac`` makes a mixed number (``3\\frac{1}{2}`` is 7/2, as math-verify reads it);
    digits apart (``1 2``, ``3 1/2``) are not one number.
    """
    if not s or len(s) > _MAX_NUMBER_CHARS or _DIGITS_APART_RE.search(s):
        return None
    s = s.replace(" ", "")
    if _INT_RE.fullmatch(s):
        return Number(Fraction(int(s)), decimal=False)
    if _DECIMAL_RE.fullmatch(s):
        return Number(Fraction(s), decimal=True)
    frac = _FRAC_RE.fullmatch(s)
    if frac:
        num, den = frac.group("n") or frac.group("n1"), frac.group("d") or frac.group("d1")
        sign = -1 if frac.group("sign") == "-" else 1
        whole = frac.group("whole")
        if whole is not None:
            if int(den) == 0 or "-" in num + den:
                return None
            return Number(sign * (int(whole) + Fraction(int(num), int(den))), decimal=False)
    else:
        slash = _SLASH_RE.fullmatch(s)
        if not slash:
            return None
        num, den, sign = slash.group("n"), slash.group("d"), 1
    if int(den) == 0:
        return None  # division by zero: left to the full checker
    return Number(sign * Fraction(int(num), int(den)), decimal=False)


def numbers_equal(a: Number, b: Number) -> bool:
    """Exact equality for exact values; for decimals, equal to 6 places and within ``REL_TOL``."""
    if not (a.decimal or b.decimal):
        return a.value == b.value
    if round(a.value, ROUND_PLACES) != round(b.value, ROUND_PLACES):
        return False
    scale = max(abs(a.value), abs(b.value))
    return abs(a.value - b.value) <= REL_TOL * scale


def _number_items(gold: str, answer: str) -> tuple[list[Number], list[Number]] | None:
    """The comma-separated items of both sides as numbers; None when a side is too long or an item is not one."""
    gold_items, answer_items = split_top_level(gold), split_top_level(answer)
    if max(len(gold_items), len(answer_items)) > _MAX_LIST_ITEMS:
        return None
    gold_nums = [parse_number(x) for x in gold_items]
    answer_nums = [parse_number(x) for x in answer_items]
    if any(x is None for x in gold_nums + answer_nums):
        return None
    return gold_nums, answer_nums  # type: ignore[return-value]


def _lists_equal(gold: str, answer: str) -> bool | None:
    """Unordered comparison of two bare lists of numbers; None when an item is not a plain number."""
    items = _number_items(gold, answer)
    if items is None:
        return None
    gold_nums, answer_nums = items
    if len(gold_nums) != len(answer_nums):
        return False
    remaining = list(answer_nums)
    for g in gold_nums:
        match = next((i for i, a in enumerate(remaining) if numbers_equal(g, a)), None)
        if match is None:
            return False
        remaining.pop(match)
    return True


def _bracketed_equal(gold: str, answer: str) -> bool | None:
    """Ordered comparison of tuples/intervals of plain numbers (same brackets); None otherwise."""
    g, a = _BRACKETED_RE.fullmatch(gold), _BRACKETED_RE.fullmatch(answer)
    if g is None or a is None:
        return None
    items = _number_items(g.group(2), a.group(2))
    if items is None or len(items[0]) < 2:
        return None
    gold_nums, answer_nums = items
    if (g.group(1), g.group(3)) != (a.group(1), a.group(3)) or len(gold_nums) != len(answer_nums):
        return False
    return all(numbers_equal(x, y) for x, y in zip(gold_nums, answer_nums))


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += (ch in "([{") - (ch in ")]}")
        if depth < 0:
            return False
    return depth == 0


def _item_differs(gold: str, answer: str) -> bool:
    """Two items that are certainly different: two numbers that differ, or values that differ (evaluate.py)."""
    g, a = parse_number(gold), parse_number(answer)
    if g is not None and a is not None:
        return not numbers_equal(g, a)
    return values_differ(gold, answer)


def _parts(gold: str, answer: str) -> tuple[list[str], list[str]] | None:
    """The ordered parts of two values of one shape: tuple/interval items (same brackets) or matrix entries."""
    g, a = _MATRIX_RE.fullmatch(gold), _MATRIX_RE.fullmatch(answer)
    if g is not None and a is not None:
        if g.group(1) != a.group(1):
            return None
        rows = [[r.split("&") for r in m.group(2).split("\\\\")] for m in (g, a)]
        if [len(r) for r in rows[0]] != [len(r) for r in rows[1]]:
            return None  # another shape: left to the full checker
        return [x.strip() for r in rows[0] for x in r], [x.strip() for r in rows[1] for x in r]
    g, a = _BRACKETED_RE.fullmatch(gold), _BRACKETED_RE.fullmatch(answer)
    if g is None or a is None or (g.group(1), g.group(3)) != (a.group(1), a.group(3)):
        return None
    if not (_balanced(g.group(2)) and _balanced(a.group(2))):
        return None  # (0,9) \\cup (9,36): not one bracketed value
    gold_items, answer_items = split_top_level(g.group(2)), split_top_level(a.group(2))
    return (gold_items, answer_items) if len(gold_items) == len(answer_items) > 1 else None


def _some_part_differs(gold: str, answer: str) -> bool:
    """Tuples, intervals (same brackets) or matrices (same shape) with a part that certainly differs."""
    parts = _parts(gold, answer)
    if parts is None or len(parts[0]) > _MAX_LIST_ITEMS:
        return False
    return any(_item_differs(g, a) for g, a in zip(*parts))


def _case_only_difference(gold: str, answer: str) -> bool:
    """True when the two sides name the same letters up to case only (``x`` / ``X``, ``\\pi`` / ``\\Pi``)."""
    gold_names, answer_names = set(_IDENTIFIER_RE.findall(gold)), set(_IDENTIFIER_RE.findall(answer))
    if gold_names == answer_names:
        return False
    return {n.lower() for n in gold_names} == {n.lower() for n in answer_names}


def _numerals_in_base(gold: str, answer: str) -> bool | None:
    """``4210_{5}`` against ``4210`` (the base may be omitted) or ``4210_{6}`` (another base: different)."""
    g, a = _BASE_RE.fullmatch(gold), _BASE_RE.fullmatch(answer)
    if g is None and a is None:
        return None
    g_digits, g_base = (g.group(1), g.group(2)) if g else (gold, None)
    a_digits, a_base = (a.group(1), a.group(2)) if a else (answer, None)
    if g_base is not None and a_base is not None and int(g_base) != int(a_base):
        return False
    return g_digits.strip() == a_digits.strip()


def fast_equivalent(gold: str, answer: str) -> bool | None:
    """Decide whether normalised ``answer`` equals normalised ``gold``; None when it needs the full checker."""
    if canonical_key(gold) == canonical_key(answer) and gold:
        return True
    pairs = choice_pairs(gold, answer)
    if pairs is not None:  # a choice letter with its option text: each stated part must agree
        parts = [fast_equivalent(g, a) for g, a in pairs]
        return False if False in parts else (None if None in parts else True)
    if _CHOICE_RE.fullmatch(gold):
        return answer == gold if _CHOICE_RE.fullmatch(answer) else None
    if _case_only_difference(gold, answer):
        return False  # x is not X, \\pi is not \\Pi (math-verify ignores the case of a letter)
    in_base = _numerals_in_base(gold, answer)
    if in_base is not None:
        return in_base
    if _DIGITS_APART_RE.search(answer) and not _DIGITS_APART_RE.search(gold):
        return False  # "1 2" is not 12 (thousands and mixed numbers were read by normalisation)
    gold_time, answer_time = parse_time(gold), parse_time(answer)
    if gold_time is not None and answer_time is not None:
        return gold_time == answer_time  # two times of day (``H:MM``), not ratios
    if (gold_time is None) != (answer_time is None) and not _RATIO_RE.fullmatch(gold if gold_time is None else answer):
        return False  # a time of day is only ever a time (or, against a ratio, left to the full checker)
    gold_num = parse_number(gold)
    if gold_num is not None:
        answer_num = parse_number(answer)
        return numbers_equal(gold_num, answer_num) if answer_num is not None else None
    if is_bare_list(gold) and is_bare_list(answer):
        return _lists_equal(gold, answer)
    bracketed = _bracketed_equal(gold, answer)
    if bracketed is None and (values_differ(gold, answer) or _some_part_differs(gold, answer)):
        return False  # e.g. 4\\sqrt{13} against 3\\sqrt{13}: different values at a sample point (evaluate.py)
    return bracketed
