"""A multiple-choice letter with its option text: ``(B) 12``, ``\\textbf{(B)}\\ 12``, ``B. 12``, ``B) 12``.

Such an answer states two things, the letter and the value, and is compared part by part with what the gold
states (KNOWN_ISSUES.md): against a letter gold its letter counts (``(B) 12`` is ``B``); against any other gold
its text counts (``(B) 12`` is ``12``); against a gold with both, both must agree (``(C) 12`` is not ``(B) 12``).
Option text that names another choice (``(A) and (C)``) or starts with a separator is not option text.
"""

from __future__ import annotations

import re

_OPTION_RE = re.compile(r"(?:\(([A-E])\)\s*|([A-E])[.)]\s+)(?P<text>\S.*)")
_OTHER_CHOICE_RE = re.compile(r"\([A-Ea-e]\)|(?<![A-Za-z\\])[A-E][.)](?:\s|$)")
#: Option text starts like a value; ``(C) + 1`` and ``(C) \\cdot 2`` are expressions, not a choice and its text.
_SEPARATOR_START_RE = re.compile(
    r"(?:and|or)\b|[,;&=+*/^_<>!|:)\]}.]|-(?![\d\\.(])|\\(?:cdot|times|div|pm|mp|le|ge|leq|geq|ne|neq|cup|cap|to)(?![A-Za-z])"
)
_LETTER_RE = re.compile(r"[A-E]")


def with_option_text(s: str) -> tuple[str, str] | None:
    """``(B) 12`` / ``B. 12`` -> ``("B", "12")``; None when ``s`` is not a letter followed by option text."""
    match = _OPTION_RE.fullmatch(s)
    if match is None:
        return None
    text = match.group("text").strip()
    if _OTHER_CHOICE_RE.search(text) or _SEPARATOR_START_RE.match(text):
        return None
    return match.group(1) or match.group(2), text


def split_choice(normalized: str) -> tuple[str, str | None] | None:
    """A normalised choice: ``(B) 12`` -> ``("B", "12")``, ``B`` -> ``("B", None)``; anything else None."""
    if _LETTER_RE.fullmatch(normalized):
        return normalized, None
    return with_option_text(normalized) if normalized.startswith("(") else None


def choice_pairs(gold: str, answer: str) -> list[tuple[str, str]] | None:
    """The (gold part, answer part) pairs that must all be equal when a side has option text; else None.

    >>> choice_pairs("B", "(B) 12"), choice_pairs("12", "(B) 12"), choice_pairs("(B) 12", "(C) 12")
    ([('B', 'B')], [('12', '12')], [('B', 'C'), ('12', '12')])
    """
    g, a = split_choice(gold), split_choice(answer)
    if not ((g is not None and g[1]) or (a is not None and a[1])):
        return None  # no option text: the letter rules of the fast path apply
    if g is not None and a is not None:
        texts = [(g[1], a[1])] if g[1] and a[1] else []
        return [(g[0], a[0]), *texts]
    if g is not None:
        return [(g[1], answer)]  # type: ignore[list-item]
    return [(gold, a[1])]  # type: ignore[index,list-item]
