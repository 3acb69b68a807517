"""UnicodeText: membership for any Unicode string, cheap samples, byte-exact shared memory."""

from __future__ import annotations

import copy
import multiprocessing as mp

from gymnasium.vector.utils import create_shared_memory, read_from_shared_memory, write_to_shared_memory

from hicra_env.spaces import SharedTextBatch, UnicodeText


def test_contains_any_unicode_string_of_admitted_length():
    space = UnicodeText(8)
    for text in ("", "π ≤ √2", "中文", "🙂\n\t", "\\boxed{}"):
        assert space.contains(text)
    assert not space.contains("x" * 9)
    assert not space.contains(3) and not space.contains(b"abc")
    assert not UnicodeText(8, min_length=1).contains("")


def test_samples_are_short_members_and_seeded():
    space = UnicodeText(10_000, seed=0)
    samples = [space.sample() for _ in range(50)]
    assert all(space.contains(s) and len(s) <= 64 for s in samples)
    assert samples == [UnicodeText(10_000, seed=0).sample() for _ in range(1)] + samples[1:]
    assert len(set(samples)) > 40


def test_shared_memory_round_trips_utf8_and_stays_live():
    space = UnicodeText(16)
    memory = create_shared_memory(space, n=2, ctx=mp)
    view = read_from_shared_memory(space, memory, n=2)
    assert isinstance(view, SharedTextBatch) and list(view) == ["", ""]
    write_to_shared_memory(space, 0, "π中🙂 = 3.14", memory)
    write_to_shared_memory(space, 1, "x" * 16, memory)
    assert view[0] == "π中🙂 = 3.14" and view[-1] == "x" * 16
    snapshot = copy.deepcopy(view)
    assert snapshot == ("π中🙂 = 3.14", "x" * 16) and type(snapshot) is tuple
    write_to_shared_memory(space, 0, "new", memory)
    assert view[0] == "new" and snapshot[0] == "π中🙂 = 3.14"


def test_equality_ignores_the_sample_charset():
    assert UnicodeText(5) == UnicodeText(5, charset="ab")
    assert UnicodeText(5) != UnicodeText(6)
