"""The per-sample records of ``hicra eval`` and how a rerun resumes from them.

``<out>/<suite>/samples.jsonl`` holds one JSON object per (problem, sample) (:class:`SampleRecord`), appended
batch by batch. A process killed mid-write leaves at most a truncated last line: :func:`load_records` drops it
(and any other unreadable line), rewrites the file without it, and the sample is generated again.
``<out>/<suite>/run.json`` records the generation settings; resuming with different ones is refused, since the
samples would mix two distributions.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SAMPLES_FILE = "samples.jsonl"
RUN_FILE = "run.json"
# Settings that change what a sample is; n, limit, seed, batch size and device may differ between runs.
IDENTITY_KEYS = ("model", "env_id", "template", "mode", "multiple", "temperature", "top_p", "max_new_tokens")
OPTIONAL_IDENTITY_KEYS = ("adapter",)
"""Settings that are absent when unused (a missing ``adapter`` is the base model): a resume must match them too."""


@dataclass(frozen=True)
class SampleRecord:
    """One sampled response to one problem and its verdict."""

    problem_id: str
    """Id of the problem in the suite's env."""
    sample: int
    """Sample index, 0..n-1."""
    response: str
    """The decoded response."""
    extracted: str | None
    """The answer extracted from the response (strict: last ``\\boxed{}``), None when there is none."""
    correct: bool
    """The verifier's verdict."""
    reason: str
    """Verdict reason: ok, mismatch, no_answer, timeout or error."""
    gold: str
    """The reference answer."""
    tokens: int
    """Response length in tokens (including EOS when the model stopped)."""

    @property
    def key(self) -> tuple[str, int]:
        return (self.problem_id, self.sample)


_FIELDS = [f.name for f in fields(SampleRecord)]


def _parse(line: str) -> SampleRecord | None:
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or sorted(data) != sorted(_FIELDS):
            return None
        record = SampleRecord(**data)
    except (json.JSONDecodeError, TypeError):
        return None
    ok = isinstance(record.problem_id, str) and isinstance(record.sample, int) and isinstance(record.correct, bool)
    return record if ok else None


def load_records(path: Path) -> dict[tuple[str, int], SampleRecord]:
    """The readable records of ``path`` by (problem_id, sample); unreadable lines are dropped from the file.

    The first record of a key wins. A missing file holds no records.
    """
    if not path.is_file():
        return {}
    records: dict[tuple[str, int], SampleRecord] = {}
    kept: list[str] = []
    bad = 0
    raw = path.read_bytes()
    for line in raw.decode("utf-8", errors="replace").split("\n"):  # not splitlines: U+2028 may be in text
        if not line.strip():
            continue
        record = _parse(line)
        if record is None:
            bad += 1
        elif record.key not in records:
            records[record.key] = record
            kept.append(line)
    if bad:
        log.warning("%s: dropped %d unreadable line(s) (an interrupted write); they will be redone", path, bad)
        _rewrite(path, kept)
    elif raw and not raw.endswith(b"\n"):
        _rewrite(path, kept)  # complete JSON but no newline: terminate the line before appending
    return records


def _rewrite(path: Path, lines: list[str]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    os.replace(tmp, path)


def append_records(path: Path, records: list[SampleRecord]) -> None:
    """Append ``records`` as JSON lines and flush them to the OS, one ``write`` call for the batch."""
    text = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()


def check_run_settings(folder: Path, settings: dict[str, Any]) -> None:
    """Write ``run.json`` on the first run; on a rerun, refuse settings that differ in :data:`IDENTITY_KEYS` or
    :data:`OPTIONAL_IDENTITY_KEYS`."""
    run_file = folder / RUN_FILE
    if run_file.is_file():
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            previous = {}
        for key in IDENTITY_KEYS:
            if key in previous and previous[key] != settings[key]:
                raise ValueError(
                    f"{folder} holds samples made with {key}={previous[key]!r}: expected the same {key} to resume, "
                    f"got {settings[key]!r} (write to another output folder for new settings)"
                )
        for key in OPTIONAL_IDENTITY_KEYS:
            if previous and previous.get(key) != settings.get(key):
                raise ValueError(
                    f"{folder} holds samples made with {key}={previous.get(key)!r}: expected the same {key} to "
                    f"resume, got {settings.get(key)!r} (write to another output folder for new settings)"
                )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = run_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, run_file)
