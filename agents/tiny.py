"""The tiny policy: a 0.5M-parameter Llama with its own BPE tokenizer, warm-started on the strategy miniature.

The default recipe's build ships as package data (``hicra/agents/data/tiny/``, about 2 MB, sha256 in
:data:`SHIPPED_SHA256`): the ``tiny`` preset loads it with no build step. So does the ``tiny-v2`` preset, the build
of :data:`TINY_V2` warm-started on the second miniature ``hicra/MiniatureV2-v0`` (``hicra/agents/data/tiny_v2/``,
:data:`SHIPPED_V2_SHA256`; ``--rebuild --recipe tiny-v2``). ``python -m hicra.agents.tiny --rebuild
--out DIR`` rebuilds it from :class:`TinyRecipe` (about 7 CPU-minutes on one thread; bit-for-bit on the same platform,
library versions and thread count) and compares the hashes. Other recipes build on first use into
``$HICRA_CACHE/tiny-<recipe hash>``.

The build poses problems through the envs' public API, trains a byte-level BPE tokenizer, and warm-starts by
teacher forcing (loss on solution tokens and EOS). Each problem of a strategy family appears once per strategy
(:func:`hicra_env.sources.strategy_solutions`), so the policy starts undecided among the strategies of
``hicra/Miniature-v0`` (about half its openings pick the wrong one), and the short warm start leaves its arithmetic
imperfect: RL has the procedure and the choice of strategy to learn. Problems with one worked solution
(``hicra/Arithmetic-v0``) are answered directly (share ``direct_fraction``) or worked after ``planning_phrase``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
from importlib import resources
from pathlib import Path

import torch

from .model_cache import cached_dir
from .tiny_training import RECIPE_VERSION, TinyRecipe, make_model, train_tokenizer, warm_start

__all__ = ["RECIPE_VERSION", "TINY_V2", "TinyRecipe", "build_tiny", "shipped_dir", "tiny_dir"]

logger = logging.getLogger(__name__)

RECIPE_FILE = "hicra_tiny_recipe.json"
SHIPPED_SHA256: dict[str, str] = {
    "config.json": "2f9410c0ff815ecc905995b8db06bf8428ca1507d64035763e1c58f1708609da",
    "generation_config.json": "7422e2a1c4cd746e64d3d3c615d8bcc7bddf5e334d1683abe437493ceb17bb07",
    "hicra_tiny_recipe.json": "4002c51395fb1e211a885b616edd50bdf1fc490026382c694094f8310a13a223",
    "model.safetensors": "0a7aa31fc94f3e0054ffd5a1acc25d2440b409a6fdc8386188f8e626d1ffe3b5",
    "tokenizer.json": "f58acc41126c01e3076d59b82947b3976e07a8aad027830d7967e5232a0b847c",
    "tokenizer_config.json": "d23d139f95ef54e7317a2b81cb3cdbc2f515170c199a1ad3095a981b7b7c00c4",
}
"""sha256 of every file of the shipped default build (``hicra/agents/data/tiny/``), by file name."""

TINY_V2 = TinyRecipe(envs=(("hicra/MiniatureV2-v0", 3000),), steps=1200)
"""The recipe of the ``tiny-v2`` preset: the same model and build, warm-started on ``hicra/MiniatureV2-v0`` alone
(both strategies' worked solutions of 3000 problems), 1200 steps as ``tiny`` (warm-start loss 6.15 -> 0.04; 606
CPU-seconds on one thread; a 400-step build left the arithmetic too weak for RL), shipped as
``hicra/agents/data/tiny_v2/``."""
SHIPPED_V2_SHA256: dict[str, str] = {
    "config.json": "73ae93f7c41d880942beaeb7f9fd3e5c0a56694ae1df83405a81c60ace1b3ee2",
    "generation_config.json": "7422e2a1c4cd746e64d3d3c615d8bcc7bddf5e334d1683abe437493ceb17bb07",
    "hicra_tiny_recipe.json": "ff32ad72bcecd3bfbf1ce1a5a04ffa6b7278637eabd48f32bc8eda23e53e3596",
    "model.safetensors": "c2278036e9664ed4d5174d9b3bfe8484704f8ce19e1ba1488afa98f318395712",
    "tokenizer.json": "e538ea353d0b54cfc90e1bba46de65c4232ec6d2e62e398d9654cdedca91f379",
    "tokenizer_config.json": "d23d139f95ef54e7317a2b81cb3cdbc2f515170c199a1ad3095a981b7b7c00c4",
}
"""sha256 of every file of the shipped ``tiny-v2`` build (``hicra/agents/data/tiny_v2/``), by file name."""


def shipped_dir(name: str = "tiny") -> Path:
    """The folder of a shipped build inside the installed package: ``tiny`` (the default recipe) or ``tiny_v2``."""
    return Path(str(resources.files("hicra.agents") / "data" / name))


def tiny_dir(recipe: TinyRecipe | None = None) -> Path:
    """The tiny policy directory for ``recipe``: the shipped build for the default recipe and for :data:`TINY_V2`,
    else a cached build."""
    recipe = recipe or TinyRecipe()
    if recipe == TinyRecipe() and (shipped_dir() / RECIPE_FILE).is_file():
        return shipped_dir()
    if recipe == TINY_V2 and (shipped_dir("tiny_v2") / RECIPE_FILE).is_file():
        return shipped_dir("tiny_v2")
    return cached_dir(f"tiny-{recipe.key()}", lambda out: build_tiny(recipe, out))


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 hex digest of every file directly in ``folder``, by file name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def worked_examples(recipe: TinyRecipe) -> list[tuple[str, str]]:
    """``(prompt, solution)`` pairs, prompts exactly as the envs pose them.

    For each ``(env id, count)`` of ``recipe.envs``: ``count`` distinct problems drawn by ``reset`` (seeded with
    ``recipe.seed``); a problem of a strategy family yields one pair per strategy, any other problem one pair
    with ``planning_phrase`` + its worked solution.
    """
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    kwargs = {} if recipe.template is None else {"template": recipe.template}
    examples: list[tuple[str, str]] = []
    choose = random.Random(recipe.seed)
    for env_id, count in recipe.envs:
        env = gym.make(env_id, **kwargs)
        seen: set[str] = set()
        prompt, info = env.reset(seed=recipe.seed)
        for _ in range(count * 20):
            if info["problem_id"] not in seen:
                seen.add(info["problem_id"])
                examples += [(prompt, s) for s in _worked(env, recipe, info["problem_id"], choose)]
                if len(seen) == count:
                    break
            prompt, info = env.reset()
        env.close()
    return examples


def direct_answer(answer: str) -> str:
    """The direct strategy of problems with one worked solution: the final answer with no working."""
    return f"The answer is \\boxed{{{answer}}}."


def _worked(env, recipe: TinyRecipe, problem_id: str, choose: random.Random) -> list[str]:
    """Every strategy's worked solution of a strategy family's problem; else the direct answer (with probability
    ``direct_fraction``, drawn from ``choose``) or ``planning_phrase`` + the worked solution."""
    from hicra_env.sources import UnknownProblemError, strategy_solutions

    try:
        strategies = list(strategy_solutions(problem_id).values())
    except UnknownProblemError:  # not a procedural id (a data file, a hub dataset)
        strategies = []
    if strategies:
        return strategies
    problem = env.get_wrapper_attr("problem")(problem_id)
    if choose.random() < recipe.direct_fraction:
        return [direct_answer(problem.answer)]
    if problem.solution is None:
        raise ValueError(f"problem {problem.id} has no worked solution to warm-start on")
    return [recipe.planning_phrase + problem.solution]


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
    _portable_tokenizer_class(out / "tokenizer_config.json")
    (out / RECIPE_FILE).write_text(json.dumps(recipe.to_dict(), indent=1) + "\n")


def _portable_tokenizer_class(path: Path) -> None:
    """Name the tokenizer class ``PreTrainedTokenizerFast``, which transformers 4.x and 5.x both load (5.x writes
    its own ``TokenizersBackend``, unknown to 4.x)."""
    config = json.loads(path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


_SHIPPED = {"tiny": (lambda: TinyRecipe(), SHIPPED_SHA256), "tiny-v2": (lambda: TINY_V2, SHIPPED_V2_SHA256)}
"""``--recipe`` name -> (its recipe, the shipped build's hashes)."""


def main(argv: list[str] | None = None) -> None:
    """``python -m hicra.agents.tiny``: print the tiny policy's folder (``--recipe tiny-v2``: the second
    miniature's); ``--rebuild --out DIR`` rebuilds it into ``DIR`` and prints each file's sha256 beside the
    shipped one."""
    parser = argparse.ArgumentParser(prog="python -m hicra.agents.tiny", description=main.__doc__)
    parser.add_argument("--rebuild", action="store_true", help="build the recipe from scratch")
    parser.add_argument("--recipe", choices=sorted(_SHIPPED), default="tiny", help="which shipped recipe")
    parser.add_argument("--out", type=Path, help="where --rebuild writes (a new or empty folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    recipe, shipped = _SHIPPED[args.recipe][0](), _SHIPPED[args.recipe][1]
    if not args.rebuild:
        print(tiny_dir(recipe))
        return
    if args.out is None or (args.out.exists() and any(args.out.iterdir())):
        parser.error(f"--rebuild needs --out: a new or empty folder, got {args.out}")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # the shipped builds used one thread; matmul sums may differ with more
    build_tiny(recipe, args.out)
    for name, digest in file_hashes(args.out).items():
        same = "same as shipped" if shipped.get(name) == digest else "differs from shipped"
        print(f"{digest}  {name}  ({same})")


if __name__ == "__main__":
    main()
