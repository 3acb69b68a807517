"""verify / verify_batch end to end: format tables, MATH-500 golds, adversarial input, threads, canaries."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import get_args

import pytest

from hicra.verifiers import MODES, MULTIPLE_POLICIES, Mode, Multiple, api, verify, verify_batch
from hicra.verifiers.api import MAX_ANSWER_CHARS

from .conftest import payloads

# (gold, response, expected correct)
EQUIVALENCE_TABLE = [
    # integers, decimals, fractions
    ("18", "\\boxed{18}", True),
    ("18", "#### 18", True),
    ("18", "so... The answer is 18.", True),
    ("18", "Final answer: 18", True),
    ("18", "\\boxed{18.0}", True),
    ("18", "\\boxed{19}", False),
    ("18", "\\boxed{180}", False),
    ("0.5", "\\boxed{\\frac12}", True),
    ("0.5", "\\boxed{\\dfrac{1}{2}}", True),
    ("\\frac{14}{3}", "\\boxed{4.666667}", True),
    ("\\frac{14}{3}", "\\boxed{4.67}", False),
    ("\\frac{3}{4}", "\\boxed{3/4}", True),
    ("\\frac{3}{4}", "\\boxed{\\frac{6}{8}}", True),
    ("-\\frac{1}{2}", "\\boxed{-0.5}", True),
    ("\\frac{3}{4}", "\\boxed{\\frac{4}{3}}", False),
    # thousands separators, dollars, units, degrees, percent
    ("10000", "\\boxed{10,000}", True),
    ("10,\\!000", "\\boxed{10000}", True),
    ("1000", "\\boxed{1{,}000}", True),
    ("18", "\\boxed{\\$18}", True),
    ("\\$18.90", "\\boxed{18.9}", True),
    ("90^\\circ", "\\boxed{90}", True),
    ("90", "\\boxed{90^{\\circ}}", True),
    ("50\\%", "\\boxed{50}", True),
    ("50\\%", "\\boxed{50\\%}", True),
    ("50\\%", "\\boxed{0.5}", False),
    ("12", "\\boxed{12 \\text{ cm}}", True),
    ("5", "\\boxed{5\\text{ inches}}", True),
    # text answers and multiple choice
    ("\\text{Evelyn}", "\\boxed{Evelyn}", True),
    ("\\text{Evelyn}", "\\boxed{\\text{Alice}}", False),
    ("\\text{(C)}", "\\boxed{C}", True),
    ("C", "\\boxed{(C)}", True),
    ("C", "\\boxed{\\text{C}}", True),
    ("C", "\\boxed{D}", False),
    # tuples, intervals, sets, matrices
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "\\boxed{(3, \\frac{\\pi}{2})}", True),
    ("(1,2)", "\\boxed{(2,1)}", False),
    ("[1, 2)", "\\boxed{[1,2)}", True),
    ("[1, 2)", "\\boxed{(1,2]}", False),
    ("(-\\infty, 3]", "\\boxed{(-\\infty,3]}", True),
    ("1, 2", "\\boxed{2, 1}", True),
    ("-1, 3", "\\boxed{3,-1}", True),
    ("1, 2", "\\boxed{1, 3}", False),
    ("1, 2", "\\boxed{1}", False),
    ("\\{1,2\\}", "\\boxed{\\{2,1\\}}", True),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", True),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\boxed{\\begin{pmatrix}2\\\\1\\end{pmatrix}}", False),
    # assignments
    ("5", "\\boxed{x = 5}", True),
    ("x=5", "\\boxed{5}", True),
    ("5", "\\boxed{x=6}", False),
    # expressions
    ("2\\sqrt{2}", "\\boxed{\\sqrt{8}}", True),
    ("\\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{1}{\\sqrt{2}}}", True),
    ("x^2+2x+1", "\\boxed{(x+1)^2}", True),
    ("x^2+2x+1", "\\boxed{(x-1)^2}", False),
    ("p - q", "\\boxed{p-q}", True),
    ("2\\pi", "\\boxed{6.283185}", True),
    # where math-verify is wrong (tiny magnitudes)
    ("\\frac{1}{2004!}", "\\boxed{\\frac{1}{2006!}}", False),
    ("\\frac{1}{2^{99}}", "\\boxed{\\frac{1}{2^{98}}}", False),
    ("\\frac{1}{2^{99}}", "\\boxed{2^{-99}}", True),
    ("0.0000001", "\\boxed{0.0000002}", False),
    # several final answers: the last one counts (multiple="last"); hedges and lists are not a single value
    ("4", "\\boxed{x=4} so \\boxed{4}", True),  # the same answer twice is one answer
    ("4", "\\boxed{3} no wait \\boxed{4}", True),  # a revision: judged by the final answer
    ("3", "\\boxed{3} no wait \\boxed{4}", False),
    ("42", "\\boxed{42 \\text{ or } 43}", False),
    ("42", "The answer is 42 or 43", False),
    ("42", "\\boxed{42, 43}", False),
    ("43", "\\boxed{42} or \\boxed{43}", False),  # a hedge across boxes
    ("43", "\\boxed{42}, \\boxed{43}", False),  # a list of two answers is not the single value 43
    ("2", "\\boxed{x = 1 \\text{ or } x = 2}", False),
]


def test_equivalence_table():
    golds = [g for g, _, _ in EQUIVALENCE_TABLE]
    responses = [r for _, r, _ in EQUIVALENCE_TABLE]
    verdicts = verify_batch(responses, golds, timeout_s=30)
    wrong = [(g, r, v) for (g, r, expected), v in zip(EQUIVALENCE_TABLE, verdicts) if v.correct is not expected]
    assert wrong == []
    for (_, _, expected), v in zip(EQUIVALENCE_TABLE, verdicts):
        assert v.reason == ("ok" if expected else "mismatch")
        assert v.reward == (1.0 if expected else 0.0)


# The field's answer conventions (Math-Verify's test suite), each right and wrong, under both policies:
# (gold, response, correct with multiple="last", correct with multiple="reject")
MINERVA = "Final Answer: The final answer is $28 \\%$. I hope it is correct."
REVISED = "Interest: $0.05 \\cdot 10,200 \\cdot \\frac{1}{2} = \\boxed{255}$ So she has $10,455."
CONVENTIONS = [
    # several boxes that together state a list answer
    ("1,-2", "The roots are \\boxed{1} and \\boxed{-2}.", True, True),
    ("-2, 1", "\\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", True, True),
    ("(2,2),(6,2)", "$\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}$", True, True),
    ("(3, 3), (1, 1)", "$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$", True, True),
    ("1,-2", "\\boxed{1} and \\boxed{2}", False, False),
    ("1", "\\boxed{1}, \\boxed{-2}", False, False),  # a single-value gold: a list is not it
    # the last answer counts; a revision is wrong under "reject"
    ("4", "\\boxed{3}. Wait, that is wrong: 2+2 = \\boxed{4}", True, False),
    ("3", "\\boxed{3}. Wait, that is wrong: 2+2 = \\boxed{4}", False, False),
    ("4", "\\boxed{4}. Checking again: \\boxed{4}.", True, True),
    ("4", "\\boxed{3} or \\boxed{4}", False, False),  # a hedge stays wrong
    # Minerva's format: the answer ends at the full stop
    ("28\\%", "So the loss is 28%. " + MINERVA, True, True),
    ("29\\%", "So the loss is 28%. " + MINERVA, False, False),
    # "Final Answer:" followed by a sentence
    ("34", "Final Answer: The largest $n$ is 34.", True, True),
    ("3", "Final Answer: Jane started growing Sphere 3 hours ago. I hope it is correct.", True, True),
    ("35", "Final Answer: The largest $n$ is 34.", False, False),
    # a final-answer line after an intermediate box is the final answer
    ("10455", REVISED + " Final Answer: The final answer is $10,455$. I hope it is correct.", True, False),
    ("255", REVISED + " Final Answer: The final answer is $10,455$. I hope it is correct.", False, False),
    # percent as a word
    ("28\\%", "28 percent", True, True),
    ("28\\%", "$\\boxed{28 pct}$", True, True),
    ("28\\%", "\\boxed{28 percentage}", True, True),
    ("28\\%", "\\boxed{82 percent}", False, False),
    # an equation solved for another variable
    ("2x+4y-3=0", "\\boxed{y=-\\frac{1}{2}x+\\frac{3}{4}}", True, True),
    ("2x+4y-3=0", "\\boxed{y=-\\frac{1}{2}x+\\frac{1}{4}}", False, False),
    ("7 = 11a+c", "\\boxed{11a+c}", False, False),  # an equation is not its right-hand side
    # assignments against tuples
    ("p=5,q=2;p=7,q=2", "\\boxed{(5,2),(7,2)}", True, True),
    ("p=5,q=2;p=7,q=2", "\\boxed{(7,2),(5,2)}", True, True),  # a list of solutions: any order
    ("p=5,q=2;p=7,q=2", "\\boxed{(2,5),(7,2)}", False, False),  # a tuple: its order matters
    ("(p,q)=(3,2)", "\\boxed{(3, 2)}", True, True),
    ("k = 45, n = 2", "$\\boxed{k = 45} \\quad \\text{and} \\quad \\boxed{n = 2}$", True, True),
    # a response that is nothing but the answer
    ("-5", "-5", True, True),
    ("\\frac{1}{3}", "$1/3$", True, True),
    ("7425000", "7,425,000", True, True),
    ("-5", "5", False, False),
]


def test_answer_conventions():
    responses = [r for _, r, _, _ in CONVENTIONS]
    golds = [g for g, _, _, _ in CONVENTIONS]
    for multiple, column in (("last", 2), ("reject", 3)):
        verdicts = verify_batch(responses, golds, timeout_s=30, multiple=multiple)
        wrong = [(row[0], row[1], v) for row, v in zip(CONVENTIONS, verdicts) if v.correct is not row[column]]
        assert wrong == [], multiple


def test_last_answer_counts_by_default_and_reject_is_the_strict_policy():
    response = "\\boxed{3}. Wait, that is wrong: 2+2 = \\boxed{4}"
    assert verify(response, "4") == verify(response, "4", multiple="last")
    assert verify(response, "4").reason == "ok"
    assert verify(response, "4", multiple="reject").reason == "mismatch"
    assert verify(response, "4", multiple="reject").extracted == "4"  # the final answer is still reported


def test_bare_answers_are_read_in_lenient_mode_only():
    assert verify("-5", "-5").reason == "ok"
    assert verify("-5", "-5", mode="strict").reason == "no_answer"
    assert verify("$1/3$", "\\frac{1}{3}", mode="strict").reason == "no_answer"
    assert verify("no idea", "5").reason == "no_answer"


def test_policy_names_are_exported():
    assert get_args(Multiple) == MULTIPLE_POLICIES == ("last", "reject")
    assert get_args(Mode) == MODES == ("strict", "lenient")


def test_strict_mode_reads_boxes_only():
    assert verify("#### 18", "18", mode="strict").reason == "no_answer"
    assert verify("The answer is 18", "18", mode="strict").reason == "no_answer"
    assert verify("The answer is 18. \\boxed{18}", "18", mode="strict").correct


def test_verdict_carries_the_extracted_answer():
    assert verify("... \\boxed{\\dfrac{1}{2}}", "0.5").extracted == "\\dfrac{1}{2}"
    assert verify("nothing", "0.5").extracted is None


def _perturb(answer: str) -> str | None:
    digit = re.search(r"\d", answer)
    if digit is None:
        return None
    new = str((int(digit.group(0)) + 1) % 10)
    return answer[: digit.start()] + new + answer[digit.end() :]


def test_every_math500_gold_verifies_against_itself_and_not_perturbed(shared_data):
    golds = [json.loads(line)["answer"] for line in (shared_data / "math500.jsonl").open()]
    assert len(golds) == 500
    verdicts = verify_batch([f"\\boxed{{{g}}}" for g in golds], golds, workers=2, timeout_s=30)
    assert [g for g, v in zip(golds, verdicts) if not v.correct] == []
    perturbed = [(g, p) for g in golds if (p := _perturb(g)) is not None]
    assert len(perturbed) > 450
    verdicts = verify_batch(
        [f"\\boxed{{{p}}}" for _, p in perturbed], [g for g, _ in perturbed], workers=2, timeout_s=30
    )
    assert [(g, p, v.reason) for (g, p), v in zip(perturbed, verdicts) if v.reason != "mismatch"] == []


BOMBS = {
    "power tower": "\\boxed{9^{9^{9^{9^9}}}}",
    "3000 nested fractions": "\\boxed{" + "\\frac{1}{" * 3000 + "2" + "}" * 3000 + "}",
    "200 nested fractions": "\\boxed{" + "\\frac{1}{" * 200 + "2" + "}" * 200 + "}",
    "1e5 unclosed parens, boxed": "\\boxed{" + "(" * 100_000 + "}",
    "1e5 unclosed parens, prose": "The answer is " + "(" * 100_000,
    "500 unclosed parens, boxed": "\\boxed{" + "(" * 500 + "1}",
    "megabytes": "lorem ipsum " * 400_000 + "\\boxed{6}",
    "huge factorial": "\\boxed{(10^{10})!}",
}


def test_bombs_are_bounded_by_the_deadline():
    start = time.monotonic()
    verdicts = dict(zip(BOMBS, verify_batch(list(BOMBS.values()), ["6"] * len(BOMBS), timeout_s=2, workers=2)))
    assert time.monotonic() - start < 120  # loose sanity cap; the deadline shows in the reasons below
    assert verdicts["megabytes"].correct
    for name in ("3000 nested fractions", "1e5 unclosed parens, boxed", "1e5 unclosed parens, prose"):
        assert verdicts[name].reason == "mismatch", name  # over MAX_ANSWER_CHARS: not parsed at all
        assert len(verdicts[name].extracted) == MAX_ANSWER_CHARS
    for name in ("power tower", "200 nested fractions", "500 unclosed parens, boxed", "huge factorial"):
        assert verdicts[name].reason in ("mismatch", "timeout", "error"), name


ADVERSARIAL = [
    ("", "5", "no_answer"),
    ("\\boxed{}", "5", "no_answer"),
    ("\\boxed{5", "5", "no_answer"),
    ("\\boxed{ }", "5", "no_answer"),
    (" ".join(f"\\boxed{{{i}}}" for i in range(1, 101)), "100", "mismatch"),
    ("\\boxed{42} or \\boxed{43}", "43", "mismatch"),
    ("\\boxed{\\frac{1}{0}}", "1", "mismatch"),
    ("\\boxed{1/0}", "1", "mismatch"),
    (b"\xff\xfe\x00\x80 \\boxed{7} \xc3", "7", "ok"),
    (b"\xff\xfe\x00\x80", "7", "no_answer"),
    (None, "7", "no_answer"),
    (12345, "7", "no_answer"),
    ("\\boxed{\x00\x01\x02}", "7", "mismatch"),
    ("\\boxed{\\undefinedmacro{3}}", "3", "mismatch"),
    ("\\boxed{}}}}}{{{{", "3", "no_answer"),
]


def test_adversarial_table():
    responses = [r for r, _, _ in ADVERSARIAL]
    verdicts = verify_batch(responses, [g for _, g, _ in ADVERSARIAL], timeout_s=10)
    assert [
        (r if isinstance(r, str) else repr(r))[:40]
        for (r, _, want), v in zip(ADVERSARIAL, verdicts)
        if v.reason != want
    ] == []


def test_injection_is_never_executed(canary):
    responses = payloads(canary)
    for gold in ("5", "1, 2", "x^2"):
        verdicts = verify_batch(responses, [gold] * len(responses), timeout_s=10)
        assert all(not v.correct for v in verdicts)
    assert not canary.exists()


def test_verify_from_other_threads():
    results: dict[int, bool] = {}

    def work(i: int) -> None:
        results[i] = verify(f"\\boxed{{\\sqrt{{{i * i}}}}}", str(i), timeout_s=30).correct

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == {2: True, 3: True, 4: True, 5: True}


def test_fast_path_does_not_touch_workers(monkeypatch):
    def no_pool(workers=None):
        raise AssertionError("the fast path must not need the worker pool")

    monkeypatch.setattr(api, "get_pool", no_pool)
    verdicts = verify_batch(
        ["\\boxed{18}", "#### 1,000", "\\boxed{0.5}", "\\boxed{C}", "nothing"],
        ["18", "1000", "\\frac{1}{2}", "\\text{(C)}", "3"],
    )
    assert [v.reason for v in verdicts] == ["ok", "ok", "ok", "ok", "no_answer"]


def test_empty_batch():
    assert verify_batch([], []) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"responses": ["1"], "golds": ["1", "2"]}, ValueError, "as many golds"),
        ({"responses": ["1"], "golds": [None]}, TypeError, "golds\\[0\\]"),
        ({"responses": ["1"], "golds": ["1"], "timeout_s": 0}, ValueError, "timeout_s"),
        ({"responses": ["1"], "golds": ["1"], "timeout_s": float("nan")}, ValueError, "timeout_s"),
        ({"responses": ["1"], "golds": ["1"], "workers": 0}, ValueError, "workers"),
        ({"responses": ["1"], "golds": ["1"], "mode": "loose"}, ValueError, "mode"),
        ({"responses": ["1"], "golds": ["1"], "multiple": "first"}, ValueError, "multiple.*'last', 'reject'.*'first'"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        verify_batch(**kwargs)


def test_numeric_golds_are_accepted():
    assert verify("#### 18", 18).correct
    assert verify("\\boxed{2.5}", 2.5).correct


# Notation (issue 19): each class right and wrong. (gold, response, expected correct)
NOTATION_TABLE = [
    # primes are part of the answer, however written (this was a false positive: the mark was dropped)
    ("g(t)", "\\boxed{g'(t)}", False),
    ("h", "\\boxed{h''}", False),
    ("h", "\\boxed{h^{\\prime}}", False),
    ("h", "\\boxed{h^\\prime}", False),
    ("g'(t)", "\\boxed{g(t)}", False),
    ("A'", "\\boxed{A}", False),
    ("f'(x)", "\\boxed{f''(x)}", False),
    ("h'", "\\boxed{h^{\\prime}}", True),
    ("h''", "\\boxed{h^{\\prime\\prime}}", True),
    ("f'(x)", "\\boxed{f^\\prime(x)}", True),
    ("A'B'", "\\boxed{A'B'}", True),
    ("2x+1", "\\boxed{2x+1'}", False),  # a prime after a number: only the same spelling matches
    ("h", "The answer is h'", False),  # an answer line keeps its prime (a lone ' is not a quote)
    ("h'", "The answer is h'", True),
    ("\\text{yes}", "The answer is 'yes'", True),  # paired quotes are still quotes
    # other marks stay too
    ("x", "\\boxed{\\bar{x}}", False),
    ("x", "\\boxed{\\hat{x}}", False),
    ("v", "\\boxed{\\vec{v}}", False),
    ("x", "\\boxed{\\dot{x}}", False),
    ("x", "\\boxed{x_1}", False),
    ("x", "\\boxed{x^*}", False),
    ("\\hat{x}", "\\boxed{\\mathbf{\\hat{x}}}", True),
    ("0.3", "\\boxed{0.\\overline{3}}", False),
    ("3", "\\boxed{\\bar{3}}", False),
    ("f(x)", "\\boxed{f^{-1}(x)}", False),
    ("\\overline{z}", "\\boxed{z}", False),
    # the case of a letter is part of it (math-verify ignores it)
    ("x", "\\boxed{X}", False),
    ("a", "\\boxed{A}", False),
    ("e", "\\boxed{E}", False),
    ("\\pi", "\\boxed{\\Pi}", False),
    ("x + X", "\\boxed{2x}", False),
    ("\\text{Evelyn}", "\\boxed{Evelyn}", True),
    ("e", "\\boxed{2.718282}", True),
    ("\\mathrm{e}", "\\boxed{e}", True),
    # a numeral's base may be omitted, but two bases are two numbers
    ("4210_{5}", "\\boxed{4210}", True),
    ("4210", "\\boxed{4210_5}", True),
    ("4210_{5}", "\\boxed{4210_{6}}", False),
    ("4210_{5}", "\\boxed{4211_{5}}", False),
    ("555", "\\boxed{4210_{5}}", False),
    # fonts are presentation, except blackboard bold (a number set)
    ("A", "\\boxed{\\mathcal{A}}", True),
    ("A", "\\boxed{\\mathscr{A}}", True),
    ("A", "\\boxed{\\mathfrak{A}}", True),
    ("x", "\\boxed{\\boldsymbol{x}}", True),
    ("\\text{yes}", "\\boxed{\\textbf{yes}}", True),
    ("A", "\\boxed{\\mathcal{B}}", False),
    ("\\mathbb{R}", "\\boxed{\\mathbb R}", True),
    ("\\mathbb{R}", "\\boxed{ℝ}", True),
    ("\\mathbb{R}", "\\boxed{(-\\infty, \\infty)}", True),
    ("\\mathbb{R}", "\\boxed{R}", False),
    ("R", "\\boxed{\\mathbb{R}}", False),
    # complex numbers: i is the imaginary unit where it is the only letter
    ("2i", "\\boxed{(1+i)^2}", True),
    ("-2i", "\\boxed{(1+i)^2}", False),
    ("\\frac{1}{2}+\\frac{1}{2}i", "\\boxed{\\frac{1}{1-i}}", True),
    ("\\frac{1}{2}-\\frac{1}{2}i", "\\boxed{\\frac{1}{1-i}}", False),
    ("-1", "\\boxed{i^2}", True),
    ("1", "\\boxed{i^2}", False),
    ("6 - 5i", "\\boxed{-5i + 6}", True),
    ("6 - 5i", "\\boxed{6 + 5i}", False),
    # trigonometric values in degrees, and identities
    ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\sin 60^\\circ}", True),
    ("\\frac{1}{2}", "\\boxed{\\sin 60^\\circ}", False),
    ("1", "\\boxed{\\tan 45^\\circ}", True),
    ("1", "\\boxed{\\tan 45}", False),  # 45 radians
    ("\\frac{1}{2}", "\\boxed{\\cos(60°)}", True),
    ("\\sin 60^\\circ", "\\boxed{\\frac{\\sqrt{3}}{2}}", True),
    ("\\sin(\\frac{\\pi}{2} - \\theta)", "\\boxed{\\cos\\theta}", True),
    ("\\sin\\theta", "\\boxed{\\cos\\theta}", False),
    ("1", "\\boxed{\\sin^2 x + \\cos^2 x}", True),
    ("90^\\circ", "\\boxed{90}", True),  # without a trigonometric function a degree sign is a unit
    # a choice letter with its option text
    ("B", "\\boxed{(B)\\ 12}", True),
    ("B", "\\boxed{B. 12}", True),
    ("B", "\\boxed{\\textbf{(B)}\\ 12}", True),
    ("12", "\\boxed{(B)\\ 12}", True),
    ("12", "\\boxed{B. 12}", True),
    ("\\text{(B)}", "\\boxed{(B) 12}", True),
    ("C", "\\boxed{(B)\\ 12}", False),
    ("13", "\\boxed{B. 12}", False),
    ("(B) 12", "\\boxed{(C) 12}", False),
    ("(B) 12", "\\boxed{(B) 13}", False),
    ("A", "\\boxed{(A) and (C)}", False),
    ("C", "\\boxed{\\text{(C)} + 1}", False),  # an expression, not a choice with option text
    ("\\text{(E)}", "\\boxed{\\text{(E)} + 1}", False),
    ("B", "\\boxed{(B) 12 or (C) 13}", False),
    # bare answers: primes and matrices are read as the boxed ones are
    ("g'", "g'", True),
    ("g", "g'", False),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", True),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}", False),
    # a tower exponent is decided (by its spelling), not left to the deadline
    ("(1, 5]", "\\boxed{(3^{10^{-400}}, 5]}", False),
    ("(3^{10^{-400}}, 5]", "\\boxed{(3^{10^{-400}}, 5]}", True),
    ("6", "\\boxed{9^{9^{9^{9^9}}}}", False),
]


def test_notation_table():
    verdicts = verify_batch([r for _, r, _ in NOTATION_TABLE], [g for g, _, _ in NOTATION_TABLE], timeout_s=30)
    wrong = [(g, r, v.reason) for (g, r, expected), v in zip(NOTATION_TABLE, verdicts) if v.correct is not expected]
    assert wrong == []
    assert all(v.reason in ("ok", "mismatch") for v in verdicts)  # decided, never a timeout


# The conventions the field disagrees on (KNOWN_ISSUES.md), each both ways. (gold, response, expected correct)
CONVENTIONS_19 = [
    # mixed numbers: a whole number before a fraction, with \frac or with a space and a slash
    ("3.5", "\\boxed{3\\frac{1}{2}}", True),
    ("3.5", "\\boxed{3 1/2}", True),
    ("\\frac{7}{2}", "\\boxed{3 \\frac12}", True),
    ("3\\frac{1}{2}", "\\boxed{3.5}", True),
    ("1.5", "\\boxed{3 1/2}", False),
    ("15.5", "\\boxed{3 1/2}", False),  # digits apart are never glued into one number (31/2)
    ("12", "\\boxed{1 2}", False),
    ("-3.5", "\\boxed{-3\\frac{1}{2}}", True),
    # percent: the number before the sign is the answer
    ("25\\%", "\\boxed{25}", True),
    ("25", "\\boxed{25\\%}", True),
    ("25\\%", "\\boxed{\\frac14}", False),
    ("\\frac14", "\\boxed{25\\%}", False),
    ("0.25", "\\boxed{25\\%}", False),
    # units: a unit on one side only is ignored
    ("7", "\\boxed{7\\text{ m}}", True),
    ("7\\text{ m}", "\\boxed{7}", True),
    ("7", "\\boxed{7\\text{m}}", True),
    ("7", "\\boxed{7\\,\\mathrm{m}}", True),
    ("7", "\\boxed{8\\text{ m}}", False),
    ("7\\text{ m}", "\\boxed{8}", False),
    # times of day: seconds :00 optional; AM/PM on a 24-hour clock; H:MM against H:MM is a time
    ("9:05", "\\boxed{9:05:00}", True),
    ("9:05:00", "\\boxed{9:05}", True),
    ("21:05", "\\boxed{9:05 PM}", True),
    ("21:05", "\\boxed{9:05 \\text{ p.m.}}", True),
    ("9:05 \\text{ PM}", "\\boxed{21:05}", True),
    ("9:05", "\\boxed{9:05 AM}", True),
    ("9:05", "\\boxed{9:05 PM}", False),
    ("21:05", "\\boxed{9:05}", False),
    ("9:05", "\\boxed{9:06}", False),
    ("1:20", "\\boxed{2:40}", False),  # two times, not two ratios
    ("9:05", "\\boxed{1.8}", False),
    # a decimal approximation of an exact value: it must agree to 6 decimal places
    ("\\sqrt{5}", "\\boxed{2.236068}", True),
    ("\\sqrt{5}", "\\boxed{2.236}", False),
    ("\\sqrt{5}", "\\boxed{2.24}", False),
    ("\\frac{1}{3}", "\\boxed{0.333333}", True),
    ("\\frac{1}{3}", "\\boxed{0.333}", False),
    ("2.236", "\\boxed{\\sqrt{5}}", False),
    # order: a bare list is unordered (solutions), brackets are ordered, repeated items count
    ("7, 3, -1", "\\boxed{3, -1, 7}", True),
    ("(7, 3, -1)", "\\boxed{(3, -1, 7)}", False),
    ("\\{7, 3, -1\\}", "\\boxed{\\{3, -1, 7\\}}", True),
    ("1, 1, 2", "\\boxed{1, 2, 2}", False),
    ("1, 2", "\\boxed{1, 2, 2}", False),
    ("\\sqrt{2}, \\sqrt{2}, 1", "\\boxed{1, \\sqrt{2}, \\sqrt{2}}", True),
    ("\\sqrt{2}, \\sqrt{2}, 1", "\\boxed{1, 1, \\sqrt{2}}", False),
    ("x, x, y", "\\boxed{x, y, y}", False),
]


def test_conventions_of_issue_19():
    verdicts = verify_batch([r for _, r, _ in CONVENTIONS_19], [g for g, _, _ in CONVENTIONS_19], timeout_s=30)
    wrong = [(g, r, v.reason) for (g, r, expected), v in zip(CONVENTIONS_19, verdicts) if v.correct is not expected]
    assert wrong == []
