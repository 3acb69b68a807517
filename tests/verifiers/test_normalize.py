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
        ("a=1, b=2", "a=1, b=2"),  # several assignments stay
        ("x == 5", "x == 5"),
        ("x = 11,111,111,100", "11111111100"),
        ("x = 1,-2", "x = 1,-2"),
        ("\\text{(C)}", "C"),
        ("(c)", "C"),
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "( 3, \\frac{\\pi}{2} )"),
        ("5.", "5"),
        ("\\(5\\)", "5"),
        ("10,\\!000", "10000"),
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("3\\,000", "3 000"),
        ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
        ("\\$32,\\!348", "32348"),
    ],
)
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


def test_canonical_key_drops_whitespace_only():
    assert canonical_key("p - q") == canonical_key("p-q") == "p-q"
    assert canonical_key("p + q") != canonical_key("p-q")


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
