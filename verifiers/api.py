"""``verify`` and ``verify_batch``: extraction and the fast path in-process, the rest in the worker pool."""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Sequence

from .extract import Mode, Multiple, check_mode, check_multiple, coerce_text, final_answers
from .fastpath import fast_equivalent
from .gold import Gold, normalize_for, read_gold
from .normalize import canonical_key
from .pool import VerifierPool, default_workers
from .verdict import Verdict, make_verdict
from .worker import Outcome, Task

#: More distinct final answers than this is hedging: not correct, and not worth checking one by one.
MAX_DISTINCT_ANSWERS = 4
#: A final answer longer than this is judged wrong without parsing (no gold is that long; parsing it is costly).
MAX_ANSWER_CHARS = 2_000
_HEDGE_RE = re.compile(r"(?<![A-Za-z\\])or(?![A-Za-z])|\\lor\b|\\vee\b")

# The one piece of process-wide state: worker pools are expensive to start and must persist between
# calls (verify_batch runs every training step). Keyed by size; rebuilt after a fork (pid changes).
_POOLS: dict[int, VerifierPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(workers: int | None = None) -> VerifierPool:
    """The shared pool of ``workers`` processes (None: ``default_workers()``), started on first use."""
    size = default_workers() if workers is None else workers
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None or pool.closed or pool.pid != os.getpid():
            pool = VerifierPool(size)
            _POOLS[size] = pool
        return pool


def _check_gold(gold: object, index: int) -> str:
    if isinstance(gold, str):
        return gold
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        return str(gold)
    raise TypeError(f"golds[{index}]: expected a str (or int/float) gold answer, got {type(gold).__name__}")


def _distinct(answers: list[str], gold: Gold) -> list[str]:
    seen: dict[str, str] = {}
    for answer in answers:
        normalized = normalize_for(answer, gold)
        if normalized:
            seen.setdefault(canonical_key(normalized), normalized)
    return list(seen.values())


def _prepare(response: object, gold: Gold, mode: Mode, multiple: Multiple) -> Verdict | tuple[list[str], str]:
    """A verdict when decidable in-process, else ``(undecided answers, extracted)``."""
    answers = final_answers(coerce_text(response), mode=mode, lists=gold.is_list)
    if not answers:
        return make_verdict("no_answer", None)
    extracted = answers[-1]
    judged = answers[-1:] if multiple == "last" else answers
    if any(len(a) > MAX_ANSWER_CHARS for a in judged):
        return make_verdict("mismatch", extracted[:MAX_ANSWER_CHARS])
    distinct = _distinct(judged, gold)
    if not distinct:
        return make_verdict("no_answer", extracted)
    if len(distinct) > MAX_DISTINCT_ANSWERS:
        return make_verdict("mismatch", extracted)
    if not gold.is_list and not _HEDGE_RE.search(gold.answer) and any(_HEDGE_RE.search(a) for a in judged + distinct):
        return make_verdict("mismatch", extracted)  # "42 or 43": a hedge is never a single value
    decided = [fast_equivalent(gold.answer, a) for a in distinct]
    if False in decided:
        return make_verdict("mismatch", extracted)
    undecided = [a for a, d in zip(distinct, decided) if d is None]
    if not undecided:
        return make_verdict("ok", extracted)
    return undecided, extracted


def _check_timeout(timeout_s: object) -> float:
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s):
        raise ValueError(f"timeout_s: expected a finite number of seconds > 0, got {timeout_s!r}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s: expected a number of seconds > 0, got {timeout_s!r}")
    return float(timeout_s)


def _check_arguments(responses, golds, timeout_s, workers, mode, multiple) -> float:
    """``ValueError`` naming the bad argument, its value and what is allowed; the timeout as a float."""
    timeout = _check_timeout(timeout_s)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected an int >= 1 or None (a default), got {workers!r}")
    check_mode(mode)
    check_multiple(multiple)
    if len(responses) != len(golds):
        raise ValueError(f"expected as many golds as responses, got {len(golds)} golds for {len(responses)}")
    return timeout


def _from_outcome(outcome: Outcome, extracted: str) -> Verdict:
    if outcome is True:
        return make_verdict("ok", extracted)
    if outcome is False:
        return make_verdict("mismatch", extracted)
    return make_verdict("timeout" if outcome == "timeout" else "error", extracted)


def verify_batch(
    responses: Sequence[object],
    golds: Sequence[object],
    *,
    timeout_s: float = 5.0,
    workers: int | None = None,
    mode: Mode = "lenient",
    multiple: Multiple = "last",
) -> list[Verdict]:
    """One Verdict per response, in input order; never raises on response content.

    ``mode`` says where answers are read (``"lenient"``: boxes, answer lines, a bare answer; ``"strict"``:
    boxes only; see :mod:`.extract`). ``multiple`` says which of several final answers counts:

    * ``"last"`` (default, the field's convention): the final one. ``\\boxed{3} ... wait ... \\boxed{4}`` is
      judged by ``4``.
    * ``"reject"``: every distinct final answer must be correct, so a revised answer is wrong.

    Either way, an answer that hedges (``42 or 43``, ``\\boxed{3} or \\boxed{5}``) is wrong for a single-value
    gold, and boxes joined by separators (``\\boxed{1}, \\boxed{-2}``) state one list answer. Common answers
    (numbers, fractions, letters, identical strings) are decided in-process; the rest go to a persistent pool
    of ``workers`` processes, each check bounded by ``timeout_s`` (reason ``"timeout"``).
    """
    timeout = _check_arguments(responses, golds, timeout_s, workers, mode, multiple)
    verdicts: list[Verdict | None] = []
    tasks: list[Task] = []
    slots: list[tuple[int, str]] = []
    for i, (response, gold) in enumerate(zip(responses, golds)):
        gold_read = read_gold(_check_gold(gold, i))
        prepared = _prepare(response, gold_read, mode, multiple)
        if isinstance(prepared, Verdict):
            verdicts.append(prepared)
            continue
        undecided, extracted = prepared
        tasks.append((len(tasks), gold_read.answer, undecided))
        slots.append((i, extracted))
        verdicts.append(None)
    if tasks:
        outcomes = get_pool(workers).run(tasks, timeout)
        for (i, extracted), outcome in zip(slots, outcomes):
            verdicts[i] = _from_outcome(outcome, extracted)
    return [v for v in verdicts if v is not None]


def verify(
    response: object,
    gold: str,
    *,
    timeout_s: float = 5.0,
    mode: Mode = "lenient",
    multiple: Multiple = "last",
) -> Verdict:
    """Judge one response against one gold answer (see ``verify_batch``); safe from any thread."""
    return verify_batch([response], [gold], timeout_s=timeout_s, mode=mode, multiple=multiple)[0]
