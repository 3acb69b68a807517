"""List answers: splitting, recognising a list (not a tuple), "and"/"or" between items."""

from __future__ import annotations

import pytest

from hicra.verifiers.lists import is_list_answer, join_list_words


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("1, -2", True),
        ("(2,2), (6,2)", True),  # a list of tuples
        ("\\{1, 2\\}", True),
        ("{1,2,3}", True),
        ("(1, 2)", False),  # one tuple (or interval)
        ("[0, 1)", False),
        ("\\{1\\}", False),
        ("5", False),
        ("(1,2) \\cup (3,4)", False),
    ],
)
def test_is_list_answer(answer, expected):
    assert is_list_answer(answer) is expected


@pytest.mark.parametrize(
    ("answer", "joined"),
    [
        ("6 and 8", "6, 8"),
        ("21,16 or 11", "21,16, 11"),
        ("1, 2, and 3", "1, 2, 3"),
        ("W(x)=1orW(x)=-1", "W(x)=1, W(x)=-1"),  # glued before a capital
        ("x \\leq 1 or x \\geq 3", "x \\leq 1 or x \\geq 3"),  # a union of conditions stays one answer
        ("\\text{Oregon}", "\\text{Oregon}"),
        ("order", "order"),
    ],
)
def test_join_list_words(answer, joined):
    assert join_list_words(answer) == joined
