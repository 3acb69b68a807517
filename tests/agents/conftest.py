"""Small models built in-process and saved like any model: a warm-started one and an untrained one."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.tiny import TinyRecipe, make_model, train_tokenizer, warm_start

PAIRS = [(f"What is {a} + {b}?", f" {a + b}. The answer is \\boxed{{{a + b}}}.") for a in range(12) for b in range(9)]
CORPUS = [p + s for p, s in PAIRS]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> str:
    """A 2-layer Llama (30 warm-start steps, so it emits EOS) and a BPE tokenizer, saved like any model."""
    out = tmp_path_factory.mktemp("small_llama")
    tokenizer = train_tokenizer(CORPUS, vocab_size=300)
    recipe = TinyRecipe(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64, steps=30, batch_size=16)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = make_model(recipe, tokenizer)
        warm_start(model, tokenizer, PAIRS, recipe)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="session")
def untrained_dir(tmp_path_factory) -> str:
    """A randomly initialised 2-layer Llama on a 300-token vocabulary: a next-token distribution spread over
    hundreds of tokens, so a hidden top-k of 50 would cut most of its mass."""
    out = tmp_path_factory.mktemp("untrained_llama")
    tokenizer = train_tokenizer(CORPUS, vocab_size=300)
    recipe = TinyRecipe(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        make_model(recipe, tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)
