"""Small models built in-process and saved like any model: a warm-started one and an untrained one."""

from __future__ import annotations

import pytest
import torch

from hicra.agents.tiny import TinyRecipe
from hicra.agents.tiny_training import make_model, train_tokenizer, warm_start

PAIRS = [(f"What is {a} + {b}?", f" {a + b}. The answer is \\boxed{{{a + b}}}.") for a in range(12) for b in range(9)]
CORPUS = [p + s for p, s in PAIRS]


def save_llama(out, *, hidden_size: int = 32, num_heads: int = 2, warm_steps: int = 0) -> str:
    """A 2-layer Llama and a BPE tokenizer (300 tokens), warm-started ``warm_steps`` steps, saved into ``out``."""
    tokenizer = train_tokenizer(CORPUS, vocab_size=300)
    recipe = TinyRecipe(hidden_size=hidden_size, num_layers=2, num_heads=num_heads, intermediate_size=2 * hidden_size,
                        steps=warm_steps, batch_size=16)  # fmt: skip
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = make_model(recipe, tokenizer)
        if warm_steps:
            warm_start(model, tokenizer, PAIRS, recipe)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def assert_engine_follows_trainer(policy, gen) -> None:
    """A greedy generation ``gen`` of ``policy``'s engine: its tokens are the trainer model's argmax and its
    log-probs the trainer's (to 1e-4), i.e. the engine holds the trainer's current weights."""
    with torch.no_grad():
        logits = policy.model(input_ids=gen.input_ids, attention_mask=gen.attention_mask).logits
        logp, _ = policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)
    argmax = logits[:, gen.prompt_length - 1 : -1].argmax(-1)
    assert torch.equal(argmax[gen.response_mask], gen.response_ids[gen.response_mask])
    torch.testing.assert_close(gen.logprobs, logp * gen.response_mask, atol=1e-4, rtol=0)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> str:
    """A 2-layer Llama warm-started 30 steps (so it emits EOS), saved like any model."""
    return save_llama(tmp_path_factory.mktemp("small_llama"), warm_steps=30)


@pytest.fixture(scope="session")
def untrained_dir(tmp_path_factory) -> str:
    """A randomly initialised 2-layer Llama on a 300-token vocabulary: a next-token distribution spread over
    hundreds of tokens, so a hidden top-k of 50 would cut most of its mass."""
    return save_llama(tmp_path_factory.mktemp("untrained_llama"))
