"""Held-out accuracy: the policy on problems no run has seen, the same problems for every agent.

Held-out problems are chosen by text, not by index alone (:func:`choose_heldout`): the candidates are the env's
problems right after the training set (indices ``num_problems ..``), in order, and a candidate is skipped when its
problem text is a training problem's (indices ``0 .. num_problems - 1``), a problem the policy's warm start posed
(a ``tiny`` build: :func:`warm_start_texts`) or an earlier candidate's. Skipped candidates are replaced by later ones
of the same subject (family), so the split keeps the family mix of the plain index window. A run writes the problems
it evaluates to ``heldout_problems.json`` (:func:`heldout_record`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import torch

from .policy import Policy
from .sampling import SamplingConfig

log = logging.getLogger(__name__)

HELDOUT_FILE = "heldout_problems.json"
"""The run folder's record of the held-out problems it evaluated."""

SCAN_FACTOR, SCAN_EXTRA = 100, 10_000
"""A split of n problems gives up after ``SCAN_FACTOR * n + SCAN_EXTRA`` candidates (procedural sources are
2**31 long: a family whose texts run out would otherwise scan forever)."""


def heldout_row(correct: int, passed: int, problems: int, samples: int, prefix: str = "heldout") -> dict:
    """The held-out record from counts (summed over ranks in a distributed run); keys ``<prefix>_accuracy``,
    ``<prefix>_pass_at_k``, ``<prefix>_problems`` and ``<prefix>_samples``."""
    return {
        f"{prefix}_accuracy": correct / (problems * samples),
        f"{prefix}_pass_at_k": passed / problems,
        f"{prefix}_problems": problems,
        f"{prefix}_samples": samples,
    }


@torch.no_grad()
def heldout_counts(
    policy: Policy, env: gym.Env, indices: Iterable[int], sampling: SamplingConfig, samples: int, seed: int
) -> tuple[int, int, int]:
    """``(correct responses, problems with a correct response, problems)``: ``samples`` responses to each problem
    ``env.reset(options={"index": i})`` poses (pass@k: at least one of a problem's ``samples`` is correct)."""
    prompts, ids = [], []
    for index in indices:
        prompt, info = env.reset(options={"index": int(index)})
        prompts.append(prompt)
        ids.append(info["problem_id"])
    if not prompts:
        raise ValueError("indices: expected at least one held-out problem index, got none")
    policy.model.eval()
    gen = policy.generate(prompts, num_samples=samples, sampling=sampling, seed=seed)
    rows = [ids[i] for i in gen.prompt_index.tolist()]
    _, infos = env.get_wrapper_attr("evaluate")(rows, gen.texts)
    correct = torch.tensor([bool(info["correct"]) for info in infos]).view(len(prompts), samples)
    return int(correct.sum()), int(correct.any(dim=1).sum()), len(prompts)


def evaluate_split(
    policy: Policy, env: gym.Env, indices: tuple[int, ...], samples: int, sampling: SamplingConfig, seed: int, dist,
    prefix: str = "heldout",
) -> dict:  # fmt: skip
    """:func:`heldout_row` of the problems at ``indices``, ``samples`` responses each; under torchrun every rank
    takes every W-th problem and the counts are summed."""
    mine = indices[dist.rank :: dist.world_size]
    counts = heldout_counts(policy, env, mine, sampling, samples, seed) if mine else (0, 0, 0)
    return heldout_row(*map(round, dist.sum(counts)), samples, prefix=prefix)


# ------------------------------------------------------------------ choosing the problems
@dataclass(frozen=True)
class HeldoutSet:
    """The problems of one held-out split, in evaluation order.

    Attributes:
        indices: Env indices (``env.reset(options={"index": i})``).
        problem_ids: Their problem ids.
        texts: Their problem texts.
        first_index: Where the candidates started (the training set's size).
        skipped: Candidates passed over, by reason (``training``, ``warm_start``, ``duplicate``).
    """

    indices: tuple[int, ...]
    problem_ids: tuple[str, ...]
    texts: tuple[str, ...]
    first_index: int
    skipped: dict[str, int] = field(default_factory=dict)

    def record(self) -> dict:
        """JSON-ready: indices, ids and the sha256 of each problem text (UTF-8), with the skip counts."""
        return {
            "first_index": self.first_index, "indices": list(self.indices), "problem_ids": list(self.problem_ids),
            "text_sha256": [text_sha256(t) for t in self.texts], "skipped": dict(self.skipped),
        }  # fmt: skip


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def posed(env: gym.Env, index: int):
    """The :class:`~hicra_env.Problem` that ``env.reset(options={"index": index})`` poses."""
    _, info = env.reset(options={"index": int(index)})
    return env.get_wrapper_attr("problem")(info["problem_id"])


