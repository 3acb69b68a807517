"""Planning tokens: Strategic Grams matched on decoded responses, and the planning-token mask.

A token is a *planning token* when its characters in the decoded response overlap a Strategic Gram
(DESIGN.md). Matching is done on the text that ``tokenizer.decode(ids[mask], skip_special_tokens=True)``
returns, lower-cased, with curly apostrophes made straight, and on word boundaries (``so`` does not hit
``also``); a space in a multi-word gram matches any run of whitespace (``let me\nthink``). Tokens are mapped to
character spans by :mod:`hicra.agents.token_spans`. The ablations' masks live beside their agents
(:mod:`~hicra.agents.hicra_placebo`, :mod:`~hicra.agents.high_entropy`).
"""

from __future__ import annotations

import json
import os
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .token_spans import PieceTable, token_char_spans

__all__ = ["GramMatch", "StrategicGrams", "planning_ratio"]

_SEPARATOR = "\x00"  # joins a batch's texts; no gram contains it and it is not a word character


@dataclass(frozen=True)
class GramMatch:
    """One Strategic Gram occurrence: ``text[start:end]``, normalised and with whitespace runs made one space,
    equals ``gram`` (so ``"let me\n think"`` is an occurrence of ``"let me think"``)."""

    start: int
    end: int
    gram: str


def normalize_text(text: str) -> str:
    """Lower-case and straighten curly apostrophes, keeping every character at its index."""
    straight = text.replace("’", "'").replace("‘", "'")
    lowered = straight.lower()
    if len(lowered) != len(text):  # e.g. "İ".lower() has two characters: lower-case char by char
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in straight)
    return lowered


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _literal(segment: str) -> str:
    """A regex for ``segment`` in which each space matches any run of whitespace."""
    return r"\s+".join(re.escape(part) for part in segment.split(" "))


def canonical_gram(text: str) -> str:
    """A gram as it is binned and reported: normalised, whitespace runs made one space."""
    return " ".join(normalize_text(text).split())


def _trie_pattern(grams: Sequence[str]) -> str:
    """One regex alternation of all grams, factored as a trie, that prefers the longest gram at a position.

    Each gram gets a word boundary at an end only where that end is a word character (so ``hmm,`` and
    ``## step`` still match next to punctuation).
    """
    trie: dict[str, Any] = {}
    for gram in grams:
        node = trie
        for ch in gram:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any], last: str) -> str:
        parts = []
        for ch in sorted(k for k in node if k):
            segment, child = ch, node[ch]
            while len(child) == 1 and "" not in child:  # compress single-child chains
                ((nxt, child),) = child.items()
                segment += nxt
            parts.append(_literal(segment) + emit(child, segment[-1]))
        if "" in node:  # the gram ends here: tried after every longer continuation
            parts.append(r"(?!\w)" if _is_word(last) else "")
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    # Each alternative starts with its literal first character, so `re` scans fast for candidate
    # characters; the boundary before a word character is checked just after it, as (?<!\w.).
    firsts = [re.escape(ch) + (r"(?<!\w.)" if _is_word(ch) else "") + emit(trie[ch], ch) for ch in sorted(trie)]
    return "|".join(firsts)


def _load_lexicon(source: str | os.PathLike[str]) -> list[str]:
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"grams: expected an iterable of strings or a path to a JSON list / text file (one gram per line), "
            f"but there is no file at {str(source)!r}; to use a single gram pass [{str(source)!r}]"
        )
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, list):
            raise ValueError(f"grams file {path}: expected a JSON list of strings, got {type(data).__name__}")
        return data
    return [line for line in text.splitlines() if line.strip()]


def _default_lexicon() -> list[str]:
    return json.loads(resources.files(__package__).joinpath("data/strategic_grams.json").read_text("utf-8"))


