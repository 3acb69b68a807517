"""The tiny policy: recipe validation and hashing, env-posed warm-start data, tokenizer, cached build, competence.

The suite builds a reduced recipe once per session (seconds); the default recipe (about 1-3 minutes on 2 cores)
is built by the slow-marked competence test.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest
import torch

import hicra_env  # noqa: F401  (registers hicra/Arithmetic-v0)
from hicra.agents import tiny
from hicra.agents.policy import Policy, SamplingConfig
from hicra.agents.tiny import TinyRecipe

SMALL = TinyRecipe(num_problems=300, hidden_size=64, num_heads=2, intermediate_size=128, steps=40, batch_size=16)


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
        ("direct_fraction", 1.5, "direct_fraction"),
    ],
)
def test_recipe_rejects_bad_values(field, value, named):
    with pytest.raises(ValueError, match=rf"TinyRecipe\.{named}"):
        TinyRecipe(**{field: value})


def test_recipe_key_is_stable_and_sensitive():
    assert TinyRecipe().key() == TinyRecipe().key()
    assert TinyRecipe(steps=1).key() != TinyRecipe().key()
    assert len(TinyRecipe().key()) == 12


def test_worked_examples_are_what_the_env_poses():
    recipe = TinyRecipe(num_problems=20, seed=5)
    examples = tiny.worked_examples(recipe)
    assert len(examples) == len(set(examples)) == 20
    env = gym.make("hicra/Arithmetic-v0")
    prompt, info = env.reset(seed=5)
    problem = env.unwrapped.problem(info["problem_id"])
    assert examples[0][0] == prompt
    assert examples[0][1] in (tiny.direct_answer(problem.answer), recipe.planning_phrase + problem.solution)
    assert problem.solution.endswith(f"\\boxed{{{problem.answer}}}.")


@pytest.mark.parametrize(("fraction", "low", "high"), [(0.0, 0, 0), (1.0, 200, 200), (0.5, 80, 120)])
def test_direct_fraction_sets_the_strategy_mix(fraction, low, high):
    recipe = TinyRecipe(num_problems=200, direct_fraction=fraction)
    solutions = [s for _, s in tiny.worked_examples(recipe)]
    direct = [s for s in solutions if s.startswith("The answer is \\boxed{")]
    worked = [s for s in solutions if s.startswith("Let's break it down: ")]
    assert low <= len(direct) <= high  # 0.5: binomial(200, 0.5) lies in [80, 120] with probability > 0.995
    assert len(direct) + len(worked) == 200


def test_direct_answer_and_worked_solution_end_with_the_same_box():
    recipe = TinyRecipe(num_problems=1, direct_fraction=0.0)
    ((_, worked),) = tiny.worked_examples(recipe)
    ((_, direct),) = tiny.worked_examples(dataclasses.replace(recipe, direct_fraction=1.0))
    assert worked.startswith(recipe.planning_phrase) and worked.endswith(direct[len("The answer is ") :])


def test_tokenizer_round_trips_and_splits_digits():
    texts = ["What is 12 + 7? 12 + 7 = 19. The answer is \\boxed{19}."] * 5
    tok = tiny.train_tokenizer(texts, vocab_size=280)
    text = "Let's check: 305 - 17 = 288, wait… \\boxed{288}"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte-level: any text survives, even unseen words
    assert [tok.decode([i]) for i in tok("305", add_special_tokens=False)["input_ids"]] == ["3", "0", "5"]
    assert tok.eos_token == tiny.EOS and tok.pad_token == tiny.PAD and tok.bos_token == tiny.BOS
    assert len({tok.eos_token_id, tok.pad_token_id, tok.bos_token_id}) == 3


def test_encode_examples_labels_only_solution_and_eos():
    tok = tiny.train_tokenizer(["What is 1 + 2? 1 + 2 = 3."], vocab_size=270)
    inputs, labels = tiny.encode_examples(tok, [("What is 1 + 2?", " 1 + 2 = 3.")])
    prompt_len = len(tok("What is 1 + 2?", add_special_tokens=False)["input_ids"])
    assert labels[0][:prompt_len] == [-100] * prompt_len
    assert labels[0][prompt_len:] == inputs[0][prompt_len:]
    assert inputs[0][-1] == tok.eos_token_id


def test_build_is_cached_and_loadable(small_dir, monkeypatch):
    assert small_dir.name == f"tiny-{SMALL.key()}"
    assert (small_dir / "hicra_tiny_recipe.json").is_file()
    monkeypatch.setenv("HICRA_CACHE", str(small_dir.parent))
    monkeypatch.setattr(tiny, "build_tiny", lambda recipe, out: pytest.fail("rebuilt a cached recipe"))
    assert tiny.tiny_dir(SMALL) == small_dir
    policy = Policy.from_pretrained(str(small_dir))
    config = policy.model.config
    assert (config.hidden_size, config.num_hidden_layers, config.model_type) == (64, 2, "llama")
    assert policy.format_prompt("x") == "x"  # no chat template: the plain prompt


def test_warm_start_lowers_the_loss():
    recipe = dataclasses.replace(SMALL, num_problems=64, steps=25)
    examples = tiny.worked_examples(recipe)
    tok = tiny.train_tokenizer([p + s for p, s in examples], recipe.vocab_size)
    torch.manual_seed(0)
    losses = tiny.warm_start(tiny.make_model(recipe, tok), tok, examples, recipe)
    assert len(losses) == 25, losses
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5


def test_small_build_generates_greedily(small_dir):
    policy = Policy.from_pretrained(str(small_dir))
    env = gym.make("hicra/Arithmetic-v0")
    prompt, _ = env.reset(seed=1)
    gen = policy.generate([prompt], num_samples=4, sampling=SamplingConfig(temperature=0, max_new_tokens=40))
    assert gen.texts[0] and len(set(gen.texts)) == 1  # greedy: the 4 samples of one prompt agree


@pytest.mark.slow
def test_default_recipe_has_some_but_not_full_competence(tmp_path, monkeypatch):
    """The embedded default: accuracy at temperature 1.0 strictly between 0 and 1 (measured ~20% on 256)."""
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))
    policy = Policy.from_pretrained("tiny")
    env = gym.make("hicra/Arithmetic-v0")
    prompt, info = env.reset(seed=2024)
    prompts, ids = [], []
    for _ in range(96):
        prompts.append(prompt)
        ids.append(info["problem_id"])
        prompt, info = env.reset()
    gen = policy.generate(prompts, num_samples=1, sampling=SamplingConfig(temperature=1.0, max_new_tokens=64), seed=0)
    rewards, _ = env.unwrapped.evaluate(ids, gen.texts)
    assert 0.0 < rewards.mean() < 0.8
