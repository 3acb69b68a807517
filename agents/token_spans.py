"""Token -> character spans: where each response token's text lies in the decoded response.

Token character spans come from per-token byte pieces (byte-level BPE, sentencepiece ``▁`` with ``<0xNN>`` byte
fallback), checked against the decoded text; rows where that check fails are mapped exactly through prefix
decodes instead (slower, but rare). :meth:`hicra.agents.planning.StrategicGrams.token_mask` uses them to mark the
tokens that overlap a Strategic Gram.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def _byte_level_decoder() -> dict[str, int]:
    """The byte-level BPE alphabet (GPT-2, Qwen, SmolLM2): printable bytes stand for themselves, the
    others for the characters from U+0100 on, in byte order."""
    printable = {*range(33, 127), *range(161, 173), *range(174, 256)}
    others = [b for b in range(256) if b not in printable]
    table = {chr(b): b for b in printable}
    table.update({chr(256 + i): b for i, b in enumerate(others)})
    return table


class PieceTable:
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
    tokenizer: Any, flat_ids: list[int], lengths: np.ndarray, texts: Sequence[str], table: PieceTable
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
