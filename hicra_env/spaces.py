"""`UnicodeText`: a Gymnasium text space that admits any Unicode string and works in shared memory.

Design. Gymnasium's :class:`gymnasium.spaces.Text` validates against a finite charset, but a language model may
answer with any Unicode character (``π``, ``√``, CJK, emoji). :class:`UnicodeText` subclasses ``Text`` so all of
Gymnasium's vector utilities (``batch_space``, ``concatenate``, ``iterate``...) keep working, but:

* ``contains(x)`` accepts every ``str`` whose length lies in ``[min_length, max_length]``; the charset is used
  only to *sample* (``sample_charset``, a wide printable set with some maths symbols).
* ``sample()`` draws at most ``sample_max_length`` characters (default 64) so that random actions stay cheap to
  verify even when ``max_length`` is huge.
* Shared memory (``AsyncVectorEnv(shared_memory=True)``, Gymnasium's default) stores each string as UTF-8 bytes
  with a length prefix, and reading gives a live view (:class:`SharedTextBatch`). Gymnasium's own ``Text``
  handler decodes the buffer once, when the vector env is built, so every later observation is stale
  (``'000...'``). Importing this module registers the ``UnicodeText`` handlers through Gymnasium's
  ``singledispatch`` extension points, so Async vector envs return the real prompts.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from ctypes import c_uint8
from types import ModuleType
from typing import Any

import numpy as np
from gymnasium.spaces import Text
from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n" + "πθ√±×÷≤≥∞°αβ½é中"
"""Characters that :meth:`UnicodeText.sample` draws from (membership is NOT limited to these)."""

_LENGTH_BYTES = 4  # uint32 little-endian byte count before each string in shared memory


class UnicodeText(Text):
    """Any Unicode string of ``min_length`` to ``max_length`` characters.

    Args:
        max_length: Longest admitted string, in characters.
        min_length: Shortest admitted string (default 0: the empty response is a valid action).
        sample_max_length: Longest string that :meth:`sample` draws.
        charset: Characters that :meth:`sample` draws from.
        seed: Seed of the space's sampler.
    """

    def __init__(
        self,
        max_length: int,
        *,
        min_length: int = 0,
        sample_max_length: int = 64,
        charset: str = SAMPLE_CHARSET,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(max_length, min_length=min_length, charset=charset, seed=seed)
        if sample_max_length < min_length:
            raise ValueError(f"sample_max_length must be >= min_length={min_length}, got {sample_max_length}")
        self.sample_max_length = min(sample_max_length, max_length)

    def contains(self, x: Any) -> bool:
        """True for every ``str`` of admitted length, whatever its characters."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string from the sample charset, at most ``sample_max_length`` characters long."""
        if mask is None and probability is None:
            length = int(self.np_random.integers(self.min_length, self.sample_max_length + 1))
            mask = (length, None)
        return super().sample(mask=mask, probability=probability)

    @property
    def max_bytes(self) -> int:
        """Shared-memory bytes per string: 4 UTF-8 bytes per character at most, plus the length prefix."""
        return _LENGTH_BYTES + 4 * self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))


@create_shared_memory.register(UnicodeText)
def _create_unicode_shared_memory(space: UnicodeText, n: int = 1, ctx: ModuleType | Any = None) -> Any:
    import multiprocessing as mp

    ctx = mp if ctx is None else ctx
    return ctx.Array(c_uint8, n * space.max_bytes)


class SharedTextBatch(Sequence[str]):
    """A live, read-only view of ``n`` strings in shared memory; each access decodes the current bytes.

    ``AsyncVectorEnv`` reads its shared observation buffer once, at construction, and expects a *view* that
    later writes show through (numpy arrays for ``Box``). Python strings are immutable, which is why Gymnasium's
    ``Text`` handler returns stale text. This view decodes on access instead. ``copy.deepcopy`` (what
    ``AsyncVectorEnv(copy=True)``, the default, applies to every returned batch) snapshots it into a plain
    ``tuple`` of ``str``; with ``copy=False`` call ``tuple(batch)`` to snapshot.
    """

    def __init__(self, space: UnicodeText, shared_memory: Any, n: int) -> None:
        self._space, self._memory, self._n = space, shared_memory, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._n)))
        if not -self._n <= index < self._n:
            raise IndexError(f"index {index} out of range for {self._n} texts")
        size = self._space.max_bytes
        start = (index % self._n) * size
        row = np.frombuffer(self._memory.get_obj(), dtype=np.uint8)[start : start + size]
        length = int.from_bytes(row[:_LENGTH_BYTES].tobytes(), "little")
        return row[_LENGTH_BYTES : _LENGTH_BYTES + length].tobytes().decode("utf-8")

    def __deepcopy__(self, memo: dict) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SharedTextBatch({tuple(self)!r})"


@read_from_shared_memory.register(UnicodeText)
def _read_unicode_from_shared_memory(space: UnicodeText, shared_memory: Any, n: int = 1) -> SharedTextBatch:
    return SharedTextBatch(space, shared_memory, n)


@write_to_shared_memory.register(UnicodeText)
def _write_unicode_to_shared_memory(space: UnicodeText, index: int, value: str, shared_memory: Any) -> None:
    data = value.encode("utf-8")
    if len(data) > space.max_bytes - _LENGTH_BYTES:
        raise ValueError(f"text of {len(value)} characters does not fit {space!r}: raise its max_length")
    row = np.frombuffer(shared_memory.get_obj(), dtype=np.uint8)[
        index * space.max_bytes : (index + 1) * space.max_bytes
    ]
    row[:_LENGTH_BYTES] = np.frombuffer(len(data).to_bytes(_LENGTH_BYTES, "little"), dtype=np.uint8)
    row[_LENGTH_BYTES : _LENGTH_BYTES + len(data)] = np.frombuffer(data, dtype=np.uint8)
