"""Planning-token masks: Strategic Grams matched on decoded responses, and the paper's ablation masks.

A token is a *planning token* when its characters in the decoded response overlap a Strategic Gram
(DESIGN.md). Matching is done on the text that ``tokenizer.decode(ids[mask], skip_special_tokens=True)``
returns, lower-cased, with curly apostrophes made straight, and on word boundaries (``so`` does not hit
``also``). Token character spans come from per-token byte pieces (byte-level BPE, sentencepiece ``▁`` with
``<0xNN>`` byte fallback), checked against the decoded text; rows where that check fails are mapped exactly
through prefix decodes instead (slower, but rare).
"""

from __future__ import annotations

import json
import logging
import math
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

__all__ = ["GramMatch", "StrategicGrams", "placebo_mask", "planning_ratio", "top_entropy_mask"]

logger = logging.getLogger(__name__)

_SEPARATOR = "\x00"  # joins a batch's texts; no gram contains it and it is not a word character


@dataclass(frozen=True)
class GramMatch:
    """One Strategic Gram occurrence: ``text[start:end]`` (normalised) equals ``gram``."""

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
            parts.append(re.escape(segment) + emit(child, segment[-1]))
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


# ---- token -> character spans -------------------------------------------------------------------------

_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def _byte_level_decoder() -> dict[str, int]:
    """The byte-level BPE alphabet (GPT-2, Qwen, SmolLM2): printable bytes stand for themselves, the
    others for the characters from U+0100 on, in byte order."""
    printable = {*range(33, 127), *range(161, 173), *range(174, 256)}
    others = [b for b in range(256) if b not in printable]
    table = {chr(b): b for b in printable}
    table.update({chr(256 + i): b for i, b in enumerate(others)})
    return table


class _PieceTable:
    """Per tokenizer: token id -> the bytes it adds to the decoded text (None when unknown)."""

    def __init__(self, tokenizer: Any) -> None:
        decoder = getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder", None)
        state = decoder.__getstate__() if decoder is not None else b""
        state = state.decode("utf-8", "replace") if isinstance(state, bytes) else str(state)
        self.kind = "byte_level" if '"ByteLevel"' in state else "metaspace" if "▁" in state else "raw"
        if decoder is None:
            self.kind = "unknown"  # e.g. a bare `tokenizers` BPE: decode joins tokens with spaces
        self.byte_decoder = _byte_level_decoder()
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        self.special = set(getattr(tokenizer, "all_special_ids", [])) | {
            i for i, tok in added.items() if getattr(tok, "special", False)
        }
        self.table: dict[int, bytes | None] = {}

    def _piece(self, token_id: int, token: str | None) -> bytes | None:
        if token_id in self.special:
            return b""
        if token is None or self.kind == "unknown":
            return None
        if self.kind == "byte_level":
            try:
                return bytes(self.byte_decoder[c] for c in token)
            except KeyError:
                return None
        if self.kind == "metaspace":
            byte = _BYTE_TOKEN.fullmatch(token)
            return bytes([int(byte.group(1), 16)]) if byte else token.replace("▁", " ").encode("utf-8")
        return token.encode("utf-8")

    def pieces(self, tokenizer: Any, ids: list[int]) -> list[bytes | None]:
        missing = [i for i in set(ids) if i not in self.table]
        if missing:
            for i, token in zip(missing, tokenizer.convert_ids_to_tokens(missing)):
                self.table[i] = self._piece(i, token)
        return [self.table[i] for i in ids]


def _row_shift(decoded: str, text: str) -> int | None:
    """0 when the pieces decode to ``text``, 1 when ``text`` is that minus its first space (sentencepiece
    decoders strip it), None otherwise."""
    if decoded == text:
        return 0
    return 1 if decoded.startswith(" ") and decoded[1:] == text else None


