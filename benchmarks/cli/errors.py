"""How the command line reports mistakes: one line on stderr, with "did you mean" where one helps, exit 2.

Library code raises ``ValueError``/``KeyError``/``FileNotFoundError`` (and Gymnasium its own errors for env ids)
with messages that say "expected X, got Y", naming the choices as ``expected one of: a, b, c``. Only the command
line knows :class:`UsageError` (its own mistakes: flags, comma lists) and turns every error into one line with
:func:`one_line`, the one place where "did you mean" is computed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["USER_ERRORS", "UsageError", "did_you_mean", "one_line", "parse_int_list", "parse_list", "parse_overrides"]


class UsageError(Exception):
    """A mistake in what the user typed on the command line (a flag, a list, a value); says how to fix it."""


def _user_errors() -> tuple[type[BaseException], ...]:
    import gymnasium

    from hicra.agents.config import EngineUnavailableError
    from hicra_env import HubUnavailableError

    return (
        UsageError, ValueError, KeyError, FileNotFoundError, FileExistsError, NotADirectoryError, gymnasium.error.Error,
        HubUnavailableError, EngineUnavailableError,
    )  # fmt: skip


USER_ERRORS = _user_errors()
"""What the command line reports as a user's mistake (one line, exit 2) rather than a crash."""

_CHOICES = re.compile(r"expected one of:?\s+(?P<choices>.+?)(?:[;,]\s*got\b|\s*\(|$)")
_GOT = re.compile(r"\bgot\s+(?P<value>'[^']*'|\"[^\"]*\")")
_QUOTED = re.compile(r"'([^']*)'")


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known``, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _hint(message: str) -> str:
    """The "did you mean" of a message following the convention (quoted value, ``expected one of: ...``)."""
    match = _CHOICES.search(message)
    if match is None or "did you mean" in message.lower():
        return ""
    choices = [c.strip().strip("'\"") for c in match.group("choices").split(",")]
    got = _GOT.search(message)
    quoted = _QUOTED.findall(message[: match.start()])
    value = got.group("value")[1:-1] if got else (quoted[-1] if quoted else None)
    if value is None:
        return ""
    return did_you_mean(value, choices)


def one_line(err: BaseException) -> str:
    """The error as one line: its message with whitespace folded, and a "did you mean" when the message names
    the choices."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    message = " ".join(str(text).split()) or type(err).__name__
    return message + _hint(message)


def parse_list(text: str, flag: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; an empty item is a :class:`UsageError` naming ``flag``."""
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise UsageError(f"{flag}: expected a comma-separated list without empty items, got {text!r}")
    return items


def parse_int_list(text: str, flag: str, *, low: int = 1) -> list[int]:
    """``"1,8,32"`` -> ``[1, 8, 32]`` (sorted, without duplicates); each must be an integer >= ``low``."""
    values = []
    for item in parse_list(text, flag):
        try:
            value = int(item)
        except ValueError:
            raise UsageError(f"{flag}: expected comma-separated integers >= {low}, got {item!r} in {text!r}") from None
        if value < low:
            raise UsageError(f"{flag}: expected integers >= {low}, got {value} in {text!r}")
        values.append(value)
    return sorted(set(values))


def parse_overrides(items: Iterable[str]) -> list[tuple[str, object]]:
    """``--set`` items ``section.field=value`` -> ``(key, value)``; values are read as TOML (``0.3``, ``true``,
    ``"hf"``, ``{ num_problems = 32 }``), else taken as a plain string."""
    import tomllib

    pairs = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set: expected section.field=value (e.g. agent.alpha=0.3), got {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        pairs.append((key.strip(), value))
    return pairs
