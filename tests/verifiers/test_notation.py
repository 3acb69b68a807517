from __future__ import annotations

import pytest

from hicra.verifiers.notation import (
    canonical_primes,
    canonical_time,
    mixed_numbers,
    parse_time,
    strip_fonts,
    trig_degrees,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("h^{\\prime}", "h'"),
        ("h^\\prime", "h'"),
        ("h^{\\prime\\prime}", "h''"),
        ("h^{\\prime \\prime}(x)", "h''(x)"),
        ("h^{''}", "h''"),
        ("f′(x)", "f'(x)"),
        ("f″", "f''"),
        ("g'(t)", "g'(t)"),
        ("x^2", "x^2"),  # not a prime
        ("x^{\\prime 2}", "x^{' 2}"),  # a prime inside a larger exponent: only its spelling matches later
    ],
)
def test_canonical_primes(raw, expected):
    assert canonical_primes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\\mathcal{A}", "A"),
        ("\\mathscr{A}", "A"),
        ("\\mathfrak{g}", "g"),
        ("\\boldsymbol{x}", "x"),
        ("\\bm{v}", "v"),
        ("\\textbf{yes}", "yes"),
        ("\\mathbf{\\hat{x}}", "\\hat{x}"),  # the accent stays: it is part of the answer
        ("\\text{\\textbf{yes}}", "yes"),
        ("\\mathcal A", "A"),
        ("{\\bf x}", "{x}"),
        ("\\mathsf{P}(\\mathcal{A})", "P(A)"),
        ("\\mathbb{R}", "\\mathbb{R}"),  # blackboard bold names a number set: kept
        ("\\mathbb R", "\\mathbb{R}"),
        ("\\Bbb{Z}", "\\mathbb{Z}"),
        ("ℝ", "\\mathbb{R}"),
        ("\\text{a {b} c}", "a {b} c"),
    ],
)
def test_strip_fonts(raw, expected):
    assert strip_fonts(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\\sin 60^\\circ", "\\sin (\\frac{60\\pi}{180})"),
        ("\\tan 45°", "\\tan (\\frac{45\\pi}{180})"),
        ("\\cos(30^{\\circ})", "\\cos((\\frac{30\\pi}{180}))"),
        ("\\sin (x+30)^\\circ", "\\sin (\\frac{(x+30)\\pi}{180})"),
        ("\\sin \\theta^\\circ", "\\sin (\\frac{\\theta\\pi}{180})"),
        ("90^\\circ", "90^\\circ"),  # no trigonometric function: a unit, dropped later by normalize
    ],
)
def test_trig_degrees(raw, expected):
    assert trig_degrees(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3 1/2", "3\\frac{1}{2}"),
        ("-3 1/2", "-3\\frac{1}{2}"),
        ("3 5/2", "3 5/2"),  # not a proper fraction: not a mixed number
        ("31/2", "31/2"),
        ("x 1/2", "x 1/2"),
        ("1.5 1/2", "1.5 1/2"),
    ],
)
def test_mixed_numbers(raw, expected):
    assert mixed_numbers(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9:05 PM", "21:05"),
        ("9:05 p.m", "21:05"),
        ("9:05pm", "21:05"),
        ("9:05 AM", "9:05"),
        ("12:30 a.m.", "0:30"),
        ("12:30 PM", "12:30"),
        ("9:05:00", "9:05"),
        ("9:05:30", "9:05:30"),
        ("9:05", "9:05"),  # a plain H:MM is left alone (a time or a ratio)
        ("13:05 PM", "13:05 PM"),  # not a time: left alone
        ("25:00:00", "25:00:00"),
    ],
)
def test_canonical_time(raw, expected):
    assert canonical_time(raw) == expected


def test_parse_time():
    assert parse_time("21:05") == (21, 5, 0)
    assert parse_time("9:05:30") == (9, 5, 30)
    assert parse_time("9:5") is None  # one-digit minutes: a ratio
    assert parse_time("24:00") is None
    assert parse_time("1:2:3") is None
