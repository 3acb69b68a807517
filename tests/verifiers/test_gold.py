"""Reading the gold: an answer as it is, or the boxed/final answer of a gold written as a solution."""

from __future__ import annotations

import pytest

from hicra.verifiers.gold import Gold, gold_text, normalize_for, read_gold


@pytest.mark.parametrize(
    ("gold", "text"),
    [
        ("$9$", "$9$"),
        ("\\frac{1}{2}", "\\frac{1}{2}"),
        ("So the answer is: \\[ \\boxed{32349} \\]", "32349"),
        ("\\boxed{1} papers and \\boxed{2} bins", "1, 2"),  # a gold's boxes form a list by the loose rule
        ("\\boxed{1} no no no no no \\boxed{2}", "2"),  # ... unless far apart without a separator
        ("\\boxed{W(n) = 1", "W(n) = 1"),  # an unclosed box in a gold runs to the end
        ("... Final Answer: The final answer is $28 \\%$. I hope it is correct. Note: ...", "28 \\%"),
        ("\\text{The answer is unknown}", "\\text{The answer is unknown}"),  # a marker needs "final answer"
    ],
)
def test_gold_text(gold, text):
    assert gold_text(gold) == text


@pytest.mark.parametrize(
    ("gold", "expected"),
    [
        ("$9$", Gold("9", is_list=False, is_equation=False)),
        ("x=5", Gold("5", is_list=False, is_equation=False)),
        ("2x+4y-3=0", Gold("2x+4y-3=0", is_list=False, is_equation=True)),
        ("p=5,q=2;p=7,q=2", Gold("(5,2),(7,2)", is_list=True, is_equation=False)),
        ("$21,16$ or $11$", Gold("21,16, 11", is_list=True, is_equation=False)),
        ("12\\text{ and }13", Gold("12, 13", is_list=True, is_equation=False)),
        ("(1, 2)", Gold("(1, 2)", is_list=False, is_equation=False)),
    ],
)
def test_read_gold(gold, expected):
    assert read_gold(gold) == expected


def test_answers_are_normalised_for_their_gold():
    equation = read_gold("2x+4y-3=0")
    assert normalize_for("y = -\\frac12x+\\frac34", equation) == "y = -\\frac12x+\\frac34"  # kept an equation
    assert normalize_for("y = 5", read_gold("5")) == "5"
    assert normalize_for("6 \\text{ and } 8", read_gold("6, 8")) == "6, 8"
    assert normalize_for("6 \\text{ and } 8", read_gold("6")) == "6 and 8"  # for a single value, a hedge/list
