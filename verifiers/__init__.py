"""hicra.verifiers: the math answer verifier every reward and evaluation in hicra rests on.

>>> from hicra.verifiers import verify
>>> verify(r"... so the answer is \\boxed{\\frac{1}{2}}", "0.5").correct
True

``verify``/``verify_batch`` take ``mode`` (``MODES``: where answers are read) and ``multiple``
(``MULTIPLE_POLICIES``: which of several final answers counts; ``"last"`` by default).
"""

from __future__ import annotations

from .api import get_pool, verify, verify_batch
from .extract import MODES, MULTIPLE_POLICIES, Mode, Multiple, extract_answer
from .normalize import answer_key
from .verdict import Verdict

__all__ = [
    "MODES",
    "MULTIPLE_POLICIES",
    "Mode",
    "Multiple",
    "Verdict",
    "answer_key",
    "extract_answer",
    "get_pool",
    "verify",
    "verify_batch",
]
