"""The tiny policy: a 0.5M-parameter Llama with its own BPE tokenizer, warm-started on the strategy miniature.

The default recipe's build ships as package data (``hicra/agents/data/tiny/``, about 2 MB, sha256 in
:data:`SHIPPED_SHA256`): the ``tiny`` preset loads it with no build step. ``python -m hicra.agents.tiny --rebuild
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

__all__ = ["RECIPE_VERSION", "TinyRecipe", "build_tiny", "shipped_dir", "tiny_dir"]

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


def shipped_dir() -> Path:
    """The folder of the shipped default build inside the installed package."""
    return Path(str(resources.files("hicra.agents") / "data" / "tiny"))


def tiny_dir(recipe: TinyRecipe | None = None) -> Path:
    """The tiny policy directory for ``recipe``: the shipped build for the default recipe, else a cached build."""
    recipe = recipe or TinyRecipe()
    if recipe == TinyRecipe() and (shipped_dir() / RECIPE_FILE).is_file():
        return shipped_dir()
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


def main(argv: list[str] | None = None) -> None:
    """``python -m hicra.agents.tiny``: print the default tiny policy's folder; ``--rebuild --out DIR`` rebuilds
    it from :class:`TinyRecipe` into ``DIR`` and prints each file's sha256 beside the shipped one."""
    parser = argparse.ArgumentParser(prog="python -m hicra.agents.tiny", description=main.__doc__)
    parser.add_argument("--rebuild", action="store_true", help="build the default recipe from scratch")
    parser.add_argument("--out", type=Path, help="where --rebuild writes (a new or empty folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.rebuild:
        print(tiny_dir())
        return
    if args.out is None or (args.out.exists() and any(args.out.iterdir())):
        parser.error(f"--rebuild needs --out: a new or empty folder, got {args.out}")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # the shipped build used one thread; matmul sums may differ with more
    build_tiny(TinyRecipe(), args.out)
    for name, digest in file_hashes(args.out).items():
        same = "same as shipped" if SHIPPED_SHA256.get(name) == digest else "differs from shipped"
        print(f"{digest}  {name}  ({same})")


if __name__ == "__main__":
    main()
