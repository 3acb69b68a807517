"""Load a Strategic Gram lexicon for a run and fingerprint it: the run records the path and the sha256.

``load_lexicon(path)`` reads the file once, hashes the bytes it read and builds the
:class:`~hicra.agents.planning.StrategicGrams` from them, with the same rules as ``StrategicGrams(path)``: a
``.json`` file is a JSON list of strings, any other file one gram a line (blank lines skipped). Every way the file
can fail to load is a ``FileNotFoundError`` or ``ValueError`` naming the file, so a run can check its lexicon before
training starts.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

from .planning import StrategicGrams

__all__ = ["load_lexicon"]


def _grams_of(path: Path, data: bytes) -> list:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"grams file {path}: expected UTF-8 text, got an undecodable byte at {err.start}") from None
    if path.suffix.lower() != ".json":
        return [line for line in text.splitlines() if line.strip()]
    try:
        grams = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"grams file {path}: expected a JSON list of strings, got invalid JSON ({err.msg} at line {err.lineno})"
        ) from None
    if not isinstance(grams, list):
        raise ValueError(f"grams file {path}: expected a JSON list of strings, got {type(grams).__name__}")
    return grams


def load_lexicon(path: str | os.PathLike[str] | None) -> tuple[StrategicGrams, str]:
    """The lexicon at ``path`` (None: the paper's 249 grams shipped with hicra) and the sha256 hex of its bytes."""
    if path is None:
        data = resources.files(__package__).joinpath("data/strategic_grams.json").read_bytes()
        return StrategicGrams(), hashlib.sha256(data).hexdigest()
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"grams: expected a lexicon file (a JSON list, or one gram a line), got {str(path)!r}, which "
            f"{'is a folder' if file.is_dir() else 'does not exist'}"
        )
    data = file.read_bytes()
    grams = _grams_of(file, data)
    try:
        lexicon = StrategicGrams(grams)
    except (TypeError, ValueError) as err:
        raise ValueError(f"grams file {file}: {err}") from None
    return lexicon, hashlib.sha256(data).hexdigest()


def check_recorded_lexicon(run_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None) -> None:
    """Refuse to resume a run whose lexicon file changed since it started: ``run_dir/lexicon.json`` records the
    sha256 of the lexicon the run used (nothing to check without it, or when the run was given grams in code)."""
    recorded = Path(run_dir) / "lexicon.json"
    if not recorded.is_file():
        return
    want = json.loads(recorded.read_text(encoding="utf-8")).get("sha256")
    if want is None:
        return
    _, have = load_lexicon(path)
    if have != want:
        raise ValueError(
            f"resume: expected the lexicon {str(path) if path else 'shipped with hicra'} with sha256 {want[:12]}..., "
            f"as when the run started, got {have[:12]}...; restore that file or start a new run"
        )
