"""Training the tiny policy from scratch: its byte-level BPE tokenizer, a small Llama, and the teacher-forced warm
start. Pure building blocks and the recipe they read (:class:`TinyRecipe`); :mod:`.tiny` holds the shipped build and the
command line, and imports this module (never the reverse)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import torch

EOS, PAD, BOS = "<|endoftext|>", "<|pad|>", "<|bos|>"
"""The tiny tokenizer's special tokens."""

RECIPE_VERSION = 3
"""Bumped whenever the build code changes what a recipe produces (invalidates cached builds)."""


@dataclass(frozen=True)
class TinyRecipe:
    """Everything that determines the tiny policy; its hash names the cache directory."""

    envs: tuple[tuple[str, int], ...] = (("hicra/Miniature-v0", 3000), ("hicra/Arithmetic-v0", 600))
    """``(env id, distinct problems)`` drawn (``reset`` from ``seed``) for the tokenizer and the warm start."""
    template: str | None = None
    """Prompt template passed to every env (None: the env's default)."""
    vocab_size: int = 512
    """BPE vocabulary size including the 256 byte tokens and the 3 special tokens."""
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 384
    max_positions: int = 512
    steps: int = 1200
    """Warm-start optimiser steps (AdamW, warm-up then cosine decay). 1200 leaves the arithmetic imperfect: with
    the working strategy, about 0.2 (cycle) to 0.85 (seats) of answers right at temperature 1."""
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    direct_fraction: float = 0.5
    """Share of the problems whose family has one worked solution (Arithmetic) answered directly, with no working
    (``The answer is \\boxed{9}.``); the rest get ``planning_phrase`` + the env's worked solution."""
    planning_phrase: str = "Let's break this down: "
    """Opens the worked solution of a problem whose family has one (the ``forward`` strategy's opener)."""

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "num_heads", "intermediate_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TinyRecipe.{name} must be >= 1, got {getattr(self, name)}")
        if not self.envs or any(len(e) != 2 or not isinstance(e[1], int) or e[1] < 1 for e in self.envs):
            raise ValueError(f"TinyRecipe.envs must be non-empty (env id, problems >= 1) pairs, got {self.envs!r}")
        if self.steps < 0:
            raise ValueError(f"TinyRecipe.steps must be >= 0, got {self.steps}")
        if self.vocab_size < 260:
            raise ValueError(f"TinyRecipe.vocab_size must be >= 260 (256 bytes + specials), got {self.vocab_size}")
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"TinyRecipe.hidden_size ({self.hidden_size}) must be divisible by num_heads ({self.num_heads})"
            )
        if not self.lr > 0:
            raise ValueError(f"TinyRecipe.lr must be > 0, got {self.lr}")
        if not 0.0 <= self.direct_fraction <= 1.0:
            raise ValueError(f"TinyRecipe.direct_fraction must be in [0, 1], got {self.direct_fraction}")

    def to_dict(self) -> dict:
        """The recipe and the build code version, as JSON-ready values (what the build writes to its recipe file)."""
        return {**asdict(self), "envs": [list(e) for e in self.envs], "version": RECIPE_VERSION}

    def key(self) -> str:
        """Short stable hash of the recipe and the build code version."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE (digits split one by one) trained on ``texts``, as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, PAD, BOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=BOS)


def make_model(recipe: TinyRecipe, tokenizer):
    """A freshly initialised small Llama sized by ``recipe`` for ``tokenizer``."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=recipe.hidden_size,
        intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_layers,
        num_attention_heads=recipe.num_heads,
        num_key_value_heads=recipe.num_heads,
        max_position_embeddings=recipe.max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def encode_examples(tokenizer, examples: list[tuple[str, str]]) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids of ``prompt + solution + EOS`` and labels (-100 on the prompt) per example.

    Prompt and solution are tokenized separately, exactly as generation continues a tokenized prompt.
    """
    inputs, labels = [], []
    for prompt, solution in examples:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        s = [*tokenizer(solution, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        inputs.append(p + s)
        labels.append([-100] * len(p) + s)
    return inputs, labels


def _batch(inputs, labels, rows: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(inputs[i]) for i in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    lab = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, i in enumerate(rows):
        n = len(inputs[i])
        ids[r, :n], lab[r, :n], mask[r, :n] = torch.tensor(inputs[i]), torch.tensor(labels[i]), 1
    return {"input_ids": ids, "labels": lab, "attention_mask": mask}


def warm_start(model, tokenizer, examples: list[tuple[str, str]], recipe: TinyRecipe) -> list[float]:
    """Teacher-forced training on the worked solutions (loss on solution tokens + EOS); returns step losses."""
    from tqdm.auto import tqdm

    inputs, labels = encode_examples(tokenizer, examples)
    longest = max(map(len, inputs))
    if longest > recipe.max_positions:
        raise ValueError(f"an example is {longest} tokens, over TinyRecipe.max_positions={recipe.max_positions}")
    generator = torch.Generator().manual_seed(recipe.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.01)
    warmup = max(1, recipe.steps // 10)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, recipe.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    losses = []
    for _ in tqdm(range(recipe.steps), desc="tiny policy warm start", disable=None):
        rows = torch.randint(len(inputs), (recipe.batch_size,), generator=generator).tolist()
        loss = model(**_batch(inputs, labels, rows, tokenizer.pad_token_id)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    return losses
