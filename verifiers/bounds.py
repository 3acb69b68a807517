"""Work bounds checked before sympy sees an answer: powers and factorials no answer needs.

sympy evaluates ``3^{10^{-400}}`` (a root of degree 10^400) or ``9^{9^{9^9}}`` without bound, so a check would
run into the deadline instead of being decided. An exponent whose value is known from its digits alone and is
out of range (``|e| > MAX_EXPONENT``, or ``0 < |e| < MIN_EXPONENT``; also a root ``\\sqrt[n]`` of degree over
``MAX_EXPONENT``), or a factorial of more than ``MAX_FACTORIAL``, makes the answer *too costly*: it is then
decided the way the fast path decides exact numbers, by its exact spelling only (equal to a gold written
identically, else wrong; KNOWN_ISSUES.md). Other costly work (``\\binom{10^{12}}{10^6}``) still ends at the
deadline, as ``"timeout"``.

The values are estimated with :mod:`decimal` (30 digits, huge exponent range): no sympy, no eval.
"""

from __future__ import annotations

import decimal
import math
import re

MAX_EXPONENT = 10_000
MIN_EXPONENT = decimal.Decimal("1e-4")
MAX_FACTORIAL = 10_000
_MAX_MARKS = 64  # "^" and "!" examined per answer
_MAX_ARGUMENT_CHARS = 200

_TOKEN_RE = re.compile(r"\s*(\d+(?:\.\d+)?|\\d?frac|\\cdot|\\times|\\left|\\right|[-+*/^{}()!])")
_CONTEXT = decimal.Context(prec=30, Emax=10**9, Emin=-(10**9), traps=[decimal.InvalidOperation, decimal.DivisionByZero])


class _Unknown(Exception):
    """The text is not a plain number expression."""


class _Parser:
    """Recursive descent over numbers, + - * / ^ !, \\frac, braces and parentheses (nothing else)."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if match is None:
                raise _Unknown
            if match.group(1) not in ("\\left", "\\right"):
                self.tokens.append(match.group(1))
            pos = match.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Unknown
        self.i += 1
        return token

    def expr(self) -> decimal.Decimal:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> decimal.Decimal:
        value = self.factor()
        while self.peek() in ("*", "/", "\\cdot", "\\times"):
            value = value / self.factor() if self.take() == "/" else value * self.factor()
        return value

    def factor(self) -> decimal.Decimal:
        if self.peek() in ("-", "+"):
            return -self.factor() if self.take() == "-" else self.factor()
        base = self.atom()
        if self.peek() == "^":
            self.take()
            return base ** self.factor()
        return base

    def atom(self) -> decimal.Decimal:
        value = self.primary()
        if self.peek() == "!":
            self.take()
            if value > MAX_FACTORIAL or value != value.to_integral_value() or value < 0:
                return decimal.Decimal("Infinity") if value > MAX_FACTORIAL else self._unknown()
            return decimal.Decimal(math.factorial(int(value)))
        return value

    @staticmethod
    def _unknown() -> decimal.Decimal:
        raise _Unknown

    def primary(self) -> decimal.Decimal:
        token = self.take()
        if token in ("{", "("):
            value = self.expr()
            self.take("}" if token == "{" else ")")
            return value
        if token.endswith("frac"):
            num = self.atom()
            return num / self.atom()
        if token[0].isdigit():
            return decimal.Decimal(token)
        raise _Unknown


def estimate(text: str) -> decimal.Decimal | None:
    """The value of a plain number expression (``10^{-400}``, ``\\frac{1}{9^9}``), else None; overflow is inf."""
    if len(text) > _MAX_ARGUMENT_CHARS:
        return None
    try:
        with decimal.localcontext(_CONTEXT):
            parser = _Parser(text)
            value = parser.expr()
            return value if parser.peek() is None else None
    except decimal.Overflow:
        return decimal.Decimal("Infinity")
    except (_Unknown, decimal.DecimalException, ZeroDivisionError, ValueError):
        return None


def _group(s: str, start: int) -> tuple[str, int]:
    """The braced group at ``start`` (or one character) and where it ends."""
    if start < len(s) and s[start] == "{":
        depth = 0
        for j in range(start, min(len(s), start + _MAX_ARGUMENT_CHARS + 2)):
            depth += (s[j] == "{") - (s[j] == "}")
            if depth == 0:
                return s[start : j + 1], j + 1
        return "", start
    return s[start : start + 1], start + 1


def _exponent(s: str, caret: int) -> str:
    """The exponent after ``^`` (a group, one character or a ``\\frac``); ``10^{10}!`` has exponent ``10!``."""
    j = caret + 1
    while j < len(s) and s[j] == " ":
        j += 1
    if s.startswith("\\frac", j):
        num, end = _group(s, j + 5)
        den, end = _group(s, end)
        text = f"\\frac{num}{den}"
    else:
        text, end = _group(s, j)
    return f"{{{text}}}!" if s.startswith("!", end) else text


def _root_index(s: str, start: int) -> str:
    end = s.find("]", start, start + _MAX_ARGUMENT_CHARS)
    return s[start:end] if end >= 0 else ""


def _factorial_argument(s: str, bang: int) -> str:
    end = bang
    if end and s[end - 1] in ")}":
        closer, opener, depth = s[end - 1], "(" if s[end - 1] == ")" else "{", 0
        for j in range(end - 1, max(-1, end - _MAX_ARGUMENT_CHARS - 2), -1):
            depth += (s[j] == closer) - (s[j] == opener)
            if depth == 0:
                return s[j:end]
        return ""
    digits = re.search(r"\d+$", s[:end])
    return digits.group(0) if digits else ""


def too_costly(latex: str) -> bool:
    """True when ``latex`` holds a power or factorial out of range (see the module docstring)."""
    marks = [m.end() - 1 for m in re.finditer(r"\^|(?<!\\)!|\\sqrt\s*\[", latex)][:_MAX_MARKS]
    for at in marks:
        if latex[at] == "[":
            value = estimate(_root_index(latex, at + 1))  # a root of degree n is the power 1/n
            if value is not None and abs(value) > MAX_EXPONENT:
                return True
        elif latex[at] == "^":
            value = estimate(_exponent(latex, at))
            if value is not None and (abs(value) > MAX_EXPONENT or 0 < abs(value) < MIN_EXPONENT):
                return True
        else:
            value = estimate(_factorial_argument(latex, at))
            if value is not None and value > MAX_FACTORIAL:
                return True
    return False
