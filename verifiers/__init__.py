"""hicra.verifiers: the math answer verifier every reward and evaluation in hicra rests on.

>>> from hicra.verifiers import verify
>>> verify(r"... so the answer is \\boxed{\\frac{1}{2}}", "0.5").correct
True
"""

from __future__ import annotations

from .api import get_pool, verify, verify_batch
from .extract import extract_answer
from .verdict import Verdict

__all__ = ["Verdict", "extract_answer", "get_pool", "verify", "verify_batch"]
