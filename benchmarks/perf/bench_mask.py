"""Planning-mask throughput: ``StrategicGrams.token_mask`` in tokens/s, against ``batch_decode`` of the same batch.

    python -m hicra.benchmarks.perf.bench_mask [--rows 64] [--width 200] [--reps 20] [--out runs/bench]

The batch looks like a rollout batch: ``rows`` responses of up to ``width`` tokens (row 0 cut at ``width``, the
others shorter and ending in EOS, pad after it), cut from texts made of the procedural envs' worked solutions
with Strategic Grams put in front of some sentences. Every training step decodes its responses
(``Generation.texts``), so ``tokenizer.batch_decode`` of the same batch is the baseline; the mask is timed with
those texts passed (as the trainer does) and without (it decodes them itself). For each tokenizer (the tiny
policy's, and SmolLM2's when its preset loads) the variants take turns, ``reps`` times each; medians reported.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hicra.agents.planning import StrategicGrams

from .report import BenchResult, finish, md_table, ms
from .timing import interleaved, machine, machine_note, per_call, set_threads, summary

TOKENIZERS = ("tiny", "smollm2-135m-instruct")
FAMILIES = ("Shortcuts", "Series", "WorkBackwards", "Procedural", "Arithmetic")
_SEPARATOR = "\x00"  # how token_mask joins a batch's texts before matching


@dataclass(frozen=True)
class MaskBatch:
    """A batch of responses as the trainer holds it."""

    response_ids: torch.Tensor
    """Long[N, T], pad after the end of each response."""
    response_mask: torch.Tensor
    """Bool[N, T], True on response tokens (up to and including EOS)."""
    texts: list[str]
    """``tokenizer.batch_decode(response_ids, skip_special_tokens=True)``, as in ``Generation.texts``."""


def worked_solutions(count: int, seed: int = 0) -> list[str]:
    """``count`` worked solutions from the procedural env families in :data:`FAMILIES`, taken in turn."""
    import gymnasium as gym

    import hicra_env  # noqa: F401  (registers the hicra/* ids)

    envs = [gym.make(f"hicra/{family}-v0") for family in FAMILIES]
    solutions = []
    for i in range(count):
        env = envs[i % len(envs)]
        _, info = env.reset(seed=seed + i)
        solutions.append(env.get_wrapper_attr("problem")(info["problem_id"]).solution)
    return solutions


def compose_texts(
    sentences: list[str], grams: list[str], rows: int, min_chars: int, rng: np.random.Generator, gram_share=0.3
) -> list[str]:
    """``rows`` texts of at least ``min_chars`` characters: random ``sentences``, a ``gram_share`` of them led by a
    random gram (``"But wait, 7 * 2 = 14. ..."``)."""
    texts = []
    for _ in range(rows):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < min_chars:
            sentence = sentences[int(rng.integers(len(sentences)))]
            if rng.random() < gram_share:
                gram = grams[int(rng.integers(len(grams)))]
                sentence = f"{gram[:1].upper()}{gram[1:]}, {sentence}"
            parts.append(sentence)
        texts.append(" ".join(parts))
    return texts


def build_batch(tokenizer, texts: list[str], width: int, rng: np.random.Generator) -> MaskBatch:
    """Tokenize ``texts`` into a [len(texts), width] response batch.

    Row 0 keeps ``width`` tokens (a response cut at the token limit, no EOS); every other row keeps a length
    drawn from ``[width // 2, width]`` whose last token is EOS. Raises ``ValueError`` when a text is too short.
    """
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    ids = np.full((len(texts), width), pad, dtype=np.int64)
    mask = np.zeros((len(texts), width), dtype=bool)
    for r, text in enumerate(texts):
        tokens = tokenizer(text, add_special_tokens=False)["input_ids"]
        length = width if r == 0 else int(rng.integers(width // 2, width + 1))
        if len(tokens) < length:
            raise ValueError(f"texts[{r}]: expected at least {length} tokens, got {len(tokens)}; pass longer texts")
        row = tokens[:width] if length == width else [*tokens[: length - 1], eos]
        ids[r, : len(row)], mask[r, : len(row)] = row, True
    response_ids = torch.from_numpy(ids)
    texts = tokenizer.batch_decode(response_ids, skip_special_tokens=True)
    return MaskBatch(response_ids, torch.from_numpy(mask), texts)


def tokens_per_second(num_tokens: int, seconds: float) -> float:
    """Throughput; ``inf`` for a zero duration."""
    return num_tokens / seconds if seconds > 0 else float("inf")


def load_tokenizer(name: str):
    """The tokenizer of a model preset (loads the tokenizer only)."""
    from transformers import AutoTokenizer

    from hicra.agents.presets import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model(name))


def measure(tokenizer, batch: MaskBatch, reps: int, desc: str) -> dict:
    """Time the mask (with and without texts), the gram matching alone and the ``batch_decode`` baseline."""
    tokens = int(batch.response_mask.sum())
    ids, mask, texts = batch.response_ids, batch.response_mask, batch.texts
    build = per_call(StrategicGrams, 1)
    grams = StrategicGrams()
    cold = per_call(lambda: grams.token_mask(tokenizer, ids, mask, texts=texts), 1)  # first use: piece table
    with_texts = grams.token_mask(tokenizer, ids, mask, texts=texts)
    agree = bool(torch.equal(with_texts, grams.token_mask(tokenizer, ids, mask)))
    variants = {
        "batch_decode": lambda: tokenizer.batch_decode(ids, skip_special_tokens=True),
        "mask_with_texts": lambda: grams.token_mask(tokenizer, ids, mask, texts=texts),
        "mask_without_texts": lambda: grams.token_mask(tokenizer, ids, mask),
        "gram_matching": lambda: grams.spans(_SEPARATOR.join(texts)),
    }
    times = {name: summary(t) for name, t in interleaved(variants, reps, desc=desc).items()}
    base = times["batch_decode"]["median"]
    return {
        "vocab_size": len(tokenizer),
        "rows": int(ids.shape[0]),
        "width": int(ids.shape[1]),
        "tokens": tokens,
        "planning_ratio": float((with_texts & mask).sum()) / tokens,
        "masks_agree": agree,
        "grams_build_s": build,
        "mask_cold_s": cold,
        "times": times,
        "tokens_per_s": {name: tokens_per_second(tokens, t["median"]) for name, t in times.items()},
        "ratio_to_batch_decode": {name: t["median"] / base for name, t in times.items()},
    }


def run(rows: int = 64, width: int = 200, reps: int = 20, tokenizers=TOKENIZERS, threads: int = 2) -> BenchResult:
    """Measure every tokenizer in ``tokenizers`` (one that cannot load is reported as skipped)."""
    set_threads(threads)
    rng = np.random.default_rng(0)
    grams = list(StrategicGrams().grams)
    texts = compose_texts(worked_solutions(200), grams, rows, min_chars=8 * width, rng=rng)
    per_tokenizer, skipped = {}, {}
    for name in tokenizers:
        try:
            tokenizer = load_tokenizer(name)
        except (ValueError, OSError) as err:
            skipped[name] = f"{type(err).__name__}: {err}"
            continue
        batch = build_batch(tokenizer, texts, width, np.random.default_rng(1))
        per_tokenizer[name] = measure(tokenizer, batch, reps, desc=f"mask {name}")
    results = {"machine": machine(), "reps": reps, "tokenizers": per_tokenizer, "skipped": skipped}
    return BenchResult("mask", results, _markdown(results))


def _markdown(results: dict) -> str:
    rows = []
    for name, r in results["tokenizers"].items():
        t, tps, ratio = r["times"], r["tokens_per_s"], r["ratio_to_batch_decode"]
        rows.append(
            [
                name, r["vocab_size"], f"{r['rows']} x {r['width']} ({r['tokens']} tokens)",
                f"{100 * r['planning_ratio']:.1f}%", ms(t["batch_decode"]["median"]),
                f"{ms(t['mask_with_texts']['median'])} ({ratio['mask_with_texts']:.2f}x)",
                f"{ms(t['mask_without_texts']['median'])} ({ratio['mask_without_texts']:.2f}x)",
                ms(t["gram_matching"]["median"]), f"{tps['mask_with_texts']:,.0f}", f"{tps['mask_without_texts']:,.0f}",
                ms(r["mask_cold_s"]), "yes" if r["masks_agree"] else "**NO**",
            ]
        )  # fmt: skip
    headers = [
        "tokenizer", "vocab", "batch", "planning tokens", "batch_decode (baseline)", "mask, texts given (x decode)",
        "mask, no texts (x decode)", "gram regex alone", "tokens/s (texts)", "tokens/s (no texts)",
        "first call", "masks agree",
    ]  # fmt: skip
    lines = [
        "# Planning-mask throughput",
        "",
        f"Median of {results['reps']} interleaved runs each. Baseline: `tokenizer.batch_decode` of the same batch, "
        "which every training step does anyway. 'First call' includes building the tokenizer's piece table.",
        "",
        md_table(headers, rows),
    ]
    lines += [f"- skipped {name}: {why}" for name, why in results["skipped"].items()]
    return "\n".join([*lines, "", machine_note(results["machine"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64, help="responses per batch (default 64)")
    parser.add_argument("--width", type=int, default=200, help="tokens per response at most (default 200)")
    parser.add_argument("--reps", type=int, default=20, help="timed runs per variant (default 20)")
    parser.add_argument("--tokenizers", default=",".join(TOKENIZERS), help="comma-separated model presets")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for mask.json and mask.md")
    args = parser.parse_args(argv)
    result = run(args.rows, args.width, args.reps, tuple(args.tokenizers.split(",")), args.threads)
    return finish(args.out, result)


if __name__ == "__main__":
    raise SystemExit(main())
