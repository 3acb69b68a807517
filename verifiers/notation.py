"""Notation that carries meaning, read the same way on both sides (conventions in KNOWN_ISSUES.md):

* **primes** are part of the answer: ``'``, ``^{\\prime}``, ``^\\prime``, ``′`` all become ``'`` (so ``h^{\\prime}``
  equals ``h'``, and never ``h``);
* **fonts** are presentation: ``\\mathcal{A}``, ``\\mathbf{v}``, ``\\boldsymbol{x}``, ``\\textbf{yes}``,
  ``{\\bf x}`` are their letters; except blackboard bold, which names a number set: ``\\mathbb{R}``, ``\\Bbb R``
  and ``ℝ`` are ``\\mathbb{R}``, never ``R``;
* **degrees inside a trigonometric function** are an angle: ``\\sin 60^\\circ`` is ``\\sin(\\frac{60\\pi}{180})``;
  elsewhere a degree sign is a unit and dropped (``90^\\circ`` is ``90``, by :mod:`.normalize`);
* **mixed numbers**: ``3 1/2`` (a whole number, a space, a proper fraction) is ``3\\frac{1}{2}``, which reads as
  ``3 + 1/2`` (math-verify's reading of ``3\\frac{1}{2}``);
* **times of day** with seconds or AM/PM are written on a 24-hour clock: ``9:05 PM`` is ``21:05``,
  ``9:05:00`` is ``9:05``.

String work only, linear in the (capped) answer length.
"""

from __future__ import annotations

import re

_FONTS = (
    "text|textbf|textit|textrm|textsf|texttt|textup|textnormal|textsc|textmd|emph|mbox|hbox|operatorname|"
    "mathrm|mathbf|mathit|mathsf|mathtt|mathcal|mathscr|mathfrak|mathnormal|boldsymbol|bm|pmb|mathbfit|"
    "symbf|symit|symrm|symsf|symcal|mathsfit"
)
_FONT_RE = re.compile(r"\\(?:" + _FONTS + r")(?![A-Za-z])\s*")
_DECLARATION_RE = re.compile(r"\\(?:bf|it|rm|sf|tt|cal|bfseries|itshape|rmfamily|scshape|boldmath)(?![A-Za-z])\s*")
_BLACKBOARD_RE = re.compile(r"\\(?:mathbb|Bbb|mathbbm|symbb)\s*(?:\{\s*([A-Za-z0-9])\s*\}|([A-Za-z0-9]))")
_BLACKBOARD_CHARS = {"ℝ": "R", "ℤ": "Z", "ℕ": "N", "ℚ": "Q", "ℂ": "C"}
_PRIME_GROUP_RE = re.compile(r"\^\s*\{\s*((?:\\prime\s*|'\s*)+)\}")
_PRIME_CMD_RE = re.compile(r"(?:\^\s*)?\\prime(?![A-Za-z])")
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![A-Za-z])")
_DEGREE_RE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![A-Za-z])")
_ATOM_END_RE = re.compile(r"(?:\d+(?:\.\d+)?|\\[A-Za-z]+|[A-Za-z])$")
_MIXED_RE = re.compile(r"(?<![\w.}\\])(\d+) +(\d+)\s*/\s*(\d+)(?![\w.])")
_TIME_RE = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?(?:\s*([ap])\.?\s*m\.?)?", re.IGNORECASE)


def canonical_primes(s: str) -> str:
    """``f^{\\prime\\prime}``, ``f^\\prime``, ``f′`` -> ``f''`` / ``f'`` (one spelling of a prime)."""
    if "\\prime" not in s and "′" not in s and "″" not in s and "^" not in s:
        return s
    s = s.replace("′", "'").replace("″", "''")
    s = _PRIME_GROUP_RE.sub(lambda m: "'" * (m.group(1).count("\\prime") + m.group(1).count("'")), s)
    return _PRIME_CMD_RE.sub("'", s)


def _closing(s: str, open_at: int) -> int | None:
    depth = 0
    for j in range(open_at, len(s)):
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and s[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return j
    return None


def strip_fonts(s: str) -> str:
    """Font and text commands removed, their argument kept (``\\mathcal{A}`` -> ``A``); blackboard bold kept."""
    for char, letter in _BLACKBOARD_CHARS.items():
        s = s.replace(char, f"\\mathbb{{{letter}}}")
    s = _BLACKBOARD_RE.sub(lambda m: f"\\mathbb{{{m.group(1) or m.group(2)}}}", s)
    s = _DECLARATION_RE.sub("", s)
    for _ in range(32):  # one command per pass, innermost last; bounded
        match = _FONT_RE.search(s)
        if match is None:
            break
        start, arg = match.start(), match.end()
        if arg < len(s) and s[arg] == "{":
            close = _closing(s, arg)
            inner = s[arg + 1 :] if close is None else s[arg + 1 : close] + s[close + 1 :]
            s = s[:start] + inner
        else:
            s = s[:start] + s[arg:]  # \mathcal A, or a command without an argument
    return s


def _atom_start(s: str, end: int) -> int | None:
    """Where the atom ending at ``end`` starts: a number, a letter, a command or a bracketed group."""
    if end == 0:
        return None
    if s[end - 1] in ")}":
        opener, closer, depth = ("(", ")", 0) if s[end - 1] == ")" else ("{", "}", 0)
        for j in range(end - 1, -1, -1):
            depth += (s[j] == closer) - (s[j] == opener)
            if depth == 0:
                return j
        return None
    match = _ATOM_END_RE.search(s, 0, end)
    return match.start() if match else None


def trig_degrees(s: str) -> str:
    """Inside an answer with a trigonometric function, ``X^\\circ`` becomes ``(\\frac{X\\pi}{180})``."""
    if not _TRIG_RE.search(s) or not _DEGREE_RE.search(s):
        return s
    for match in reversed(list(_DEGREE_RE.finditer(s))):
        end = len(s[: match.start()].rstrip())
        start = _atom_start(s, end)
        if start is None:
            s = s[: match.start()] + s[match.end() :]
            continue
        s = s[:start] + f"(\\frac{{{s[start:end]}\\pi}}{{180}})" + s[match.end() :]
    return s


def mixed_numbers(s: str) -> str:
    """``3 1/2`` -> ``3\\frac{1}{2}`` (a proper fraction after a whole number and a space)."""

    def repl(m: re.Match[str]) -> str:
        whole, num, den = m.groups()
        return f"{whole}\\frac{{{num}}}{{{den}}}" if 0 < int(num) < int(den) else m.group(0)

    return _MIXED_RE.sub(repl, s) if "/" in s else s


def canonical_time(s: str) -> str:
    """``9:05 PM`` -> ``21:05``, ``9:05:00`` -> ``9:05``, ``12:30 a.m.`` -> ``0:30``; anything else unchanged."""
    match = _TIME_RE.fullmatch(s.strip()) if ":" in s else None
    if match is None or not (match.group(3) or match.group(4)):
        return s
    hour, minute, second, half = int(match.group(1)), match.group(2), match.group(3), match.group(4)
    if half:
        if not 1 <= hour <= 12:
            return s
        hour = hour % 12 + (12 if half.lower() == "p" else 0)
    elif hour > 23:
        return s
    return f"{hour}:{minute}" + (f":{second}" if second and second != "00" else "")


def parse_time(s: str) -> tuple[int, int, int] | None:
    """``(hour, minute, second)`` of a time written ``H:MM`` or ``H:MM:SS`` (24-hour clock), else None."""
    match = _TIME_RE.fullmatch(s) if ":" in s else None
    if match is None or match.group(4) or int(match.group(1)) > 23:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
