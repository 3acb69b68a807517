"""The tiny policy: a small Llama with its own BPE tokenizer, warm-started on procedural worked solutions.

Everything is built in-process from a :class:`TinyRecipe` (no download): the env poses problems through its public
API (``gymnasium.make(env_id)``, ``reset``, ``problem(id)``), a byte-level BPE tokenizer is trained on the prompts
and solutions, and a short teacher-forced warm start (loss on the solution tokens and EOS) gives the model some,
far from perfect, procedural competence.

The warm-start data mixes two strategies, as a base model's samples do: a share ``direct_fraction`` of the
problems is answered at once (``The answer is \\boxed{9}.``), the rest with the env's worked solution opened by a
planning phrase (``Let's break it down: 7 + 5 = 12, 12 - 3 = 9. The answer is \\boxed{9}.``; "let's" and "break it
down" are Strategic Grams). The policy therefore starts undecided between the two at its first tokens, working
the steps out is the better strategy for a 2-layer model, and RL has a strategic choice to sharpen besides the
arithmetic itself: the two phases of the paper in miniature, and planning tokens for HICRA to credit.

The result is saved with ``save_pretrained`` into
``$HICRA_CACHE/tiny-<hash of the recipe>`` atomically, so later loads are fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .model_cache import cached_dir

logger = logging.getLogger(__name__)

RECIPE_VERSION = 2
"""Bumped whenever the build code changes what a recipe produces (invalidates cached builds)."""
EOS, PAD, BOS = "<|endoftext|>", "<|pad|>", "<|bos|>"


@dataclass(frozen=True)
class TinyRecipe:
    """Everything that determines the tiny policy; its hash names the cache directory."""

    env_id: str = "hicra/Arithmetic-v0"
    """The task whose prompts and worked solutions make the tokenizer corpus and the warm-start data."""
    template: str | None = None
    """Prompt template passed to the env (None: the env's default)."""
    num_problems: int = 3000
    """Distinct problems drawn (``reset`` from ``seed``) for the tokenizer and the warm start."""
    vocab_size: int = 512
    """BPE vocabulary size including the 256 byte tokens and the 3 special tokens."""
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 384
    max_positions: int = 512
    steps: int = 1500
    """Warm-start optimiser steps (AdamW, warm-up then cosine decay); about 5 minutes on 2 cores."""
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0
    direct_fraction: float = 0.5
    """Share of warm-start problems answered directly (no working); the rest get ``planning_phrase`` + solution."""
    planning_phrase: str = "Let's break it down: "
    """Opens every worked solution of the warm start ("" keeps the env's solutions unchanged)."""

    def __post_init__(self) -> None:
        for name in ("num_problems", "hidden_size", "num_layers", "num_heads", "intermediate_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TinyRecipe.{name} must be >= 1, got {getattr(self, name)}")
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

    def key(self) -> str:
        """Short stable hash of the recipe and the build code version."""
        blob = json.dumps({**asdict(self), "version": RECIPE_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def tiny_dir(recipe: TinyRecipe | None = None) -> Path:
    """The cached tiny policy directory for ``recipe`` (default recipe), built on first use."""
    recipe = recipe or TinyRecipe()
    return cached_dir(f"tiny-{recipe.key()}", lambda out: build_tiny(recipe, out))


def direct_answer(answer: str) -> str:
    """The warm start's direct strategy: the final answer with no working."""
    return f"The answer is \\boxed{{{answer}}}."


def worked_examples(recipe: TinyRecipe) -> list[tuple[str, str]]:
    """``(prompt, solution)`` pairs for ``num_problems`` distinct problems, prompts exactly as the env poses them.

    Problem ``i`` is answered directly when ``random.Random(recipe.seed).random() < direct_fraction`` on its draw
    ``i``; otherwise its solution is ``planning_phrase`` + the env's worked solution.
    """
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    kwargs = {} if recipe.template is None else {"template": recipe.template}
    env = gym.make(recipe.env_id, **kwargs)
    seen: dict[str, tuple[str, str]] = {}
    choose = random.Random(recipe.seed)
    prompt, info = env.reset(seed=recipe.seed)
    for _ in range(recipe.num_problems * 20):
        if info["problem_id"] not in seen:
            problem = env.unwrapped.problem(info["problem_id"])
            if problem.solution is None:
                raise ValueError(f"{recipe.env_id} problem {problem.id} has no worked solution to warm-start on")
            direct = choose.random() < recipe.direct_fraction
            solution = direct_answer(problem.answer) if direct else recipe.planning_phrase + problem.solution
            seen[problem.id] = (prompt, solution)
            if len(seen) == recipe.num_problems:
                break
        prompt, info = env.reset()
    env.close()
    return list(seen.values())


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


def build_tiny(recipe: TinyRecipe, out: Path) -> None:
    """Build the tiny policy for ``recipe`` and ``save_pretrained`` model, tokenizer and recipe into ``out``."""
    logger.info("building the tiny policy (recipe %s) into %s", recipe.key(), out)
    examples = worked_examples(recipe)
    tokenizer = train_tokenizer([p + s for p, s in examples], recipe.vocab_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        model = make_model(recipe, tokenizer)
        losses = warm_start(model, tokenizer, examples, recipe)
    if losses:
        logger.info("warm start: loss %.3f -> %.3f over %d steps", losses[0], losses[-1], len(losses))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "hicra_tiny_recipe.json").write_text(json.dumps({**asdict(recipe), "version": RECIPE_VERSION}, indent=1))


if __name__ == "__main__":  # python -m hicra.agents.tiny: build (or find) the default tiny policy, print its folder
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(tiny_dir())
