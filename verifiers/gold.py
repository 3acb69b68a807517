"""The gold answer as the verifier compares it: read, normalised, and classified once (golds repeat).

A gold is normally the answer itself (``\\frac{1}{2}``, ``$9$``, ``(5,2),(7,2)``). A gold written as a
solution is read like a response, but as a trusted text: its boxes (all of them, joined by the list rule of
:mod:`.boxes`; an unclosed last box runs to the end) or else its last final-answer line ("Final Answer: The
final answer is $28\\%$. I hope it is correct.").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .assignments import is_equation
from .boxes import find_boxes, group_boxes, render
from .lists import is_list_answer
from .markers import final_statements
from .normalize import normalize_answer


@dataclass(frozen=True)
class Gold:
    """A normalised gold answer; ``is_list``: several solutions; ``is_equation``: an equation (``2x+4y=3``)."""

    answer: str
    is_list: bool
    is_equation: bool


def gold_text(gold: str) -> str:
    """The answer part of a gold string (the gold itself unless it is written as a solution)."""
    boxes = find_boxes(gold, unclosed=True)
    if boxes:
        return render(group_boxes(gold, boxes, lists=True)[-1])
    finals = final_statements(gold) if "answer" in gold.lower() else []
    return finals[-1].answer if finals else gold


@lru_cache(maxsize=8192)
def read_gold(gold: str) -> Gold:
    """Read, normalise and classify ``gold`` (cached)."""
    answer = normalize_answer(gold_text(gold), lists=True)
    return Gold(answer, is_list_answer(answer), is_equation(answer))


def normalize_for(answer: str, gold: Gold) -> str:
    """Normalise a response's ``answer`` the way it is compared with ``gold``."""
    return normalize_answer(answer, lists=gold.is_list, keep_equation=gold.is_equation)