def training_texts(env: gym.Env, num_problems: int) -> set[str]:
    """The problem texts of the training set: indices ``0 .. num_problems - 1``."""
    return {posed(env, i).problem for i in range(num_problems)}


def choose_heldout(env: gym.Env, first: int, count: int, seen: Mapping[str, set[str] | frozenset[str]]) -> HeldoutSet:
    """``count`` problems of ``env`` from index ``first`` on whose texts are in none of ``seen``'s sets (named by
    the reason a text is excluded) and are distinct; each subject gets as many as the window ``first ..
    first + count - 1`` holds. Raises ``ValueError`` when the source runs out first."""
    if count < 1:
        raise ValueError(f"count: expected at least one held-out problem, got {count}")
    size = len(env.unwrapped.source) if hasattr(env.unwrapped, "source") else None
    if size is not None and first + count > size:
        raise ValueError(f"held-out problems: the source holds {size} problems, fewer than {first} + {count}")
    quota = Counter(posed(env, i).subject for i in range(first, first + count))
    chosen: list[tuple[int, str, str]] = []
    taken: set[str] = set()
    skipped = Counter({reason: 0 for reason in (*seen, "duplicate")})
    index, limit = first, first + SCAN_FACTOR * count + SCAN_EXTRA
    while len(chosen) < count:
        if index >= limit or (size is not None and index >= size):
            raise ValueError(
                f"held-out problems: found {len(chosen)} of {count} unseen problems in indices {first}..{index - 1} "
                f"({dict(skipped)} skipped): the source "
                + ("ran out" if size is not None and index >= size else f"gave up after {index - first} candidates")
                + "; ask for fewer heldout_problems or a smaller training set"
            )
        problem = posed(env, index)
        reason = next((r for r, texts in seen.items() if problem.problem in texts), None)
        if reason is None and problem.problem in taken:
            reason = "duplicate"
        if reason is not None:
            skipped[reason] += 1
        elif quota[problem.subject] > 0:
            quota[problem.subject] -= 1
            taken.add(problem.problem)
            chosen.append((index, problem.id, problem.problem))
        index += 1
    indices, ids, texts = zip(*chosen)
    return HeldoutSet(tuple(indices), tuple(ids), tuple(texts), first, dict(skipped))


# ------------------------------------------------------------------ what the warm start saw
def model_folder(policy: Policy | None, model: str) -> str | None:
    """The local folder the policy was loaded from (``policy.path``, else ``model`` resolved), None for a hub id."""
    path = getattr(policy, "path", None)
    if path is None:
        from .presets import resolve_model

        path = resolve_model(model)
    return str(path) if Path(path).is_dir() else None


def warm_start_texts(folder: str | None) -> frozenset[str]:
    """The problem texts the warm start of the tiny build in ``folder`` posed (its ``hicra_tiny_recipe.json``); empty
    for any other model. Computed once per recipe and process (about a second for the default recipe)."""
    from .tiny import RECIPE_FILE

    if folder is None or not (Path(folder) / RECIPE_FILE).is_file():
        return frozenset()
    return _recipe_texts(_read_recipe(Path(folder) / RECIPE_FILE))


def _read_recipe(path: Path):
    from dataclasses import fields

    from .tiny import RECIPE_VERSION, TinyRecipe

    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != RECIPE_VERSION:
        log.warning("%s: recipe version %s, this code builds %s; its warm start may differ", path,
                    data.get("version"), RECIPE_VERSION)  # fmt: skip
    names = {f.name for f in fields(TinyRecipe)}
    kwargs = {k: v for k, v in data.items() if k in names}
    return TinyRecipe(**{**kwargs, "envs": tuple(tuple(e) for e in kwargs.get("envs", ()))})


@functools.lru_cache(maxsize=8)
def _recipe_texts(recipe) -> frozenset[str]:
    """Every problem text of ``worked_examples(recipe)``: its prompts with the posing env's template taken off."""
    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    from .tiny import worked_examples

    kwargs = {} if recipe.template is None else {"template": recipe.template}
    templates = {getattr(gym.make(env_id, **kwargs).unwrapped, "template", None) for env_id, _ in recipe.envs}
    texts = set()
    for prompt, _ in worked_examples(recipe):
        stripped = [text for t in templates if (text := _strip(prompt, t)) is not None]
        texts.add(stripped[0] if stripped else prompt)
    return frozenset(texts)


