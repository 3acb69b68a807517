"""Suite defaults follow the field; names, overrides and data files fail with errors that name the fix."""

from __future__ import annotations

import re

import pytest

from hicra.benchmarks import SUITES, get_suites
from hicra.benchmarks.suites import Suite, override


def test_suite_defaults_follow_the_field():
    expected = {
        "aime24": ("hicra/AIME24-v0", 32),
        "aime25": ("hicra/AIME25-v0", 32),
        "amc23": ("hicra/AMC23-v0", 4),
        "math500": ("hicra/MATH500-v0", 4),
        "gsm8k": ("hicra/GSM8K-v0", 1),
    }
    assert {name: (s.env_id, s.n) for name, s in SUITES.items()} == expected
    for suite in SUITES.values():
        assert (suite.temperature, suite.top_p, suite.template, suite.max_new_tokens) == (0.6, 0.95, "boxed-v1", 4096)


def test_every_suite_env_id_is_registered_with_its_template():
    import gymnasium

    import hicra_env  # noqa: F401
    from hicra_env.templates import get_template

    for suite in SUITES.values():
        assert suite.env_id in gymnasium.registry, suite.env_id
        assert "\\boxed{}" in get_template(suite.template).format("Q")


def test_default_ks_are_one_powers_of_two_and_n():
    assert SUITES["aime24"].default_ks() == [1, 2, 4, 8, 16, 32]
    assert SUITES["math500"].default_ks() == [1, 2, 4]
    assert SUITES["gsm8k"].default_ks() == [1]
    assert Suite("x", "hicra/X-v0", n=6).default_ks() == [1, 2, 4, 6]


def test_get_suites_keeps_order_and_drops_duplicates():
    assert [s.name for s in get_suites(["math500", "aime24", "math500"])] == ["math500", "aime24"]


def test_get_suites_names_the_known_suites():
    with pytest.raises(KeyError, match=re.escape("unknown suite 'aime_24'; expected one of: aime24, aime25")):
        get_suites(["math500", "aime_24"])


def test_override_replaces_given_fields_and_rejects_bad_values():
    suite = override(SUITES["aime24"], n=4, temperature=0.0, top_p=None, max_new_tokens=64)
    assert (suite.n, suite.temperature, suite.top_p, suite.max_new_tokens) == (4, 0.0, 0.95, 64)
    with pytest.raises(ValueError, match=r"^top_p: expected a number in \(0, 1\], got 1.5"):
        override(SUITES["aime24"], top_p=1.5)
    with pytest.raises(ValueError, match=r"^temperature: expected a number in \[0, 100\], got -1"):
        override(SUITES["aime24"], temperature=-1.0)


def test_data_path_finds_the_suite_file_or_says_what_is_missing(tmp_path):
    (tmp_path / "math500.jsonl").write_text("")
    assert SUITES["math500"].data_path(tmp_path) == tmp_path / "math500.jsonl"
    assert SUITES["math500"].data_path(None) is None
    with pytest.raises(FileNotFoundError, match=r"expected '.*aime24\.jsonl', which does not exist \(found: math500"):
        SUITES["aime24"].data_path(tmp_path)
    with pytest.raises(NotADirectoryError, match=r"expected a folder of <suite>\.jsonl files"):
        SUITES["aime24"].data_path(tmp_path / "nope")


def test_suite_validates_its_fields():
    with pytest.raises(ValueError, match="n: expected an integer >= 1, got 0"):
        Suite("x", "hicra/X-v0", n=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        Suite("x", "hicra/X-v0", n=1, max_new_tokens=0)