def _spans_by_prefix_decoding(
    tokenizer: Any, ids: list[int], text: str, special: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Exact but slower mapping: token k ends where decode(ids[:k+1]) stops agreeing with ``text``. A
    token that only adds a partial UTF-8 character (its decode ends in U+FFFD) is given that character."""
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    decoded = tokenizer.batch_decode([ids[: k + 1] for k in range(len(ids))], skip_special_tokens=True)
    common = [len(os.path.commonprefix([d, text])) for d in decoded]  # noqa: RUF071 (char by char is meant)
    ends = np.maximum.accumulate(common)
    starts = np.concatenate([[0], ends[:-1]])
    partial = np.array([d.endswith("\ufffd") for d in decoded])
    pending = (ends == starts) & partial & ~np.isin(ids, list(special))
    return starts, np.where(pending, np.minimum(starts + 1, len(text)), ends)


def _char_index(blob: bytes, decoded: str) -> np.ndarray:
    """chars_before[b] = number of characters that start before byte b of valid UTF-8 ``blob`` (len + 1)."""
    if len(decoded) == len(blob):  # ASCII: bytes are characters
        return np.arange(len(blob) + 1)
    is_start = (np.frombuffer(blob, dtype=np.uint8) & 0xC0) != 0x80
    return np.concatenate([[0], np.cumsum(is_start)])


def _check_rows(
    pieces: list[bytes | None], bounds: np.ndarray, texts: Sequence[str]
) -> tuple[list[bytes], np.ndarray, list[int]]:
    """Per row: its bytes, its leading-space shift (see :func:`_row_shift`), and the rows whose pieces do
    not decode to their text; those rows' pieces are blanked in place (mapped later by prefix decoding)."""
    row_bytes, shifts, failed = [], np.zeros(len(texts), np.int64), []
    for r, text in enumerate(texts):
        row = pieces[bounds[r] : bounds[r + 1]]
        blob = b"".join(row) if None not in row else None  # type: ignore[arg-type]
        try:
            shift = None if blob is None else _row_shift(blob.decode("utf-8"), text)
        except UnicodeDecodeError:
            shift = None
        if shift is None:
            failed.append(r)
            pieces[bounds[r] : bounds[r + 1]] = [b""] * int(bounds[r + 1] - bounds[r])
        row_bytes.append(blob if blob is not None and shift is not None else b"")
        shifts[r] = shift or 0
    return row_bytes, shifts, failed


def token_char_spans(
    tokenizer: Any, flat_ids: list[int], lengths: np.ndarray, texts: Sequence[str], table: _PieceTable
) -> tuple[np.ndarray, np.ndarray]:
    """Character spans ``[start, end)`` of every token in ``"\\x00".join(texts)``.

    ``flat_ids`` holds the rows' kept tokens one row after another, ``lengths[r]`` tokens for row r. A token
    owns every character that one of its bytes belongs to; a token with no byte gets an empty span.
    """
    pieces = table.pieces(tokenizer, flat_ids)
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    row_bytes, shifts, failed = _check_rows(pieces, bounds, texts)
    sizes = np.array(list(map(len, pieces)), dtype=np.int64)  # type: ignore[arg-type]
    rows = np.repeat(np.arange(len(texts)), lengths)
    byte_ends = np.cumsum(sizes) + rows  # one separator byte after every row
    byte_starts = byte_ends - sizes
    blob = b"\x00".join(row_bytes)
    chars_before = _char_index(blob, blob.decode("utf-8"))
    last = np.maximum(byte_ends - 1, 0)
    starts = np.where(sizes > 0, chars_before[np.minimum(byte_starts + 1, len(blob))] - 1, chars_before[byte_starts])
    ends = np.where(sizes > 0, chars_before[np.minimum(last + 1, len(blob))], starts)
    # decoded-row coordinates -> text coordinates (rows whose first space the decoder strips move left)
    dec_offsets = np.concatenate([[0], np.cumsum([len(b.decode("utf-8")) + 1 for b in row_bytes])])
    text_offsets = np.concatenate([[0], np.cumsum([len(t) + 1 for t in texts])])
    move = text_offsets[rows] - dec_offsets[rows] - shifts[rows]
    starts, ends = np.maximum(starts + move, text_offsets[rows]), np.maximum(ends + move, text_offsets[rows])
    for r in failed:
        logger.debug("token spans: row %d does not decode piece by piece; mapping it by prefix decoding", r)
        ids = flat_ids[bounds[r] : bounds[r + 1]]
        row_starts, row_ends = _spans_by_prefix_decoding(tokenizer, ids, texts[r], table.special)
        starts[bounds[r] : bounds[r + 1]] = row_starts + text_offsets[r]
        ends[bounds[r] : bounds[r + 1]] = row_ends + text_offsets[r]
    return starts, ends


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
            cleaned.append(normalize_text(gram.strip()))
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
                matches.append(GramMatch(start, end, normalized[start:end]))
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

    def _piece_table(self, tokenizer: Any) -> _PieceTable:
        try:
            table = self._tokenizer_cache.get(tokenizer)
            if table is None:
                table = self._tokenizer_cache[tokenizer] = _PieceTable(tokenizer)
        except TypeError:  # not weak-referenceable or not hashable: no cache
            table = _PieceTable(tokenizer)
        return table


def planning_ratio(planning_mask: Tensor, response_mask: Tensor) -> float:
    """Share of response tokens that are planning tokens (Bool[N, T] each); 0.0 with no response token."""
    if planning_mask.shape != response_mask.shape:
        raise ValueError(
            f"expected masks of one shape, got {list(planning_mask.shape)} and {list(response_mask.shape)}"
        )
    total = int(response_mask.sum())
    return int((planning_mask.bool() & response_mask.bool()).sum()) / total if total else 0.0


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True along the last axis of a Bool[N, T] array."""
    padded = np.pad(mask.astype(np.int8), ((0, 0), (1, 1)))
    diff = np.diff(padded, axis=1)
    return np.flatnonzero(diff.ravel() == -1) - np.flatnonzero(diff.ravel() == 1)


def placebo_mask(planning_mask: Tensor, response_mask: Tensor, *, generator: torch.Generator) -> Tensor:
    """The paper's placebo ablation: random contiguous n-gram spans with the same planning-token count.

    Span lengths are drawn from the run lengths of ``planning_mask``; spans start at uniformly random
    response tokens and stop at the end of a response. Spans are added until the batch holds exactly as
    many placebo tokens as ``planning_mask`` has on response tokens (the last span is cut to fit).

    Args:
        planning_mask: Bool[N, T] real planning tokens; response_mask: Bool[N, T].
        generator: a CPU ``torch.Generator``; the result is a deterministic function of its state.

    Returns:
        Bool[N, T] on ``planning_mask.device``, True only on response tokens.
    """
    if planning_mask.shape != response_mask.shape or planning_mask.dim() != 2:
        raise ValueError(
            f"expected planning_mask and response_mask of one [N, T] shape, got "
            f"{list(planning_mask.shape)} and {list(response_mask.shape)}"
        )
    resp = response_mask.bool().cpu().numpy()
    real = planning_mask.bool().cpu().numpy() & resp
    target, lengths = int(real.sum()), _run_lengths(real)
    slots = np.flatnonzero(resp.ravel())  # flat positions of response tokens
    # a span may not cross a row end or a gap in the mask: slot_stop[i] = first slot after i's segment
    breaks = np.flatnonzero(np.diff(slots) != 1) + 1
    seg_ends = np.append(breaks, len(slots))
    slot_stop = np.repeat(seg_ends, np.diff(np.concatenate([[0], seg_ends])))
    chosen = np.zeros(len(slots), dtype=bool)
    filled = 0
    while filled < target:
        draws = torch.rand(512, generator=generator, dtype=torch.float64).tolist()
        for u_start, u_len in zip(draws[::2], draws[1::2]):
            start = int(u_start * len(slots))
            stop = min(start + int(lengths[int(u_len * len(lengths))]), int(slot_stop[start]))
            free = np.flatnonzero(~chosen[start:stop])[: target - filled] + start
            chosen[free] = True
            filled += len(free)
            if filled == target:
                break
    out = np.zeros(resp.size, dtype=bool)
    out[slots[chosen]] = True
    return torch.from_numpy(out.reshape(resp.shape)).to(planning_mask.device)


def top_entropy_mask(entropy: Tensor, response_mask: Tensor, rho: float) -> Tensor:
    """The ``high_entropy`` ablation: the top-``rho`` share of response tokens by entropy, over the batch.

    Args:
        entropy: Float[N, T] token entropies; response_mask: Bool[N, T]; rho: share in (0, 1].

    Returns:
        Bool[N, T]: the ``ceil(rho * M)`` highest-entropy response tokens (M = response tokens in the
        batch; ties broken by ``torch.topk``).
    """
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho <= 1:
        raise ValueError(f"rho: expected a share in (0, 1], got {rho!r}")
    if entropy.shape != response_mask.shape or entropy.dim() != 2:
        raise ValueError(
            f"expected entropy and response_mask of one [N, T] shape, got {list(entropy.shape)} "
            f"and {list(response_mask.shape)}"
        )
    mask = response_mask.bool()
    k = math.ceil(round(rho * int(mask.sum()), 9))
    out = torch.zeros(mask.numel(), dtype=torch.bool, device=mask.device)
    if k:
        scores = torch.where(mask, entropy.detach().float(), float("-inf")).flatten()
        out[torch.topk(scores, k).indices] = True
    return out.view(mask.shape) & mask
