"""The tiny policy: recipe validation and hashing, env-posed warm-start data with every strategy, tokenizer, cached
build of other recipes, and the shipped default build (hashes, loading without a build, undecided start).

The suite builds a reduced recipe once per session (seconds); the default recipe is never built here: its build
ships as package data and ``python -m hicra.agents.tiny --rebuild --out DIR`` reproduces it (about 10 minutes).
"""

from __future__ import annotations

import json
from collections import Counter

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401  (registers hicra/Arithmetic-v0 and hicra/Miniature-v0)
from hicra.agents import tiny
from hicra.agents.metrics import semantic_entropy
from hicra.agents.planning import StrategicGrams
from hicra.agents.policy import Policy, SamplingConfig
from hicra.agents.tiny import TinyRecipe
from hicra_env.sources import STRATEGIES, strategy_solutions
from hicra_env.tasks import MINIATURE

SMALL = TinyRecipe(
    envs=(("hicra/Miniature-v0", 120), ("hicra/Arithmetic-v0", 60)),
    hidden_size=64,
    num_heads=2,
    intermediate_size=128,
    steps=40,
    batch_size=16,
)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory):
    """SMALL built into a cache of its own; HICRA_CACHE is set only while building (left set, it sent every later
    test's "tiny" to an empty cache and a five-minute rebuild)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HICRA_CACHE", str(tmp_path_factory.mktemp("hicra_cache")))
        path = tiny.tiny_dir(SMALL)
    return path


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("steps", -1, "steps"),
        ("vocab_size", 100, "vocab_size"),
        ("num_heads", 3, "hidden_size.*num_heads"),
        ("lr", 0.0, "lr"),
        ("batch_size", 0, "batch_size"),
        ("envs", (), "envs"),
        ("envs", (("hicra/Miniature-v0", 0),), "envs"),
        ("direct_fraction", 1.5, "direct_fraction"),
    ],
)
def test_recipe_rejects_bad_values(field, value, named):
    with pytest.raises(ValueError, match=rf"TinyRecipe\.{named}"):
        TinyRecipe(**{field: value})


def test_recipe_key_is_stable_and_sensitive():
    assert TinyRecipe().key() == TinyRecipe().key()
    assert TinyRecipe(steps=1).key() != TinyRecipe().key()
    assert TinyRecipe(envs=(("hicra/Miniature-v0", 3000),)).key() != TinyRecipe().key()
    assert len(TinyRecipe().key()) == 12


def test_worked_examples_are_what_the_envs_pose_with_every_strategy():
    recipe = TinyRecipe(envs=(("hicra/Miniature-v0", 5), ("hicra/Arithmetic-v0", 3)), seed=5)
    examples = tiny.worked_examples(recipe)
    assert len(examples) == 5 * 2 + 3  # two strategies per miniature problem, one worked solution per Arithmetic one
    env = gym.make("hicra/Miniature-v0")
    prompt, info = env.reset(seed=5)
    assert examples[0][0] == examples[1][0] == prompt
    assert [s for _, s in examples[:2]] == list(strategy_solutions(info["problem_id"]).values())
    arithmetic = gym.make("hicra/Arithmetic-v0")
    prompt, info = arithmetic.reset(seed=5)
    problem = arithmetic.unwrapped.problem(info["problem_id"])
    assert examples[10][0] == prompt
    assert examples[10][1] in (tiny.direct_answer(problem.answer), "Let's break this down: " + problem.solution)


@pytest.mark.parametrize(("fraction", "low", "high"), [(0.0, 0, 0), (1.0, 200, 200), (0.5, 80, 120)])
def test_direct_fraction_sets_the_mix_on_problems_with_one_worked_solution(fraction, low, high):
    recipe = TinyRecipe(envs=(("hicra/Arithmetic-v0", 200),), direct_fraction=fraction)
    solutions = [s for _, s in tiny.worked_examples(recipe)]
    direct = [s for s in solutions if s.startswith("The answer is \\boxed{")]
    worked = [s for s in solutions if s.startswith("Let's break this down: ")]
    assert low <= len(direct) <= high  # 0.5: binomial(200, 0.5) lies in [80, 120] with probability > 0.995
    assert len(direct) + len(worked) == 200


def test_warm_start_data_teaches_each_family_its_two_strategies_equally():
    examples = tiny.worked_examples(TinyRecipe(envs=(("hicra/Miniature-v0", 200),), direct_fraction=1.0))
    opened = Counter(
        (prompt.split(" ")[0], name)
        for prompt, solution in examples
        for name, s in STRATEGIES.items()
        if solution.startswith(s.opener)
    )
    assert sum(opened.values()) == len(examples) == 400
    by_family = Counter(prompt.split(" ")[0] for prompt, _ in examples)  # "Start", "I", "The", "A"
    assert set(by_family) == {"Start", "I", "The", "A"}
    expected = {
        ("Start", "forward"), ("Start", "backward"), ("I", "backward"), ("I", "forward"),
        ("The", "pattern"), ("The", "forward"), ("A", "complement"), ("A", "forward"),
    }  # fmt: skip
    assert set(opened) == expected
    for family, strategy in expected:
        assert opened[family, strategy] * 2 == by_family[family]


def test_semantic_entropy_tells_the_strategy_mixes_apart():
    """Bits of the Strategic Gram distribution, hand-computed. Every strategy of two problems per family (the
    warm start's mix) opens forward 8 times, backward 4, pattern 2, complement 2: 1/2*1 + 1/4*2 + 2*(1/8*3) = 1.75.
    Each family's working strategy only: four grams equally often, 2 bits. Forward only: 0 bits."""
    ids = [f"{family}-d1-{seed}" for seed in range(2) for family in MINIATURE]
    every = [text for pid in ids for text in strategy_solutions(pid).values()]
    working = [next(iter(strategy_solutions(pid).values())) for pid in ids]
    grams = StrategicGrams()
    assert semantic_entropy(every, grams) == pytest.approx(1.75)
    assert semantic_entropy(working, grams) == pytest.approx(2.0)
    assert semantic_entropy([t for t in every if t.startswith("Let's break this down:")], grams) == 0.0


def test_other_recipes_build_once_into_the_cache(small_dir, monkeypatch):
    assert small_dir.name == f"tiny-{SMALL.key()}"
    assert json.loads((small_dir / tiny.RECIPE_FILE).read_text()) == SMALL.to_dict()
    monkeypatch.setenv("HICRA_CACHE", str(small_dir.parent))
    monkeypatch.setattr(tiny, "build_tiny", lambda recipe, out: pytest.fail("rebuilt a cached recipe"))
    assert tiny.tiny_dir(SMALL) == small_dir
    policy = Policy.from_pretrained(str(small_dir))
    config = policy.model.config
    assert (config.hidden_size, config.num_hidden_layers, config.model_type) == (64, 2, "llama")
    assert policy.format_prompt("x") == "x"  # no chat template: the plain prompt


def test_small_build_generates_greedily(small_dir):
    policy = Policy.from_pretrained(str(small_dir))
    env = gym.make("hicra/Miniature-v0")
    prompt, _ = env.reset(seed=1)
    gen = policy.generate([prompt], num_samples=4, sampling=SamplingConfig(temperature=0, max_new_tokens=40))
    assert gen.texts[0] and len(set(gen.texts)) == 1  # greedy: the 4 samples of one prompt agree


def test_shipped_files_match_their_recorded_hashes():
    assert tiny.file_hashes(tiny.shipped_dir()) == tiny.SHIPPED_SHA256
    assert set(tiny.SHIPPED_SHA256) >= {"model.safetensors", "config.json", "tokenizer.json", tiny.RECIPE_FILE}


def test_shipped_build_is_the_default_recipe():
    shipped = json.loads((tiny.shipped_dir() / tiny.RECIPE_FILE).read_text())
    assert shipped == TinyRecipe().to_dict()


def test_default_recipe_loads_the_shipped_files_without_building(monkeypatch, tmp_path):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))
    monkeypatch.setattr(tiny, "build_tiny", lambda recipe, out: pytest.fail("built the default recipe"))
    assert tiny.tiny_dir() == tiny.shipped_dir()
    policy = Policy.from_pretrained("tiny")
    config = policy.model.config
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (128, 2, len(policy.tokenizer))
    assert len(policy.tokenizer) <= TinyRecipe().vocab_size
    assert 400_000 < sum(p.numel() for p in policy.model.parameters()) < 600_000
    assert list(tmp_path.iterdir()) == []  # nothing built or cached


