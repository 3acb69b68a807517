"""Normalisation of answer strings, in the spirit of the MATH graders (Hendrycks' ``strip_string``,
Minerva's ``normalize_final_answer``): fonts, primes and degrees (:mod:`.notation`), dollars, percent, units,
thousands separators, ``x = 5`` assignments, multiple-choice letters (with their option text) and times.

Everything here is string work on an answer the caller has capped (``api.MAX_ANSWER_CHARS``); no parsing,
no evaluation.
"""

from __future__ import annotations

import re

from .assignments import strip_assignments
from .choices import with_option_text
from .lists import is_bare_list, join_list_words, split_top_level
from .notation import canonical_primes, canonical_time, mixed_numbers, strip_fonts, trig_degrees

__all__ = ["canonical_key", "is_bare_list", "normalize_answer", "split_top_level"]

#: A unit written in a text command glued to its number (``7\text{m}``) is a unit, not a product: a space first.
_GLUED_UNIT_RE = re.compile(r"(?<=[\d}])\\(text|textrm|mathrm|mbox)\s*\{\s*(?=[A-Za-z])")
_SPACING_RE = re.compile(r"(?<!\\)\\[,;: ]|\\q?quad|~")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree\b")
_LEFT_RIGHT_RE = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*")
_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SPACE_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?")
_DIGITS_APART_RE = re.compile(r"(\d)\s+(?=\d)")
_LINE_BREAK_RE = re.compile(r"(?<!\\)\\\\(?=[A-Za-z])")
_BRACED_COMMA_RE = re.compile(r"\s*\{\s*,\s*\}\s*")
_PERCENT_RE = re.compile(r"(?<=[\d}.])\s*(?:\\?%|percent(?:age)?|pct)(?![A-Za-z])", re.IGNORECASE)
_CHOICE_RE = re.compile(r"^(?:([A-E])|\(([A-Ea-e])\))\.?$")
_UNITS = (
    "units?|square units|sq units|cm|centimeters?|mm|millimeters?|km|kilometers?|m|meters?|metres?|"
    "inch(?:es)?|in|feet|foot|ft|yards?|yd|miles?|mi|mph|km/h|kg|kilograms?|g|grams?|pounds?|lbs?|"
    "ounces?|oz|liters?|litres?|ml|gallons?|dollars?|cents?|euros?|hours?|hrs?|minutes?|mins?|"
    "seconds?|secs?|s|days?|weeks?|months?|years?|degrees?|students|people|pages|apples|marbles"
)
_UNIT_RE = re.compile(r"^(?P<value>.*?[\d}.])\s+(?:" + _UNITS + r")(?:\^\{?[23]\}?)?\s*$")


def _strip_delimiters(s: str) -> str:
    """Remove surrounding ``$...$``, ``\\(...\\)``, ``\\[...\\]`` and a trailing full stop."""
    s = s.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
            s = s[len(left) : len(s) - len(right)].strip()
    return s.rstrip(".").strip()


def _clean(answer: str) -> str:
    """Delimiters, spacing, fonts, primes, degrees, percent, dollars and separators: one LaTeX answer string."""
    s = _LINE_BREAK_RE.sub(" \\\\", _strip_delimiters(answer))  # a line break glued to a command: one backslash
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\displaystyle", "")
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _SPACING_RE.sub(" ", re.sub(r",\\!\s*", ",", s).replace("\\!", ""))
    s = canonical_primes(strip_fonts(_GLUED_UNIT_RE.sub(r" \\\1{", s)))
    s = _DEGREE_RE.sub("", trig_degrees(s))
    s = _PERCENT_RE.sub("", s.replace("\\$", "").replace("$", ""))
    s = _BRACED_COMMA_RE.sub(",", s.replace("\\%", "").replace("%", ""))
    return mixed_numbers(_strip_delimiters(" ".join(s.split())))


def normalize_answer(answer: str, *, lists: bool = False, keep_equation: bool = False) -> str:
    """Normalise one final answer, keeping it valid LaTeX (spaces are collapsed, not removed).

    ``lists``: the gold is a list, so "and"/"or" between items separate them (``6 \\text{ and } 8`` ->
    ``6, 8``). ``keep_equation``: the gold is an equation, so ``y = ...`` stays an equation instead of
    naming its value (:mod:`.assignments`). A choice letter with its option text (``(B) 12``, ``B. 12``)
    becomes ``(B) 12`` with the text normalised (:mod:`.choices`).

    >>> normalize_answer(r"\\$1{,}000")
    '1000'
    >>> normalize_answer(r"x = \\dfrac{1}{2}")
    '\\\\frac{1}{2}'
    """
    s = _clean(answer)
    option = with_option_text(s)
    if option is not None:
        letter, text = option
        text = normalize_answer(text, lists=lists, keep_equation=keep_equation)
        return f"({letter}) {text}" if text else letter
    unit = _UNIT_RE.match(s)
    if unit and unit.group("value").strip():
        s = unit.group("value").strip()
    if lists:
        s = join_list_words(s)
    if not keep_equation:
        s = strip_assignments(s)
    if _THOUSANDS_RE.fullmatch(s) or _SPACE_THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "").replace(" ", "")
    choice = _CHOICE_RE.match(s)
    if choice:
        s = (choice.group(1) or choice.group(2)).upper()
    return canonical_time(s)


def canonical_key(normalized: str) -> str:
    """A whitespace-free key for exact string comparison of normalised answers (digits apart stay apart:
    ``1 2`` is not ``12``)."""
    if _DIGITS_APART_RE.search(normalized):
        return "".join(_DIGITS_APART_RE.sub("\\1\0", normalized).split()).replace("\0", " ")
    return "".join(normalized.split())


def answer_key(answer: str) -> str:
    """The key under which two final answers are the same vote (maj@k): the verifier's normalisation, without
    whitespace. ``\\dfrac{1}{2}``, ``\\frac {1}{2}`` and ``x = \\frac{1}{2}`` share a key; ``0.5`` does not.

    >>> answer_key(r"x = \\dfrac{1}{2}") == answer_key(r"\\frac {1}{2}")
    True
    """
    return canonical_key(normalize_answer(answer))
