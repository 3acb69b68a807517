"""math-verify 0.9.0 false positives/negatives that hicra.verifiers fixes (mirrored in verifiers/KNOWN_ISSUES.md).

Each row: gold, response, what ``math_verify.verify(parse(f"${gold}$"), parse(response))`` says, what hicra says
(the right answer), and why.
"""

from __future__ import annotations

KNOWN_ISSUES: list[tuple[str, str, bool, bool, str]] = [
    ("\\frac{1}{2004!}", "\\boxed{\\frac{1}{2006!}}", True, False, "tiny exact values: absolute tolerance"),
    ("\\frac{1}{2^{99}}", "\\boxed{\\frac{1}{2^{98}}}", True, False, "tiny exact values: absolute tolerance"),
    ("\\frac{\\sqrt{3}}{2^{60}}", "\\boxed{\\frac{\\sqrt{3}}{2^{61}}}", True, False, "tiny exact irrationals"),
    ("0.0000001", "\\boxed{0.0000002}", True, False, "decimals rounded to 6 places, no relative check"),
    ("\\frac{1}{100000000}", "\\boxed{0.00000002}", True, False, "decimal vs tiny rational, 6-place rounding"),
    ("\\text{east}", "\\boxed{x = \\text{east}}", False, True, "assignment to a text answer not unwrapped"),
    (
        "11,\\! 111,\\! 111,\\! 100",
        "\\boxed{x = 11,\\! 111,\\! 111,\\! 100}",
        False,
        True,
        "assignment + thousands separators read as a set",
    ),
    (
        "1 - \\frac{1}{\\mathrm{e}}",
        "$1 + \\frac{1}{\\mathrm{e}}$",
        True,
        False,
        "\\mathrm{e} in inline math: both sides truncated to 1 (an expectation of Math-Verify's own suite)",
    ),
    (
        "4",
        "\\boxed{3}. Wait, that is wrong: 2+2 = \\boxed{4}",
        False,
        True,
        "a revision read as the set {3, 4}: boxes under 70 characters apart with a comma between are joined",
    ),
    ("g(t)", "\\boxed{g'(t)}", True, False, "a prime dropped: g'(t) read as g(t)"),
    ("h", "\\boxed{h''}", True, False, "a double prime dropped"),
    ("A", "\\boxed{A'}", True, False, "a prime dropped from a point's name"),
    ("h'", "\\boxed{h^{\\prime}}", False, True, "two spellings of one prime"),
    ("A", "\\boxed{\\mathcal{A}}", False, True, "a font command not stripped"),
    ("2i", "\\boxed{(1+i)^2}", False, True, "i read as a variable, not the imaginary unit"),
    ("\\frac{\\sqrt{3}}{2}", "\\boxed{\\sin 60^\\circ}", False, True, "degrees inside sin read as radians"),
    ("B", "\\boxed{(B)\\ 12}", False, True, "a choice letter with its option text"),
    ("3.5", "\\boxed{3 1/2}", False, True, "a mixed number with a space"),
    ("21:05", "\\boxed{9:05 PM}", False, True, "a time of day with PM"),
    ("1.8", "\\boxed{9:05}", True, False, "a time of day read as the ratio 9/5"),
    ("\\frac14", "\\boxed{25\\%}", True, False, "(convention) the number before a percent sign is the answer"),
    ("x", "\\boxed{X}", True, False, "the case of a letter dropped"),
    ("\\pi", "\\boxed{\\Pi}", True, False, "the case of a Greek letter dropped"),
    ("4210_{5}", "\\boxed{4210_{6}}", True, False, "a numeral's base dropped on both sides"),
    ("0.001", "\\boxed{0.0014}", False, False, "(control: 6-place rounding already separates these)"),
    ("5", "\\boxed{5} \\boxed{6} \\boxed{7} \\boxed{8} \\boxed{5}", False, False, "(control: hedging)"),
    ("8", "\\boxed{5} \\boxed{6} \\boxed{7} \\boxed{8}", False, False, "(control: hedging)"),
    ("5", "The answer is 4. \\boxed{5} Actually \\boxed{4}", False, False, "(control: last box)"),
    ("3", "\\boxed{3} or maybe \\boxed{4}", False, False, "(control: hedging)"),
    ("3", "\\boxed{4} or maybe \\boxed{3}", False, False, "(control: hedging)"),
]
