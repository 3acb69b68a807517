"""Final-answer extraction from a model response, by the field's conventions (Math-Verify's test suite).

Two modes say *where* answers are read:

* ``"strict"`` (evaluation): only ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces, also ``\\boxed 5``).
* ``"lenient"`` (training, the default), in three tiers; the first tier that gives an answer is used:

  1. boxes, GSM8K ``#### 18`` lines and final-answer lines ("Final Answer: The final answer is $X$. I hope it
     is correct.", "The final answer is ...", "**Final Answer:** ..."), all in order of position, so a final
     answer line after an intermediate box is the later statement;
  2. "The answer is ..." / "Answer: ..." lines and "Answer $9$";
  3. a response that is nothing but its answer (``-5``, ``$1/3$``, ``28 percent``).

  Prose without any of these is not read (Math-Verify's ``try_extract_without_anchor`` fallback, which takes
  the last number or math span of any text, is deliberately not followed).

Neighbouring boxes that state one answer together (``\\boxed{1}, \\boxed{-2}``) give one statement; see
:mod:`.boxes`. Which statement counts is the caller's policy (``Multiple``): ``"last"`` (the default, the
field's convention: a response is judged by its final answer) or ``"reject"`` (every distinct statement must
be correct).

Extraction is linear in the response length: only the last ``MAX_SCAN_CHARS`` characters are scanned (a
final answer sits at the end), at most ``MAX_BOXES`` boxes are read and each box at most ``MAX_READ_CHARS``.
"""

from __future__ import annotations

from typing import Literal

from .boxes import MAX_BOXES, MAX_READ_CHARS, MAX_SCAN_CHARS, find_boxes, group_boxes, render
from .markers import answer_statements, bare_answer, final_statements

Mode = Literal["strict", "lenient"]
MODES: tuple[Mode, ...] = ("strict", "lenient")
Multiple = Literal["last", "reject"]
MULTIPLE_POLICIES: tuple[Multiple, ...] = ("last", "reject")

__all__ = [
    "MAX_BOXES",
    "MAX_READ_CHARS",
    "MAX_SCAN_CHARS",
    "MODES",
    "MULTIPLE_POLICIES",
    "Mode",
    "Multiple",
    "boxed_answers",
    "check_mode",
    "check_multiple",
    "coerce_text",
    "extract_answer",
    "final_answers",
]


def check_mode(mode: object) -> Mode:
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


def check_multiple(multiple: object) -> Multiple:
    if multiple not in MULTIPLE_POLICIES:
        raise ValueError(f"multiple: expected one of {MULTIPLE_POLICIES}, got {multiple!r}")
    return multiple  # type: ignore[return-value]


def boxed_answers(text: str) -> list[str]:
    """All closed box contents in the scanned tail of ``text``, in order (at most ``MAX_BOXES``, the last)."""
    return [box.content for box in find_boxes(text[-MAX_SCAN_CHARS:])]


def final_answers(text: str, *, mode: Mode = "lenient", lists: bool = False) -> list[str]:
    """Every final answer the response states, most recent last (the tier and grouping rules above).

    ``lists=True`` (the gold is a list) joins boxes by the looser list rule of :func:`.boxes.group_boxes`.
    """
    check_mode(mode)
    tail = text[-MAX_SCAN_CHARS:]
    statements = [(g.start, render(g)) for g in group_boxes(tail, find_boxes(tail), lists=lists)]
    if mode == "strict":
        return [answer for _, answer in statements]
    statements += [(s.start, s.answer) for s in final_statements(tail)]
    if statements:
        return [answer for _, answer in sorted(statements, key=lambda s: s[0])]
    answers = [s.answer for s in answer_statements(tail)]
    if answers:
        return answers
    bare = bare_answer(tail)
    return [bare] if bare is not None else []


def extract_answer(text: str, *, mode: Mode = "lenient") -> str | None:
    """The final answer of ``text`` (the last one it states), or None when it states none.

    ``mode="strict"`` reads only ``\\boxed{}``/``\\fbox{}``; ``"lenient"`` also reads ``#### 18``, final-answer
    and "The answer is ..." lines, and a response that is only an answer. Boxes joined by separators give one
    list answer (``\\boxed{1}, \\boxed{-2}`` -> ``"1, -2"``). Non-string input is decoded (bytes) or yields None.
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
