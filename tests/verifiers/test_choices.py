from __future__ import annotations

import pytest

from hicra.verifiers.choices import choice_pairs, split_choice, with_option_text


@pytest.mark.parametrize(
    ("cleaned", "expected"),
    [
        ("(B) 12", ("B", "12")),
        ("(B)12", ("B", "12")),
        ("B. 12", ("B", "12")),
        ("B) \\frac{1}{2}", ("B", "\\frac{1}{2}")),
        ("B.12", None),  # no space after the full stop
        ("B 12", None),  # no mark after the letter: not a choice
        ("(A) and (C)", None),  # two choices
        ("(A), (C)", None),
        ("(A) (C)", None),
        ("(B) = 5", None),
        ("(C) + 1", None),  # an expression, not option text
        ("(C) - x", None),
        ("(C) \\cdot 2", None),
        ("(C)^2", None),
        ("(B) -3", ("B", "-3")),  # a negative option value
        ("(F) 12", None),  # the choices are A to E
        ("(x) 12", None),
    ],
)
def test_with_option_text(cleaned, expected):
    assert with_option_text(cleaned) == expected


def test_split_choice():
    assert split_choice("(B) 12") == ("B", "12")
    assert split_choice("B") == ("B", None)
    assert split_choice("12") is None
    assert split_choice("(1, 2)") is None


@pytest.mark.parametrize(
    ("gold", "answer", "pairs"),
    [
        ("B", "(B) 12", [("B", "B")]),
        ("12", "(B) 12", [("12", "12")]),
        ("(B) 12", "B", [("B", "B")]),
        ("(B) 12", "12", [("12", "12")]),
        ("(B) 12", "(C) 12", [("B", "C"), ("12", "12")]),
        ("B", "C", None),  # letters only: the letter rules apply
        ("12", "13", None),
    ],
)
def test_choice_pairs(gold, answer, pairs):
    assert choice_pairs(gold, answer) == pairs
