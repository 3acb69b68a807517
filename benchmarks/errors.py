"""The one exception type for mistakes a user can make on the command line, and "did you mean" hints.

Any ``hicra`` subcommand (``eval`` here; ``compare``, ``train``, ``analyze``, ``bench`` in their own modules)
raises :class:`UsageError` for bad input; :func:`hicra.benchmarks.cli.main` prints its message as one line on
stderr and exits with code 2, never with a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class UsageError(Exception):
    """A mistake in what the user asked for (unknown name, bad value, missing file); says how to fix it."""


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_names(values: Sequence[str], known: Iterable[str], what: str) -> None:
    """Raise :class:`UsageError` naming the first value that is not in ``known``, with a suggestion."""
    known = list(known)
    for value in values:
        if value not in known:
            raise UsageError(f"unknown {what} {value!r}{did_you_mean(value, known)} (known: {', '.join(known)})")


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
