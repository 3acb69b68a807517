"""Local problem files: JSONL (one object a line) or parquet, with `problem` and `answer` fields.

Optional fields: ``id`` (default ``f"{file stem}-{record index}"``), ``solution``, ``level``, ``subject``.
Numbers in ``answer``/``id``/``level`` are turned into strings. A bad record raises :class:`DataFileError`
naming the file, the line (JSONL, 1-based) or row (parquet, 0-based) and the problem, unless
``skip_invalid=True``, which skips bad records and logs one warning with their count.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..problem import Problem
from .base import DataFileError, ListSource

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("problem", "answer")
OPTIONAL_FIELDS = ("id", "solution", "level", "subject")


def _field(record: dict[str, Any], key: str, *, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataFileError(f"{where}: field {key!r} must be a string or number, got {type(value).__name__}")
    return str(value)


def record_to_problem(record: Any, *, default_id: str, where: str) -> Problem:
    """Build a :class:`Problem` from one record; ``where`` (file and line) prefixes every error."""
    if not isinstance(record, dict):
        raise DataFileError(f"{where}: expected a JSON object with 'problem' and 'answer', got {type(record).__name__}")
    missing = [k for k in REQUIRED_FIELDS if record.get(k) in (None, "")]
    if missing:
        raise DataFileError(f"{where}: missing field {', '.join(repr(k) for k in missing)} (have {sorted(record)})")
    values = {k: _field(record, k, where=where) for k in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)}
    values["id"] = values["id"] or default_id
    try:
        return Problem(**values)
    except ValueError as exc:
        raise DataFileError(f"{where}: {exc}") from None


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            where = f"{path}, line {lineno}"
            if not line.strip():
                continue
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, DataFileError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})")


def _parquet_records(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is in the dev extra
        raise ImportError(f"reading {path} needs pyarrow: pip install 'hicra[parquet]'") from exc
    for row, record in enumerate(pq.read_table(path).to_pylist()):
        yield f"{path}, row {row}", record


def load_problems(path: str | Path, *, skip_invalid: bool = False) -> list[Problem]:
    """All problems of a ``.jsonl``/``.json`` (JSON lines) or ``.parquet`` file, in file order."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"data_path {str(path)!r} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        records = _jsonl_records(path)
    elif suffix in (".parquet", ".pq"):
        records = _parquet_records(path)
    else:
        raise ValueError(f"data_path {str(path)!r}: expected a .jsonl or .parquet file, got suffix {suffix!r}")
    problems, errors = [], []
    for index, (where, record) in enumerate(records):
        try:
            if isinstance(record, DataFileError):
                raise record
            problems.append(record_to_problem(record, default_id=f"{path.stem}-{index}", where=where))
        except DataFileError as exc:
            if not skip_invalid:
                raise
            errors.append(str(exc))
    if errors:
        logger.warning("skipped %d invalid record(s) in %s; first: %s", len(errors), path, errors[0])
    return problems


def file_source(path: str | Path, *, skip_invalid: bool = False) -> ListSource:
    """A :class:`ListSource` over a local file (see :func:`load_problems`)."""
    return ListSource(str(path), load_problems(path, skip_invalid=skip_invalid))
