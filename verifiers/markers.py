"""Answers stated in prose: answer lines (``#### 18``, "Final Answer: ...", "The answer is ..."), the clause
such a line introduces, and a response that is nothing but its answer.

An answer line often continues as a sentence (Minerva's "Final Answer: The final answer is $X$. I hope it is
correct.", or "Final Answer: The largest $n$ is 34."). The clause ends at the first full stop outside math;
a clause that is prose is read as the answer token (a math span or a number) after its last "is"/"="
("The largest $n$ is 34" -> ``34``), else its first answer token ("3 hours ago" -> ``3``). A clause that
offers an alternative ("42 or 43") is kept whole: the caller rejects the hedge.

All regexes here are linear or bounded; nothing is parsed or evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: A bare response longer than this is not read as an answer (real answers are short).
MAX_BARE_CHARS = 500
#: An answer line is read up to this many characters (as a box is): longer answers reach the caller overlong.
MAX_CLAUSE_CHARS = 100_000

#: Math delimiters; spans are paired in one linear pass (``math_spans``). ``\\$`` is an escaped dollar.
_DELIMITER_TOKEN_RE = re.compile(r"\\\$|\$\$|\$|\\[()\[\]]|\n")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_INLINE = ("$", "\\(")
_NUMBER_RE = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:\s*/\s*\d+)?|\.\d+)(?:\s*\\?%)?(?![\w])"
)
_HASH_RE = re.compile(r"####[ \t]*([^\n]*)")
#: "Final answer" as a marker: followed by "is", ":", bold markup or a line break (not "the final answer, ...").
_FINAL_RE = re.compile(
    r"final\s+answer(?:\s*(?:is\b|:)|\*\*|[ \t]*\n)[ \t]*:?\s*(?:\*\*)?[ \t]*:?[ \t]*([^\n]*)", re.IGNORECASE
)
_ANSWER_RE = re.compile(r"\banswer\s*(?:is\b|:)[ \t]*:?[ \t]*(?:\*\*)?[ \t]*([^\n]*)", re.IGNORECASE)
_ANSWER_MATH_RE = re.compile(r"\banswer\b[ \t:]*(?=\$|\\[(\[])", re.IGNORECASE)
_CLAUSE_END_RE = re.compile(r"\.(?:\s|$)|\bI hope\b|<\|")
#: Command arguments that are names, not prose: ``\\text{}``, fonts, ``\\begin{pmatrix}``, ``\\operatorname{lcm}``.
_TEXT_RE = re.compile(r"\\(?:text\w*|mbox|math[a-z]+|boldsymbol|operatorname|begin|end)\s*\{[^{}]*\}")
_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
_CONNECTIVES = frozenset({"and", "or"})
_HEDGE_RE = re.compile(r"(?<![A-Za-z\\])or(?![A-Za-z])")
#: Quotes and bold around a clause; a single quote only in pairs (``'yes'``), as a lone ``'`` is a prime (``g'``).
_QUOTES_RE = re.compile(r"^(?:\\?[\"“”*:]|\s)+|(?:\\?[\"“”*]|\s)+$")
_SINGLE_QUOTED_RE = re.compile(r"[‘'](.+)[’']", re.DOTALL)
_COPULA_RE = re.compile(r"\b(?:is|are|was|equals|be)\b|=")
_DELIMITER_RE = re.compile(r"\$|\\[()\[\]]")
_BOX_RE = re.compile(r"\\(?:boxed|fbox)")
#: A bare answer holds a digit, a command or a mark of notation (``g'``, ``x+y``), or is one letter (``C``).
_ANSWER_CHAR_RE = re.compile(r"[\d\\'^_=+*/<>|-]")
_LETTER_RE = re.compile(r"\(?[A-Za-z]\)?\.?")


@dataclass(frozen=True)
class Statement:
    """An answer stated at ``start`` in the scanned text."""

    answer: str
    start: int


def math_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every math span (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``), in one pass.

    Inline spans (``$``, ``\\(``) end at a newline unclosed; display spans may cover lines.
    """
    spans: list[tuple[int, int]] = []
    opener, start = None, 0
    for match in _DELIMITER_TOKEN_RE.finditer(text):
        token = match.group(0)
        if token == "\\$":
            continue
        if opener is None:
            if token in _CLOSER:
                opener, start = token, match.start()
        elif token == "\n":
            opener = None if opener in _INLINE else opener
        elif token == _CLOSER[opener]:
            spans.append((start, match.end()))
            opener = None
    return spans


def _outside_math(text: str) -> str:
    """``text`` with every math span (and ``\\text{}`` argument) blanked out, positions kept."""
    chars = list(text)
    for start, end in math_spans(text):
        chars[start:end] = " " * (end - start)
    return _TEXT_RE.sub(lambda m: " " * len(m.group(0)), "".join(chars))


