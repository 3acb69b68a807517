"""A small, closed evaluator for the commonest answer shapes, used only to *reject* in-process.

Most wrong answers in early training are a changed coefficient (``4\\sqrt{13}`` for ``3\\sqrt{13}``,
``7 - 5i`` for ``6 - 5i``, ``x^6 - x^4 + 1`` for ``x^5 - x^4 + 1``). Parsing them with math-verify costs a worker
up to a second; evaluating both sides here at two sample points costs microseconds. Two expressions in the same
letters whose values differ at a point are different; equal values decide nothing (the full checker does).

The grammar is deliberately small: numbers, ``\\pi``, single letters (``i`` is the imaginary unit only when it is
the only letter on both sides, as in :mod:`.equivalence`; ``e`` is not read), ``+ - \\cdot \\times``, implicit
products, ``^`` with a braced or one-character exponent, ``\\frac{..}{..}`` (and ``\\frac34``), ``\\sqrt{..}`` and
brackets. Anything else (functions, ``/``, ``\\pm``, relations, ``e``) makes the text unreadable here (None).
No eval; complex arithmetic in Python floats; exponents bounded.
"""

from __future__ import annotations

import cmath
import re
from collections.abc import Callable

_TOKEN_RE = re.compile(
    r"\s*(\d+(?:\.\d+)?|\.\d+|\\pi(?![A-Za-z])|\\(?:frac|sqrt|cdot|times)(?![A-Za-z])|[A-Za-df-z]|[-+^(){}])"
)
_MAX_CHARS = 200
_MAX_EXPONENT = 64
_REL = 1e-9

Value = Callable[[dict[str, complex]], complex]


class Unreadable(Exception):
    """Outside the small grammar."""


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise Unreadable
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0
        self.scale = [0.0]  # the largest term any sum met: the rounding error is relative to it

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise Unreadable
        self.i += 1
        return token

    def sum(self) -> Value:
        sign = -1 if self.peek() == "-" else 1
        if self.peek() in ("-", "+"):
            self.take()
        terms = [(sign, self.product())]
        while self.peek() in ("+", "-"):
            terms.append((1 if self.take() == "+" else -1, self.product()))
        scale = self.scale

        def value(env: dict[str, complex]) -> complex:
            parts = [s * t(env) for s, t in terms]
            scale[0] = max(scale[0], *(abs(p) for p in parts))
            return sum(parts)

        return value

    def product(self) -> Value:
        factors = [self.power()]
        while self.peek() is not None and self.peek() not in ("+", "-", ")", "}"):
            if self.peek() in ("\\cdot", "\\times"):
                self.take()
            factors.append(self.power())

        def value(env: dict[str, complex]) -> complex:
            result: complex = 1
            for f in factors:
                result *= f(env)
            return result

        return value

    def power(self) -> Value:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.group() if self.peek() == "{" else self.atom(single=True)

        def value(env: dict[str, complex]) -> complex:
            e = exponent(env)
            if abs(e) > _MAX_EXPONENT:
                raise OverflowError
            return base(env) ** e

        return value

    def group(self) -> Value:
        self.take("{")
        inner = self.sum()
        self.take("}")
        return inner

    def atom(self, single: bool = False) -> Value:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            number = float(token) if not single else float(token[0])
            if single and len(token) > 1:
                raise Unreadable  # x^23 means x^2 3 in LaTeX: not read here
            return lambda env: number
        if token == "\\pi":
            return lambda env: cmath.pi
        if token.isalpha():
            return lambda env: env[token]
        if single:
            raise Unreadable
        if token in ("(", "{"):
            inner = self.sum()
            self.take(")" if token == "(" else "}")
            return inner
        if token == "\\sqrt":
            radicand = self.group() if self.peek() == "{" else self.atom(single=True)
            return lambda env: cmath.sqrt(radicand(env))
        if token == "\\frac":
            num = self.group() if self.peek() == "{" else self.atom(single=True)
            den = self.group() if self.peek() == "{" else self.atom(single=True)
            return lambda env: num(env) / den(env)
        raise Unreadable


def compile_value(text: str) -> tuple[Value, frozenset[str], list[float]] | None:
    """``(value, letters, scale)`` for a text in the grammar (module docstring), else None. Decimals are not
    read (a decimal is compared with an exact value to 6 places, elsewhere)."""
    if len(text) > _MAX_CHARS or "." in text or "e" in re.sub(r"\\[A-Za-z]+", "", text):
        return None
    try:
        tokens = _tokens(text)
        parser = _Parser(tokens)
        value = parser.sum()
        if parser.peek() is not None:
            return None
    except (Unreadable, RecursionError):
        return None
    return value, frozenset(t for t in tokens if t.isalpha()), parser.scale


def values_differ(gold: str, answer: str) -> bool:
    """True when both sides are in the grammar, use the same letters and differ at a sample point."""
    compiled = compile_value(gold), compile_value(answer)
    if compiled[0] is None or compiled[1] is None or compiled[0][1] != compiled[1][1]:
        return False
    (gold_value, letters, gold_scale), (answer_value, _, answer_scale) = compiled
    points = [{n: complex(k + 2, 0) / (k + 7) for k, n in enumerate(sorted(letters))}]
    points.append({n: complex(2 * k + 5, 0) / 3 for k, n in enumerate(sorted(letters))})
    if letters == {"i"}:
        points = [{"i": 1j}]
    for env in points:
        gold_scale[0] = answer_scale[0] = 0.0
        try:
            g, a = gold_value(env), answer_value(env)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            continue
        scale = max(1.0, abs(g), abs(a), gold_scale[0], answer_scale[0])
        if cmath.isfinite(g) and cmath.isfinite(a) and scale < 1e100 and abs(g - a) > _REL * scale:
            return True
    return False
