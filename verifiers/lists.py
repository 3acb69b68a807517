"""List answers: several solutions written ``1, -2``, ``(2,2), (6,2)``, ``\\{1, 2\\}`` or ``6 and 8``.

A list is unordered (``1, -2`` equals ``-2, 1``); a tuple or interval in brackets (``(1, 2)``, ``[0, 1)``) is
one ordered value, not a list. Whether the gold is a list decides how a response's several boxes are read
(:mod:`.boxes`) and whether "or" between answers is a hedge or names the solutions (``x = 1 or x = 2``).
"""

from __future__ import annotations

import re

#: "and"/"or" as a word, or glued before a capital (``W(x)=1orW(x)=-1``).
_LIST_WORD_RE = re.compile(r"\s*,?\s*(?<![A-Za-z\\])(?:and|or)(?![a-z])\s*")
_RELATION_RE = re.compile(r"[<>]|\\(?:[lg]eq?|neq|in)(?![A-Za-z])")
_SET_RE = re.compile(r"\\\{(.*)\\\}|\{(.*)\}")


def split_top_level(s: str, sep: str = ",") -> list[str]:
    """Split ``s`` at ``sep`` outside any brackets/braces (``"1, (2,3)"`` -> ``["1", "(2,3)"]``)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(s[start:i].strip())
            start = i + 1
    parts.append(s[start:].strip())
    return parts


def is_bare_list(normalized: str) -> bool:
    """True for a list of solutions written without brackets, e.g. ``1, -2`` (order does not matter)."""
    if not normalized or normalized[0] in "([{" or normalized.startswith("\\{"):
        return False
    parts = split_top_level(normalized)
    return len(parts) > 1 and all(parts)


def is_list_answer(normalized: str) -> bool:
    """Two or more items: ``1, -2``, ``(1,2), (2,1)``, ``\\{1, 2\\}``, ``{1,2,3}`` (not a tuple ``(1, 2)``)."""
    braces = _SET_RE.fullmatch(normalized.strip())
    if braces is not None:
        normalized = braces.group(1) if braces.group(1) is not None else braces.group(2)
    return len([p for p in split_top_level(normalized) if p]) > 1


def join_list_words(s: str) -> str:
    """``6 and 8`` / ``21,16 or 11`` -> ``6, 8`` / ``21,16, 11``: "and"/"or" between items become commas.

    Only for a list gold (and the answers compared with it): for a single value, "or" is a hedge.
    """
    if not _LIST_WORD_RE.search(s) or _RELATION_RE.search(s):
        return s  # "x < 1 or x > 3" is one answer (a union), not a list
    return ", ".join(part for part in _LIST_WORD_RE.split(s) if part.strip())