def _strip(prompt: str, template) -> str | None:
    """The problem text inside ``prompt`` when ``template`` (prefix + problem + suffix) posed it, else None."""
    prefix, suffix = getattr(template, "prefix", None), getattr(template, "suffix", None)
    if prefix is None or suffix is None or not (prompt.startswith(prefix) and prompt.endswith(suffix)):
        return None
    return prompt[len(prefix) : len(prompt) - len(suffix)]


def heldout_record(sets: Mapping[str, HeldoutSet], env_kwargs: Mapping[str, dict], model_dir: str | None) -> dict:
    """What ``heldout_problems.json`` holds: per split its env kwargs and :meth:`HeldoutSet.record`, and the model
    folder whose warm start was excluded."""
    return {
        "warm_start_model": model_dir,
        **{split: {"env_kwargs": dict(env_kwargs[split]), **s.record()} for split, s in sets.items()},
    }


# ------------------------------------------------------------------ a run's held-out evaluation
class HeldoutEvaluator:
    """A run's held-out splits, chosen once (at construction: a source that runs out fails before training), and
    their evaluation.

    Splits: ``heldout`` (``config.heldout_problems`` problems of ``env`` after its training set) and, with
    ``config.heldout_ood_env_kwargs``, ``heldout_ood`` (as many of the env made with ``env_kwargs`` updated by
    those, from its own ``num_problems`` on). Both exclude the training set's texts and the warm start's. The
    execution probe (:class:`~hicra.agents.execution_probe.ExecutionProbe`) holds the worked solutions of the
    ``heldout`` problems of strategy families. :attr:`record` is what ``heldout_problems.json`` holds.
    """

    def __init__(self, config, env: gym.Env, policy: Policy, grams, dist) -> None:
        from .execution_probe import ExecutionProbe, probe_rows

        self.config, self.policy, self.dist = config, policy, dist
        first = config.env_kwargs["num_problems"]
        folder = model_folder(policy, config.model)
        seen = {"training": training_texts(env, first), "warm_start": warm_start_texts(folder)}
        self.envs, kwargs = {"heldout": env}, {"heldout": dict(config.env_kwargs)}
        self.sets = {"heldout": choose_heldout(env, first, config.heldout_problems, seen)}
        if config.heldout_ood_env_kwargs is not None:
            kwargs["heldout_ood"] = {**config.env_kwargs, **config.heldout_ood_env_kwargs}
            ood = self.envs["heldout_ood"] = gym.make(config.env_id, **kwargs["heldout_ood"])
            ood_first = ood.unwrapped.num_problems if hasattr(ood.unwrapped, "num_problems") else first
            self.sets["heldout_ood"] = choose_heldout(ood, ood_first, config.heldout_problems, seen)
        rows = probe_rows(env, self.sets["heldout"].indices)
        self.probe = ExecutionProbe(policy, grams, rows, config.micro_batch_size)
        self.record = {
            **heldout_record(self.sets, kwargs, folder),
            "excluded_texts": {reason: len(texts) for reason, texts in seen.items()},
            "execution_probe": self.probe.record(),
        }
        """What ``heldout_problems.json`` holds (:func:`heldout_record` and the probe's counts)."""

    def write(self, run_dir: Path) -> Path:
        """Write :attr:`record` to ``run_dir / HELDOUT_FILE``."""
        path = Path(run_dir) / HELDOUT_FILE
        path.write_text(json.dumps(self.record, indent=1) + "\n", encoding="utf-8")
        return path

    def evaluate(self, step: int, sampling: SamplingConfig, scope) -> dict:
        """The ``heldout.jsonl`` row of training step ``step``: every split's :func:`heldout_row` (sampled inside
        ``scope()``, the trainer's sampling context) and the probe's execution perplexities."""
        from .seeds import SeedPurpose, derived_seed

        cfg = self.config
        seed = self.dist.seed(cfg.seed, step, SeedPurpose.HELDOUT)
        row: dict = {"step": step}
        with scope():
            for i, (split, chosen) in enumerate(self.sets.items()):
                split_seed = seed if i == 0 else derived_seed(seed, i, SeedPurpose.HELDOUT)
                row.update(evaluate_split(self.policy, self.envs[split], chosen.indices, cfg.heldout_samples,
                                          sampling, split_seed, self.dist, prefix=split))  # fmt: skip
        if len(self.probe):
            row.update(self.probe.perplexities(self.policy, cfg.temperature))
        return row