def test_shipped_policy_starts_undecided_between_each_familys_strategies():
    """At temperature 1, on 32 unseen problems per family, both strategies of every family open at least a fifth of
    its responses (measured: about half each), and some but not all answers are right."""
    policy = Policy.from_pretrained("tiny")
    env = gym.make("hicra/Miniature-v0")
    prompts, ids = [], []
    for index in range(1_000_000, 1_000_128):  # far from any training set (indices 0..num_problems)
        prompt, info = env.reset(options={"index": index})
        prompts.append(prompt)
        ids.append(info["problem_id"])
    gen = policy.generate(prompts, num_samples=2, sampling=SamplingConfig(max_new_tokens=64), seed=0)
    rows = [ids[i] for i in gen.prompt_index.tolist()]
    opened = Counter(
        (pid.split("-")[0], name)
        for pid, text in zip(rows, gen.texts)
        for name, s in STRATEGIES.items()
        if text.startswith(s.opener)
    )
    for family, names in {"chain": ("forward", "backward"), "undo": ("backward", "forward"),
                          "cycle": ("pattern", "forward"), "seats": ("complement", "forward")}.items():  # fmt: skip
        assert all(opened[family, name] >= 13 for name in names), opened  # of 64 responses per family
    rewards, _ = env.unwrapped.evaluate(rows, gen.texts)
    assert 0.1 < rewards.mean() < 0.7
    assert 1.5 < semantic_entropy(gen.texts, StrategicGrams()) < 1.95  # the 50/50 mix's 1.75 bits, sampled
