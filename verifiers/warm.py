"""Warm-up of the full checker, imported once by the worker pool's forkserver (``pool._PRELOAD``).

math-verify parses LaTeX with an ANTLR parser whose prediction cache (a DFA per grammar decision) starts empty:
the first answer with a new construct costs up to a second, the same construct later about a millisecond.
Parsing one answer of each common construct here, in the forkserver, means every worker forked from it
(including the replacement of a worker killed at its deadline) starts with a warm cache, as a long-running
math-verify loop has. Importing this module anywhere else just costs the warm-up once.
"""

from __future__ import annotations

import logging

from .equivalence import judge, warm_up

#: One (gold, answers) check per common construct of MATH-style answers.
CORPUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("\\frac{3}{7}", ("0.25", "\\frac{6}{14}")),
    ("3\\sqrt{5}", ("\\sqrt{45}", "\\frac{\\sqrt{7}}{3}")),
    ("[\\frac{\\pi}{6}, \\frac{3\\pi^2}{5}]", ("[\\frac{\\pi^2}{6}, \\frac{3\\pi}{5})",)),
    ("(7, \\frac{\\pi}{4})", ("(6, \\frac{3\\pi}{4})", "(7, \\pi/4)")),
    ("(-\\infty, -1) \\cup (4, \\infty)", ("(-\\infty, -1] \\cup [5, \\infty)",)),
    ("\\{3\\pm\\sqrt{2}, 7\\}", ("\\{-3\\pm\\sqrt{2}, 7\\}",)),
    ("t^4 + 2t^3 - t + 5", ("(t+1)(t^3+t^2-t)", "t^5 + 2")),
    ("2a + 3b - c + 9 = 0", ("3a + 3b - c + 9 = 0", "b = 4a - 1")),
    ("t \\in (-4, 9]", ("t \\in [-4, 9)", "-4 < t \\le 9", "t \\geq 2")),
    ("\\begin{pmatrix} 2/5 \\\\ -4/5 \\end{pmatrix}", ("\\begin{pmatrix} 3 & -1 \\\\ 0 & 2 \\end{pmatrix}",)),
    ("(p-3)(q+7)", ("pq + 7p - 3q - 21", "\\frac{p}{q}")),
    ("1032_{4}", ("2031_{4}", "b_{k-1}")),
    ("3 + 8i", ("(2-i)^2", "4e^{i\\pi/3}")),
    ("\\frac{\\sqrt{2}}{2}", ("\\cos(\\frac{45\\pi}{180})", "\\sin\\alpha", "\\sec^2 y - 1")),
    ("\\log_3 81", ("\\ln y - \\log(5)", "e^{3}", "|y+2|")),
    ("\\binom{7}{3}", ("6!", "\\lfloor 3.7 \\rfloor", "\\lceil y \\rceil")),
    ("10^{-4}", ("3^{7}", "5 \\cdot 10^{4}", "2.5 \\times 10^{2}")),
    ("y_{\\prime}", ("h_{\\prime}(s)", "g(y)")),
    ("\\text{north}", ("\\mathbb{Z}", "\\emptyset", "\\varnothing")),
)


def warm_corpus() -> None:
    """Run every check of ``CORPUS`` once (failures are logged and ignored: this only fills caches)."""
    warm_up()
    for gold, answers in CORPUS:
        for answer in answers:
            try:
                judge(gold, [answer])
            except Exception:  # a warm-up check may fail; the real checks handle their own errors
                logging.getLogger(__name__).debug("warm-up check failed: %s / %s", gold, answer, exc_info=True)


warm_corpus()
