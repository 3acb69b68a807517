from __future__ import annotations

import pytest

from hicra.verifiers.normalize import canonical_key, is_bare_list, normalize_answer, split_top_level


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("18", "18"),
        ("$18$", "18"),
        ("\\$18", "18"),
        ("\\$1{,}000", "1000"),
        ("10,000", "10000"),
        ("1,234,567.5", "1234567.5"),
        ("1,2", "1,2"),  # not a thousands separator: a list
        ("\\dfrac{1}{2}", "\\frac{1}{2}"),
        ("\\tfrac{1}{2}", "\\frac{1}{2}"),
        ("\\text{Evelyn}", "Evelyn"),
        ("\\mathrm{east}", "east"),
        ("\\textbf{\\text{yes}}", "yes"),
        ("90^\\circ", "90"),
        ("90^{\\circ}", "90"),
        ("50\\%", "50"),
        ("12 \\text{ cm}", "12"),
        ("10 \\text{ cm}^2", "10"),
        ("18 dollars", "18"),
        ("2m", "2m"),  # no space: a product, not a unit
        ("x = 5", "5"),
        ("y = 2x+3", "2x+3"),
        ("a=1, b=2", "1,2"),  # each item of a list loses its name (Math-Verify: AB=4,CD=5 equals 4, 5)
        ("x == 5", "x == 5"),
        ("x = 11,111,111,100", "11111111100"),
        ("x = 1,-2", "1,-2"),
        ("p=5,q=2;p=7,q=2", "(5,2),(7,2)"),  # assignment groups are tuples
        ("(p,q) = (3,2)", "(3,2)"),
        ("x = 5+5+1 = 7 = 11", "11"),  # a chain names its last side
        ("x = \\frac{1}{3} \\approx 0.33", "\\frac{1}{3}"),
        ("x \\approx 11", "11"),
        ("\\frac{NO}{BO} = \\frac{1}{2}", "\\frac{1}{2}"),
        ("2x+4y-3=0", "2x+4y-3=0"),  # an equation, not an assignment
        ("7 = 11a+c", "7 = 11a+c"),
        ("28 percent", "28"),
        ("28 pct", "28"),
        ("28 percentage", "28"),
        ("14 {, }916", "14916"),
        ("1 000", "1000"),
        ("\\text{(C)}", "C"),
        ("(c)", "C"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "( 3, \\frac{\\pi}{2} )"),
        ("5.", "5"),
        ("\\(5\\)", "5"),
        ("10,\\!000", "10000"),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("3\\,000", "3000"),  # a thin space between digit groups separates thousands
        ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
        ("\\$32,\\!348", "32348"),
        # issue 19: notation
        ("g^{\\prime}(t)", "g'(t)"),  # primes kept, one spelling
        ("\\mathcal{A}", "A"),  # fonts stripped
        ("\\boldsymbol{x}", "x"),
        ("\\mathbb{R}", "\\mathbb{R}"),  # blackboard bold kept
        ("\\sin 60^\\circ", "\\sin (\\frac{60\\pi}{180})"),  # degrees in a trigonometric function
        ("(B)\\ 12", "(B) 12"),  # a choice letter with its option text
        ("B. 12", "(B) 12"),
        ("\\textbf{(B)}\\ 12", "(B) 12"),
        ("\\text{(B) } x = 5", "(B) 5"),  # the option text is normalised
        ("a", "a"),  # a bare lower-case letter is a variable, not choice A
        ("(a)", "A"),
        ("3 1/2", "3\\frac{1}{2}"),  # a mixed number
        ("9:05 PM", "21:05"),  # a time of day on a 24-hour clock
        ("9:05:00", "9:05"),
        ("7\\text{m}", "7"),  # a glued unit is a unit
    ],
)
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6 \\text{ and } 8", "6, 8"),
        ("21,16 or 11", "21,16, 11"),
        ("p = -1 \\text{ and } p = \\dfrac{15}{8}", "-1,\\frac{15}{8}"),
        ("x = 1 or x = 2", "1,2"),
    ],
)
def test_list_words_separate_items_for_a_list_gold(raw, expected):
    assert normalize_answer(raw, lists=True) == expected
    assert normalize_answer(raw) != expected  # for a single-value gold "and"/"or" stay (a hedge is caught later)


def test_keep_equation_leaves_assignments_whole():
    assert (
        normalize_answer("y = -\\frac{1}{2}x + \\frac{3}{4}", keep_equation=True) == "y = -\\frac{1}{2}x + \\frac{3}{4}"
    )
    assert normalize_answer("y = -\\frac{1}{2}x + \\frac{3}{4}") == "-\\frac{1}{2}x + \\frac{3}{4}"


def test_canonical_key_drops_whitespace_only():
    assert canonical_key("p - q") == canonical_key("p-q") == "p-q"
    assert canonical_key("p + q") != canonical_key("p-q")
    assert canonical_key("1 2") == "1 2" != canonical_key("12")  # digits apart stay apart


@pytest.mark.parametrize(
    ("text", "parts"),
    [("1, 2", ["1", "2"]), ("1, (2,3)", ["1", "(2,3)"]), ("\\frac{1}{2}, 3", ["\\frac{1}{2}", "3"]), ("5", ["5"])],
)
def test_split_top_level(text, parts):
    assert split_top_level(text) == parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1, 2", True), ("-1, 3", True), ("(1, 2)", False), ("\\{1, 2\\}", False), ("5", False), ("1,", False)],
)
def test_is_bare_list(text, expected):
    assert is_bare_list(text) is expected
