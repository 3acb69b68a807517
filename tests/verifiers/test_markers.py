"""Answers stated in prose: answer lines, the clause after a marker, bare answers, math spans."""

from __future__ import annotations

import pytest

from hicra.verifiers.markers import answer_clause, answer_statements, bare_answer, final_statements, math_spans


def test_math_spans_pair_delimiters_in_one_pass():
    text = "a $x$ b \\(y\\) c \\[\n z \n\\] d $$w$$ e \\$5 and $u\nv$"
    spans = [text[a:b] for a, b in math_spans(text)]
    assert spans == ["$x$", "\\(y\\)", "\\[\n z \n\\]", "$$w$$"]  # "\\$" is a dollar; inline math ends at a line


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("$28 \\%$. I hope it is correct.", "28 \\%"),  # Minerva: the line does not run on
        ("12,000,023. I hope it is correct. <|im_start|>user", "12,000,023"),
        ("7.78.", "7.78"),  # a decimal point is not a full stop
        ("The largest $n$ is 34.", "34"),  # a sentence: the answer after its last "is"
        ("The volume of $ABCDEFGH$ is 120. I hope it is correct.", "120"),
        ("Jane started growing Sphere 3 hours ago. I hope it is correct.", "3"),  # no "is": the first token
        ("5 because we add 2 and 3", "5"),
        ('The final answer is \\"$12 $ and $13 $\\". I hope it is correct.', "$12 $ and $13 $"),
        ("The answer is $(7, 6)$.", "(7, 6)"),
        ("42 or 43", "42 or 43"),  # a hedge is kept whole (the caller rejects it)
        ("g'", "g'"),  # a lone ' is a prime, not a closing quote
        ("$h''$.", "h''"),
        ("'yes'", "yes"),  # paired quotes are quotes
        ("“yes”", "yes"),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("\\text{Evelyn}", "\\text{Evelyn}"),
        ("**", None),
        ("", None),
    ],
)
def test_answer_clause(raw, answer):
    assert answer_clause(raw) == answer


def test_final_statements_in_order_with_positions():
    text = "#### 5\nwork\nFinal Answer: The final answer is $7$. I hope it is correct.\n**Final Answer:** 9"
    starts = [0, text.index("Final Answer:"), text.index("Final Answer:**")]
    assert [(s.answer, s.start) for s in final_statements(text)] == list(zip(["5", "7", "9"], starts))


@pytest.mark.parametrize(
    ("text", "answers"),
    [
        ("Before the final answer, check: 3+4=7.", []),  # "final answer" in passing is no marker
        ("**Final Answer**\n\\boxed{5}", []),  # the box is the statement, not the marker
        ("Final answer: \\boxed{9}", []),
        ("Final Answer\n\n42", ["42"]),
    ],
)
def test_final_statements_need_a_marker(text, answers):
    assert [s.answer for s in final_statements(text)] == answers


@pytest.mark.parametrize(
    ("text", "answers"),
    [
        ("The answer is 3.\nThe answer is 4.", ["3", "4"]),
        ("Answer $ 9 $", ["9"]),
        ("Answer \\[ \n 9 \n \\]", ["9"]),
        ("Answer \\( (9+1) \\)", ["(9+1)"]),
        ("The answer is $\\boxed{3}$", []),
        ("no answer here 42", []),
    ],
)
def test_answer_statements(text, answers):
    assert [s.answer for s in answer_statements(text)] == answers


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("-5", "-5"),
        (" $1/3$ ", "1/3"),
        ("$\\frac{1}{3} \\text{meters}$", "\\frac{1}{3} \\text{meters}"),
        ("28 percent", "28 percent"),
        ("$28$ %", "28 %"),
        ("7,425,000", "7,425,000"),
        ("C", "C"),
        ("(B)", "(B)"),
        ("$\\text{The midpoints form a regular hexagon}$", "\\text{The midpoints form a regular hexagon}"),
        ("g'", "g'"),  # a prime is notation: the same answer boxed is read
        ("f''(x)", "f''(x)"),
        ("x+y", "x+y"),
        ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),
        ("$\\begin{bmatrix} a & b \\end{bmatrix}$", "\\begin{bmatrix} a & b \\end{bmatrix}"),
        ("\\mathcal{A}", "\\mathcal{A}"),
        ("nothing", None),  # one word, no digit or command: not an answer
        ("I don't know", None),  # prose, even with a quote mark
        ("no idea", None),  # prose
        ("the number is 10", None),
        ("\\boxed{", None),  # a failed box is no answer
        ("\\boxed{}}}}}{{{{", None),
        ("$$", None),
        ("1" * 501, None),  # too long to be a bare answer
    ],
)
def test_bare_answer(text, answer):
    assert bare_answer(text) == answer
