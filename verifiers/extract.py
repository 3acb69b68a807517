"""Final-answer extraction from a model response.

Two modes:

* ``"strict"`` (evaluation): only ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces, also ``\\boxed 5``);
  the last one is the answer.
* ``"lenient"`` (training, the default): boxed answers first; without one, the last GSM8K ``#### 18`` line;
  without that, the last "The (final) answer is ..." / "Final answer: ..." line.

Extraction is linear in the response length: only the last ``MAX_SCAN_CHARS`` characters are scanned (a
final answer sits at the end), at most ``MAX_BOXES`` boxes are read and each box at most ``MAX_READ_CHARS``.
"""

from __future__ import annotations

import re
from typing import Literal

Mode = Literal["strict", "lenient"]
MODES: tuple[Mode, ...] = ("strict", "lenient")

MAX_SCAN_CHARS = 200_000
#: A box or answer line longer than this is not read (the caller treats longer answers as wrong anyway).
MAX_READ_CHARS = 100_000
MAX_BOXES = 64

_BRACE_RE = re.compile(r"\\.|[{}]", re.DOTALL)
_TOKEN_RE = re.compile(rf"[^\s$]{{1,{MAX_READ_CHARS}}}")
_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_HASH_RE = re.compile(r"####[ \t]*([^\n]*)")
_ANSWER_IS_RE = re.compile(
    r"(?:final\s+answer|the\s+answer)\s*(?:is|:)\s*:?\s*(?:\*\*)?\s*([^\n]*)",
    re.IGNORECASE,
)


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


def _read_box(text: str, end: int, closing: dict[int, int]) -> str | None:
    """The argument of a box command ending at ``end``: ``{...}`` or one bare token (``\\boxed 5``)."""
    j = end
    while j < len(text) and text[j] in " \t":
        j += 1
    if j < len(text) and text[j] == "{":
        close = closing.get(j)
        return text[j + 1 : close] if close is not None and close - j - 1 <= MAX_READ_CHARS else None
    if j == end:
        return None
    token = _TOKEN_RE.match(text, j)
    return token.group(0) if token else None


def boxed_answers(text: str) -> list[str]:
    """All closed box contents in the scanned tail of ``text``, in order (at most ``MAX_BOXES``, the last)."""
    tail = text[-MAX_SCAN_CHARS:]
    starts = [m.end() for m in _BOX_RE.finditer(tail)][-MAX_BOXES:]
    if not starts:
        return []
    closing = _closing_braces(tail)
    found = (_read_box(tail, end, closing) for end in starts)
    return [box.strip() for box in found if box is not None and box.strip()]


def _clean_line(line: str) -> str | None:
    line = line.strip().strip("*").strip()
    line = line.removesuffix(".").strip()
    if len(line) >= 2 and line[0] == "$" and line.count("$") == 2 and line[-1] in "$.":
        line = line.strip(".").strip("$").strip()
    if not line or len(line) > MAX_READ_CHARS:
        return None
    return line


def _last_line_match(pattern: re.Pattern[str], text: str) -> str | None:
    last = None
    for match in pattern.finditer(text):
        last = match
    return _clean_line(last.group(1)) if last else None


def final_answers(text: str, *, mode: Mode = "lenient") -> list[str]:
    """Every final answer the response gives (several boxes give several), most recent last."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    boxes = boxed_answers(text)
    if boxes or mode == "strict":
        return boxes
    tail = text[-MAX_SCAN_CHARS:]
    for pattern in (_HASH_RE, _ANSWER_IS_RE):
        answer = _last_line_match(pattern, tail)
        if answer is not None:
            boxed = boxed_answers(answer)
            return boxed[-1:] if boxed else [answer]
    return []


def extract_answer(text: str, *, mode: Mode = "lenient") -> str | None:
    """The final answer of ``text`` (the last one it gives), or None when it gives none.

    ``mode="strict"`` reads only ``\\boxed{}``/``\\fbox{}``; ``"lenient"`` also reads ``#### 18`` and
    "The answer is ..."/"Final answer: ..." lines. Non-string input is decoded (bytes) or yields None.
    """
    answers = final_answers(coerce_text(text), mode=mode)
    return answers[-1] if answers else None


def coerce_text(value: object) -> str:
    """Model output as ``str``: bytes are decoded (invalid UTF-8 replaced); anything else gives ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return ""