def is_prose(text: str) -> bool:
    """Two or more words (of two letters or more, outside math and ``\\text{}``), not counting and/or."""
    words = [w for w in _WORD_RE.findall(_outside_math(text)) if w.lower() not in _CONNECTIVES]
    return len(words) >= 2


def _tokens(text: str, plain: str, start: int) -> list[str]:
    """Math spans and numbers outside math in ``text[start:]`` (``plain`` is ``text`` outside math), in order."""
    spans = [(a, text[a:b]) for a, b in math_spans(text) if a >= start]
    spans += [(m.start(), m.group(0)) for m in _NUMBER_RE.finditer(plain, start)]
    return [token for _, token in sorted(spans)]


def _unwrap_math(answer: str) -> str:
    """``$\\frac{1}{2}$`` -> ``\\frac{1}{2}`` when the whole answer is one math span."""
    if math_spans(answer) != [(0, len(answer))]:
        return answer
    width = 2 if answer[:2] in ("$$", "\\(", "\\[") else 1
    return answer[width:-width].strip()


def _unquote(text: str) -> str:
    text = _QUOTES_RE.sub("", text)
    quoted = _SINGLE_QUOTED_RE.fullmatch(text)
    return quoted.group(1).strip() if quoted else text


def _clause(raw: str) -> str:
    """The text after an answer marker up to its first full stop outside math, quotes and bold removed."""
    raw = raw[:MAX_CLAUSE_CHARS]
    end = _CLAUSE_END_RE.search(_outside_math(raw))
    return _unquote(raw[: end.start()] if end else raw)


def answer_clause(raw: str) -> str | None:
    """The answer stated by the text after an answer marker (see the module docstring), or None."""
    return _reduce(_clause(raw))


def _reduce(clause: str) -> str | None:
    """The answer a clause states: itself, unless it is prose (then one answer token of it)."""
    if not clause:
        return None
    if not is_prose(clause) or _HEDGE_RE.search(_outside_math(clause)):
        return _unwrap_math(clause)
    plain = _outside_math(clause)
    copulas = list(_COPULA_RE.finditer(plain))
    if copulas:
        rest = _unquote(clause[copulas[-1].end() :])
        if rest and not is_prose(rest):
            return _unwrap_math(rest)  # "The final answer is $12$ and $13$"
    tokens = _tokens(clause, plain, copulas[-1].end() if copulas else 0) or _tokens(clause, plain, 0)
    return _unwrap_math(tokens[0]) if tokens else clause


def _line_statements(pattern: re.Pattern[str], text: str) -> list[Statement]:
    found = []
    for match in pattern.finditer(text):
        clause = _clause(match.group(1))
        if _BOX_RE.search(clause):
            continue  # "Final answer: \\boxed{9}": the box itself is the statement
        answer = _reduce(clause)
        if answer is not None:
            found.append(Statement(answer, match.start()))
    return found


def final_statements(text: str) -> list[Statement]:
    """``#### 18`` lines and "Final answer: ..." / "The final answer is ..." statements, in order."""
    found = _line_statements(_HASH_RE, text) + _line_statements(_FINAL_RE, text)
    return sorted(found, key=lambda s: s.start)


def answer_statements(text: str) -> list[Statement]:
    """Answer lines ("The answer is ...", "Answer: ...") and "Answer $9$" (a math span after "answer"), in order."""
    found = _line_statements(_ANSWER_RE, text)
    starts = list(_ANSWER_MATH_RE.finditer(text))
    if starts:
        spans = dict(math_spans(text))
        for match in starts:
            end = spans.get(match.end())
            if end is not None and "\\boxed" not in text[match.end() : end]:
                found.append(Statement(_unwrap_math(text[match.end() : end]), match.start()))
    return sorted(found, key=lambda s: s.start)


def bare_answer(text: str) -> str | None:
    """The answer when the whole response is one (``-5``, ``$1/3$``, ``28 percent``); None for prose.

    Without math delimiters, the text must hold a digit or a LaTeX command, or be one letter (``C``): a
    single word such as "nothing" is not an answer. A failed box (``\\boxed{``) is not one either.
    """
    text = text.strip()
    if not text or len(text) > MAX_BARE_CHARS or _BOX_RE.search(text) or is_prose(text):
        return None
    if not (math_spans(text) or _ANSWER_CHAR_RE.search(text) or _LETTER_RE.fullmatch(text)):
        return None
    answer = " ".join(_DELIMITER_RE.sub(" ", text).split()).rstrip(".").strip()
    return answer if re.search(r"[\w\\]", answer) else None
