"""Where built and converted models live (``$HICRA_CACHE`` or ``~/.cache/hicra``), written atomically."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def cache_root() -> Path:
    """``$HICRA_CACHE`` when set, else ``~/.cache/hicra``."""
    override = os.environ.get("HICRA_CACHE")
    return Path(override).expanduser() if override else Path.home() / ".cache" / "hicra"


def cached_dir(name: str, build: Callable[[Path], None]) -> Path:
    """``cache_root() / name``, calling ``build(tmp_dir)`` first if it does not exist yet.

    ``build`` writes into a fresh temporary directory beside the target, which is then renamed into place, so a
    killed build never leaves a half-written model and concurrent builders never see one.
    """
    target = cache_root() / name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=target.parent))
    try:
        build(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # not a lost race: a real error
                raise
            logger.info("another process built %s first; using it", target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
