"""The tiny policy's training blocks: the digit-splitting BPE tokenizer, example encoding, the warm start."""

from __future__ import annotations

import torch

import hicra_env  # noqa: F401  (registers hicra/Miniature-v0)
from hicra.agents import tiny, tiny_training
from hicra.agents.tiny import TinyRecipe


def test_tokenizer_round_trips_and_splits_digits():
    texts = ["What is 12 + 7? 12 + 7 = 19. The answer is \\boxed{19}."] * 5
    tok = tiny_training.train_tokenizer(texts, vocab_size=280)
    text = "Let's check: 305 - 17 = 288, wait… \\boxed{288}"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte-level: any text survives, even unseen words
    assert [tok.decode([i]) for i in tok("305", add_special_tokens=False)["input_ids"]] == ["3", "0", "5"]
    assert (
        tok.eos_token == tiny_training.EOS and tok.pad_token == tiny_training.PAD and tok.bos_token == tiny_training.BOS
    )
    assert len({tok.eos_token_id, tok.pad_token_id, tok.bos_token_id}) == 3


def test_encode_examples_labels_only_solution_and_eos():
    tok = tiny_training.train_tokenizer(["What is 1 + 2? 1 + 2 = 3."], vocab_size=270)
    inputs, labels = tiny_training.encode_examples(tok, [("What is 1 + 2?", " 1 + 2 = 3.")])
    prompt_len = len(tok("What is 1 + 2?", add_special_tokens=False)["input_ids"])
    assert labels[0][:prompt_len] == [-100] * prompt_len
    assert labels[0][prompt_len:] == inputs[0][prompt_len:]
    assert inputs[0][-1] == tok.eos_token_id


def test_warm_start_lowers_the_loss():
    recipe = TinyRecipe(
        envs=(("hicra/Miniature-v0", 32),), hidden_size=64, num_heads=2, intermediate_size=128, steps=25
    )
    examples = tiny.worked_examples(recipe)
    tok = tiny_training.train_tokenizer([p + s for p, s in examples], recipe.vocab_size)
    torch.manual_seed(0)
    losses = tiny_training.warm_start(tiny_training.make_model(recipe, tok), tok, examples, recipe)
    assert len(losses) == 25, losses
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5


def test_tiny_training_depends_on_nothing_of_tiny():
    """The pair depends one way: ``tiny`` imports ``tiny_training`` (which holds the recipe), never the reverse."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(tiny_training))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "tiny" not in imported and "hicra.agents.tiny" not in imported
    assert tiny.TinyRecipe is tiny_training.TinyRecipe