class StrategicGrams:
    """A Strategic Gram lexicon, compiled once, that finds grams in text and marks planning tokens.

    Args:
        grams: the lexicon: ``None`` for the paper's 249 grams (package data ``data/strategic_grams.json``),
            an iterable of strings, or a path to a JSON list / a text file with one gram per line.
    """

    def __init__(self, grams: Iterable[str] | str | os.PathLike[str] | None = None) -> None:
        if grams is None:
            raw = _default_lexicon()
        elif isinstance(grams, (str, os.PathLike)):
            raw = _load_lexicon(grams)
        else:
            raw = list(grams)
        cleaned = []
        for i, gram in enumerate(raw):
            if not isinstance(gram, str):
                raise TypeError(f"grams[{i}]: expected a string, got {type(gram).__name__} {gram!r}")
            if not gram.strip():
                raise ValueError(f"grams[{i}]: expected a non-empty gram, got {gram!r}")
            cleaned.append(canonical_gram(gram))
        if not cleaned:
            raise ValueError("grams: expected at least one gram, got an empty lexicon")
        self.grams: tuple[str, ...] = tuple(sorted(set(cleaned), key=lambda g: (-len(g), g)))
        self._pattern = re.compile(_trie_pattern(self.grams))
        self._tokenizer_cache: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        return len(self.grams)

    def __repr__(self) -> str:
        return f"StrategicGrams({len(self.grams)} grams)"

    def find(self, text: str) -> list[GramMatch]:
        """Gram occurrences in ``text``, left to right: at each position the longest gram starting there,
        leaving out a gram nested inside an earlier match ("wait" in "but wait"); a gram that starts inside
        an earlier match but ends after it is kept. Offsets index ``text``."""
        normalized = normalize_text(text)
        matches: list[GramMatch] = []
        pos = reach = 0
        while (m := self._pattern.search(normalized, pos)) is not None:
            start, end = m.span()
            if end > reach:
                matches.append(GramMatch(start, end, canonical_gram(normalized[start:end])))
                reach = end
            pos = start + 1
        return matches

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans ``[start, end)`` covered by grams, overlapping matches merged, sorted."""
        merged: list[tuple[int, int]] = []
        for m in self.find(text):
            if merged and m.start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], m.end))
            else:
                merged.append((m.start, m.end))
        return merged

    def token_mask(
        self,
        tokenizer: Any,
        response_ids: Tensor,
        response_mask: Tensor,
        *,
        texts: Sequence[str] | None = None,
    ) -> Tensor:
        """Planning tokens of a batch of responses.

        Args:
            tokenizer: a Hugging Face tokenizer (fast tokenizers take the fast path).
            response_ids: Long[N, T] response token ids.
            response_mask: Bool[N, T], True on generated tokens (special tokens such as EOS are skipped).
            texts: optional decoded responses, exactly ``tokenizer.decode(ids[mask], skip_special_tokens=True)``
                per row (e.g. ``Generation.texts``), to save decoding them again.

        Returns:
            Bool[N, T] on ``response_ids.device``: True where a token's characters overlap a gram.
        """
        if response_ids.dim() != 2 or response_ids.shape != response_mask.shape:
            raise ValueError(
                f"response_ids and response_mask: expected the same [N, T] shape, got "
                f"{list(response_ids.shape)} and {list(response_mask.shape)}"
            )
        if response_mask.dtype != torch.bool:
            raise TypeError(f"response_mask: expected dtype torch.bool, got {response_mask.dtype}; pass .bool()")
        ids = response_ids.detach().cpu().numpy()
        mask = response_mask.detach().cpu().numpy()
        positions = np.flatnonzero(mask.ravel())  # kept tokens, row after row
        lengths = mask.sum(axis=1)
        flat_ids = ids.ravel()[positions].tolist()
        if texts is None:
            bounds = np.concatenate([[0], np.cumsum(lengths)])
            rows = [flat_ids[bounds[r] : bounds[r + 1]] for r in range(len(lengths))]
            texts = tokenizer.batch_decode(rows, skip_special_tokens=True) if rows else []
        elif len(texts) != len(lengths):
            raise ValueError(f"texts: expected {len(lengths)} decoded responses (one per row), got {len(texts)}")
        if not flat_ids:
            return torch.zeros(response_ids.shape, dtype=torch.bool, device=response_ids.device)
        starts, ends = token_char_spans(tokenizer, flat_ids, lengths, texts, self._piece_table(tokenizer))
        gram_spans = np.asarray(self.spans(_SEPARATOR.join(texts)), dtype=np.int64).reshape(-1, 2)
        idx = np.searchsorted(gram_spans[:, 1], starts, side="right")  # first gram span ending after start
        hit = (idx < len(gram_spans)) & (ends > starts)
        hit[hit] = gram_spans[idx[hit], 0] < ends[hit]
        out = np.zeros(ids.size, dtype=bool)
        out[positions] = hit
        return torch.from_numpy(out.reshape(ids.shape)).to(response_ids.device)

    def _piece_table(self, tokenizer: Any) -> PieceTable:
        try:
            table = self._tokenizer_cache.get(tokenizer)
            if table is None:
                table = self._tokenizer_cache[tokenizer] = PieceTable(tokenizer)
        except TypeError:  # not weak-referenceable or not hashable: no cache
            table = PieceTable(tokenizer)
        return table


def planning_ratio(planning_mask: Tensor, response_mask: Tensor) -> float:
    """Share of response tokens that are planning tokens (Bool[N, T] each); 0.0 with no response token."""
    if planning_mask.shape != response_mask.shape:
        raise ValueError(
            f"expected masks of one shape, got {list(planning_mask.shape)} and {list(response_mask.shape)}"
        )
    total = int(response_mask.sum())
    return int((planning_mask.bool() & response_mask.bool()).sum()) / total if total else 0.0
