"""``\\boxed{...}`` / ``\\fbox{...}`` answers: where they are, and which of them state one answer together.

Several boxes are read in one of three ways, decided by the text between neighbouring boxes (the *gap*):

* **a list**: the gap is only a separator (``,``, ``;``, ``and``, ``\\quad \\text{and} \\quad``, math
  delimiters): ``\\boxed{1}, \\boxed{-2}`` states the one answer ``1, -2``;
* **a hedge**: the gap offers an alternative (``\\boxed{3} or \\boxed{5}``, ``or maybe``): one answer
  ``3 \\text{ or } 5``, which is never correct for a single-value gold;
* **separate statements**: any other gap (``\\boxed{3}. Wait, that is wrong: \\boxed{4}``): a revision; the
  caller decides which statement counts (the last, by default).

When the gold itself is a list, the looser rule of the field (Math-Verify's) applies instead: a gap under 10
characters, or under 70 characters that contains ``and``/``or``/``,``/``;`` and no sentence break, joins two
different boxes into one list (``\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SCAN_CHARS = 200_000
#: A box longer than this is not read (the caller treats longer answers as wrong anyway).
MAX_READ_CHARS = 100_000
MAX_BOXES = 64

_BRACE_RE = re.compile(r"\\.|[{}]", re.DOTALL)
_TOKEN_RE = re.compile(rf"[^\s$]{{1,{MAX_READ_CHARS}}}")
_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
#: Text that carries no meaning between two boxes: spaces, math delimiters, spacing commands, text wrappers.
_FILLER_RE = re.compile(r"\s+|\$|\\[()\[\]]|\\q?quad\b|\\[,;: !]|\\(?:text|mbox|textrm)\s*\{|[{}]|\\\\")
_LIST_GAP_RE = re.compile(r"(?:\s*(?:[,;&]|and\b)\s*)*")
_HEDGE_GAP_RE = re.compile(r"[,;]?\s*or\b[^.!?\n]{0,24}")
_LOOSE_SEPARATOR_RE = re.compile(r"\b(?:and|or)\b|[,;]")
_SENTENCE_BREAK_RE = re.compile(r"[.!?](?:\s|$)|\n\s*\n")


@dataclass(frozen=True)
class Box:
    """One box: its content (stripped) and its span ``[start, end)`` in the scanned text."""

    content: str
    start: int
    end: int


@dataclass(frozen=True)
class BoxGroup:
    """Neighbouring boxes that state one answer: ``joint`` is ``"list"``, ``"hedge"`` or None (one box)."""

    items: tuple[str, ...]
    start: int
    end: int
    joint: str | None = None


def _closing_braces(text: str) -> dict[int, int]:
    """Position of every ``{`` in ``text`` -> position of its matching ``}`` (one linear pass)."""
    closing: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE_RE.finditer(text):
        ch = match.group(0)
        if ch == "{":
            stack.append(match.start())
        elif ch == "}" and stack:
            closing[stack.pop()] = match.start()
    return closing


def _read_box(text: str, end: int, closing: dict[int, int], unclosed: bool) -> tuple[str, int] | None:
    """The argument of a box command ending at ``end`` and where it ends: ``{...}`` or one bare token."""
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    if j < len(text) and text[j] == "{":
        close = closing.get(j)
        if close is None:
            return (text[j + 1 :], len(text)) if unclosed and len(text) - j <= MAX_READ_CHARS else None
        return (text[j + 1 : close], close + 1) if close - j - 1 <= MAX_READ_CHARS else None
    if j == end:
        return None
    token = _TOKEN_RE.match(text, j)
    return (token.group(0), token.end()) if token else None


def find_boxes(text: str, *, unclosed: bool = False) -> list[Box]:
    """Every box with content in ``text`` (at most the last ``MAX_BOXES``), in order.

    An unclosed box (``\\boxed{5``, a truncated response) is skipped, unless ``unclosed`` (gold answers): then
    the rest of the text is its content.
    """
    starts = [m for m in _BOX_RE.finditer(text)][-MAX_BOXES:]
    if not starts:
        return []
    closing = _closing_braces(text)
    boxes = []
    for match in starts:
        found = _read_box(text, match.end(), closing, unclosed)
        if found is not None and found[0].strip():
            boxes.append(Box(found[0].strip(), match.start(), found[1]))
    return boxes


def gap_kind(gap: str) -> str | None:
    """How the text between two boxes joins them: ``"list"``, ``"hedge"``, or None (separate statements)."""
    if len(gap) > 200:
        return None
    core = " ".join(_FILLER_RE.sub(" ", gap).split()).lower()
    if _LIST_GAP_RE.fullmatch(core):
        return "list"
    if _HEDGE_GAP_RE.fullmatch(core):
        return "hedge"
    return None


def loose_list_gap(gap: str, before: str, after: str) -> bool:
    """Math-Verify's rule for a list gold: a short gap, or a separator in a gap under 70 characters."""
    if len(gap) < 10:
        return True
    return (
        before != after
        and len(gap) < 70
        and bool(_LOOSE_SEPARATOR_RE.search(gap))
        and not _SENTENCE_BREAK_RE.search(gap)
    )


def _joint(text: str, prev: Box, box: Box, lists: bool) -> str | None:
    gap = text[prev.end : box.start]
    kind = gap_kind(gap)
    if lists and (kind is not None or loose_list_gap(gap, prev.content, box.content)):
        return "list"  # for a list gold, "x = 1 or x = 2" names both solutions
    return kind


def group_boxes(text: str, boxes: list[Box], *, lists: bool = False) -> list[BoxGroup]:
    """Consecutive boxes joined into the answers they state together (see the module docstring), in order."""
    groups: list[BoxGroup] = []
    for i, box in enumerate(boxes):
        joint = _joint(text, boxes[i - 1], box, lists) if i else None
        if joint is None:
            groups.append(BoxGroup((box.content,), box.start, box.end))
            continue
        last = groups[-1]
        items = last.items if last.items[-1] == box.content else (*last.items, box.content)
        if len(items) == 1:
            joint = None  # the same box twice is one answer
        elif "hedge" in (joint, last.joint):
            joint = "hedge"  # "1, 2 or 3" hedges as a whole
        groups[-1] = BoxGroup(items, last.start, box.end, joint)
    return groups


def render(group: BoxGroup) -> str:
    """One answer string for a group: ``1, -2`` (a list) or ``3 \\text{ or } 5`` (a hedge)."""
    separator = " \\text{ or } " if group.joint == "hedge" else ", "
    return separator.join(group.items)
