"""The tiny-v2 policy and the second miniature at token level: the deciding token is a planning token of every gram
strategy and of no gram-less one, the shipped build's hashes and recipe, the preset, and the undecided start."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

import hicra_env  # noqa: F401  (registers hicra/MiniatureV2-v0)
from hicra.agents import tiny
from hicra.agents.planning import StrategicGrams
from hicra.agents.presets import resolve_model
from hicra.agents.tiny import TINY_V2, TinyRecipe
from hicra.agents.tiny_probe import probe
from hicra_env.sources import STRATEGIES
from hicra_env.sources.procedural import FAMILIES
from hicra_env.tasks import MINIATURE_V2


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny.shipped_dir("tiny_v2"))


def _first_difference(a: list[int], b: list[int]) -> int:
    return next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)


@pytest.mark.parametrize("difficulty", [1, 2])
def test_the_deciding_token_is_inside_the_gram_of_every_gram_strategy(tokenizer, difficulty):
    """Tokenized as generation continues a prompt (the solution alone), the first token where the two strategies'
    worked solutions differ comes after the shared preamble; it is a planning token (StrategicGrams.token_mask)
    exactly when its strategy has grams; the preamble holds none and a gram-less solution has none at all."""
    grams, deciding = StrategicGrams(), Counter()
    for family in MINIATURE_V2:
        for seed in range(20):
            solutions = FAMILIES[family].strategy_solutions(difficulty, seed)
            ids = {n: tokenizer(s, add_special_tokens=False)["input_ids"] for n, s in solutions.items()}
            k = _first_difference(*ids.values())
            assert k >= 5, solutions  # "We have 14 and ..." first: token 0 decides nothing
            for name, row in ids.items():
                mask = grams.token_mask(tokenizer, torch.tensor([row]), torch.ones(1, len(row), dtype=torch.bool))[0]
                has_gram = bool(STRATEGIES[name].grams)
                assert bool(mask[k]) == has_gram, (name, tokenizer.convert_ids_to_tokens(row[k : k + 3]))
                assert not mask[:k].any()
                assert int(mask.sum()) == (int(mask[k:].long().cumprod(0).sum()) if has_gram else 0)  # one run
                deciding[name, tokenizer.decode(row[k])] += 1
    assert {name for name, _ in deciding} == {"apply", "backtrack", "remainder", "write_out", "subtract", "count_up"}


def test_shipped_v2_files_match_their_recorded_hashes():
    assert tiny.SHIPPED_V2_SHA256 and tiny.file_hashes(tiny.shipped_dir("tiny_v2")) == tiny.SHIPPED_V2_SHA256
    assert set(tiny.SHIPPED_V2_SHA256) >= {"model.safetensors", "config.json", "tokenizer.json", tiny.RECIPE_FILE}


def test_shipped_v2_build_is_the_tiny_v2_recipe():
    shipped = json.loads((tiny.shipped_dir("tiny_v2") / tiny.RECIPE_FILE).read_text())
    assert shipped == TINY_V2.to_dict() != TinyRecipe().to_dict()
    assert shipped["envs"] == [["hicra/MiniatureV2-v0", 3000]]


def test_tiny_v2_preset_loads_the_shipped_files_without_building(monkeypatch, tmp_path):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))
    monkeypatch.setattr(tiny, "build_tiny", lambda recipe, out: pytest.fail("built the tiny-v2 recipe"))
    assert resolve_model("tiny-v2") == str(tiny.shipped_dir("tiny_v2"))
    assert resolve_model("tiny") == str(tiny.shipped_dir())  # v1's preset is untouched
    assert list(tmp_path.iterdir()) == []


def test_warm_start_data_teaches_each_family_both_strategies():
    examples = tiny.worked_examples(TinyRecipe(envs=(("hicra/MiniatureV2-v0", 40),)))
    assert len(examples) == 80
    opened = Counter(
        (prompt.split(" ")[0], name) for prompt, s in examples for name in STRATEGIES if STRATEGIES[name].opener in s
    )
    expected = {("Start", "apply"), ("Start", "backtrack"), ("I", "backtrack"), ("I", "apply"),
                ("The", "remainder"), ("The", "write_out"), ("A", "subtract"), ("A", "count_up")}  # fmt: skip
    by_family = Counter(prompt.split(" ")[0] for prompt, _ in examples)  # each problem once per strategy
    assert set(opened) == expected
    assert all(opened[family, name] * 2 == by_family[family] for family, name in expected)


def test_tiny_v2_starts_undecided_at_the_deciding_token_not_at_token_0():
    """At T=1 on 32 unseen problems x 2 samples: both strategies of every family appear, token 0 is near-certain
    and the deciding token is not (measured on 128 x 4: see the pre-registration's step-0 table)."""
    rows = probe("tiny-v2", "hicra/MiniatureV2-v0", problems=32, samples=2, seed=0)
    taken = Counter((r.family, r.strategy) for r in rows for _ in range(r.count))
    for family, names in {"march": ("apply", "backtrack"), "rewind": ("backtrack", "apply"),
                          "digits": ("remainder", "write_out"), "taken": ("subtract", "count_up")}.items():  # fmt: skip
        assert all(taken[family, n] >= 2 for n in names), taken  # of 16 responses per family
    by_family = {r.family: r for r in rows}
    assert all(r.entropy_token0 < 0.1 < r.entropy_decision for r in rows if r.strategy != "none"), rows
    assert set(by_family) == set(MINIATURE_V2)


def test_working_solutions_fit_the_presets_budget_and_listings_do_not(tokenizer):
    """With the preset's 80 new tokens (EOS included): every working solution fits at both difficulties (at most 62
    and 76 tokens measured on 800 problems), and no listing does at difficulty 1 (at least 84)."""
    budget = 80
    for difficulty in (1, 2):
        for family in MINIATURE_V2:
            for seed in range(25):
                solutions = FAMILIES[family].strategy_solutions(difficulty, seed)
                working, other = (len(tokenizer(s)["input_ids"]) + 1 for s in solutions.values())
                assert working <= budget, (family, difficulty, seed, working)
                if family in ("digits", "taken"):
                    assert other > budget, (family, difficulty, seed, other)
