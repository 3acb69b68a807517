from __future__ import annotations

import pytest

from hicra.verifiers import extract_answer
from hicra.verifiers.extract import MAX_BOXES, coerce_text, final_answers


@pytest.mark.parametrize(
    ("text", "strict", "lenient"),
    [
        ("so the answer is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{2}", "2", "2"),
        ("\\fbox{a{b}c}", "a{b}c", "a{b}c"),
        ("\\boxed{\\{1,2\\}}", "\\{1,2\\}", "\\{1,2\\}"),
        ("\\boxed{a\\}b}", "a\\}b", "a\\}b"),  # escaped braces do not close the box
        ("\\boxed 5", "5", "5"),
        ("$\\boxed 5$", "5", "5"),
        ("\\boxed{", None, None),
        ("\\boxed{}", None, None),
        ("\\boxed{1}\\boxed{2", "1", "1"),  # the unclosed last box is not an answer
        ("\\boxedx{3}", None, None),
        ("#### 18", None, "18"),
        ("work\n#### 1,234\n", None, "1,234"),
        ("The answer is $\\frac{1}{2}$.", None, "\\frac{1}{2}"),
        ("The final answer is: 7.", None, "7"),
        ("**Final Answer:** 42", None, "42"),
        ("Final answer: \\boxed{9}", "9", "9"),
        ("The answer is 3.\nThe answer is 4.", None, "4"),
        ("#### 5\nThe answer is 6", None, "5"),  # GSM8K marker wins over prose
        ("no answer here 42", None, None),
        ("", None, None),
    ],
)
def test_extract_answer_modes(text, strict, lenient):
    assert extract_answer(text, mode="strict") == strict
    assert extract_answer(text, mode="lenient") == lenient
    assert extract_answer(text) == lenient  # lenient is the default


@pytest.mark.parametrize(
    ("text", "strict", "lenient"),
    [
        # boxes and final-answer lines are one tier, in order of position: the later statement is last
        (
            "\\boxed{255} ... Final Answer: The final answer is $10,455$. I hope it is correct.",
            ["255"],
            ["255", "10,455"],
        ),
        ("Final answer: 3. Wait: \\boxed{4}", ["4"], ["3", "4"]),
        ("#### 5\n\\boxed{6}", ["6"], ["5", "6"]),
        # answer lines only without a box or final-answer line; a bare answer only without any of those
        ("The answer is 3. So \\boxed{4}", ["4"], ["4"]),
        ("The answer is 3.", [], ["3"]),
        ("-5", [], ["-5"]),
        ("$\\boxed{1}$ and $\\boxed{-2}$", ["1, -2"], ["1, -2"]),
        ("I think 5 might work", [], []),
    ],
)
def test_final_answers_tiers(text, strict, lenient):
    assert final_answers(text, mode="strict") == strict
    assert final_answers(text, mode="lenient") == lenient


def test_list_gold_joins_boxes_by_the_loose_rule():
    text = "$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$"
    assert final_answers(text) == ["(3, 3)", "(1, 1)"]
    assert final_answers(text, lists=True) == ["(3, 3), (1, 1)"]


def test_final_answers_lists_every_statement_in_order():
    assert final_answers("\\boxed{1}. Next, \\boxed{2}. So \\boxed{1}") == ["1", "2", "1"]
    assert final_answers("\\boxed{1} \\boxed{2} \\boxed{1}") == ["1, 2, 1"]  # adjacent boxes: one list


def test_only_the_last_boxes_are_read():
    text = ". Next, ".join(f"\\boxed{{{i}}}" for i in range(3 * MAX_BOXES))
    answers = final_answers(text)
    assert len(answers) == MAX_BOXES
    assert answers[-1] == str(3 * MAX_BOXES - 1)


def test_megabyte_response_answers_from_its_end():
    assert extract_answer("x" * 5_000_000 + "\\boxed{3}") == "3"
    assert extract_answer("{" * 2_000_000 + "\\boxed{7}") == "7"


def test_bad_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="mode"):
        extract_answer("\\boxed{1}", mode="loose")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "abc"),
        (b"\\boxed{5}", "\\boxed{5}"),
        (bytearray(b"x"), "x"),
        (b"\xff\xfe", "\ufffd\ufffd"),
        (None, ""),
        (42, ""),
        (["\\boxed{1}"], ""),
    ],
)
def test_coerce_text(value, expected):
    assert coerce_text(value) == expected


def test_non_utf8_bytes_still_extract():
    assert extract_answer(b"\xff\xfe garbage \\boxed{12} \x80") == "12"
