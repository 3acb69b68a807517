"""Peak memory of the chunked log-prob path against naive full logits, forward + backward, on CPU.

    python -m hicra.benchmarks.perf.bench_memory [--model smollm2-135m-instruct] [--rows 16] [--length 512]
        [--e2e-rows 4] [--chunk-size 1024] [--out runs/bench]

Two cases, each variant in a fresh process (see :mod:`.peak_rss`):

- ``head``: the log-prob path alone. Final hidden states of ``rows x length`` tokens (computed once by the
  model's body, without grad) go through the LM head: :func:`hicra.agents.logprobs.chunked_logprobs` against
  ``log_softmax(lm_head(hidden)).gather(...)``; backward into the hidden states and the head.
- ``e2e``: the whole model on ``e2e_rows x length`` tokens: ``Policy.token_logprobs`` (what the update runs)
  against ``model(...).logits`` -> ``log_softmax`` -> ``gather``; backward into every parameter.

Each reports the peak resident memory above the process's memory after loading (``VmHWM`` after resetting
it through ``/proc/self/clear_refs``), the time, and the largest difference between the two paths' log-probs
and gradients. The loss is a fixed random weighting of the log-probs, so the gradients are not trivial.
With the defaults this takes about 8 minutes on 2 busy cores (the whole-model case is most of it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from hicra.agents.logprobs import chunked_logprobs

from .peak_rss import PeakMemory
from .report import BenchResult, finish, md_table
from .timing import machine, machine_note, set_threads

HEAD_VARIANTS = ("head_chunked", "head_naive")
E2E_VARIANTS = ("e2e_policy", "e2e_naive")
MIB = 2**20


# ---- the two log-prob paths (pure functions of tensors and modules) ------------------------------------


def naive_head_logprobs(hidden: torch.Tensor, targets: torch.Tensor, lm_head) -> torch.Tensor:
    """hidden [M, H], targets Long[M] -> log p(target) [M] through the full ``[M, V]`` float32 logits."""
    logits = lm_head(hidden).float()
    return torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def naive_token_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, prompt_length: int):
    """Log-probs [N, T] of the response columns ``prompt_length:`` from the full ``model(...).logits``, zero where
    ``attention_mask`` is 0 (the same contract as ``Policy.token_logprobs`` at temperature 1)."""
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    logp_all = torch.log_softmax(logits[:, prompt_length - 1 : -1].float(), dim=-1)
    logp = logp_all.gather(-1, input_ids[:, prompt_length:].unsqueeze(-1)).squeeze(-1)
    return logp * attention_mask[:, prompt_length:]


def policy_token_logprobs(model, tokenizer, input_ids, attention_mask, prompt_length: int, chunk_size: int):
    """``Policy.token_logprobs`` (the chunked path the trainer uses) for ``model`` and ``tokenizer``."""
    from hicra.agents.policy import Policy

    policy = Policy(model, tokenizer, chunk_size=chunk_size)
    return policy.token_logprobs(input_ids, attention_mask, prompt_length)[0]


def head_logprobs(variant: str, hidden: torch.Tensor, targets: torch.Tensor, lm_head, chunk_size: int):
    """The ``head_chunked`` or ``head_naive`` log-probs [M] of ``targets``."""
    if variant == "head_chunked":
        return chunked_logprobs(hidden, targets, lm_head, chunk_size=chunk_size)[0]
    return naive_head_logprobs(hidden, targets, lm_head)


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute elementwise difference (0.0 for empty tensors)."""
    return float((a.detach().float() - b.detach().float()).abs().max()) if a.numel() else 0.0


# ---- one variant in this process ---------------------------------------------------------------------


def run_variant(variant: str, spec: dict, save: Path) -> dict:
    """Load the model, build the inputs, then measure forward + backward of ``variant``; saves log-probs and a
    gradient to ``save`` for the agreement check."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    set_threads(spec["threads"])
    model = AutoModelForCausalLM.from_pretrained(spec["model_path"], dtype=torch.float32).eval()
    weights = torch.load(spec["inputs"])
    with PeakMemory() as peak:
        start = time.perf_counter()
        if variant in HEAD_VARIANTS:
            hidden = weights["hidden"].requires_grad_(True)
            logp = head_logprobs(variant, hidden, weights["targets"], model.get_output_embeddings(), spec["chunk"])
            (logp * weights["head_weights"]).sum().backward()
            grad = hidden.grad
        else:
            ids, attn, prompt = weights["input_ids"], weights["attention_mask"], spec["prompt_length"]
            if variant == "e2e_policy":
                tokenizer = AutoTokenizer.from_pretrained(spec["model_path"])
                logp = policy_token_logprobs(model, tokenizer, ids, attn, prompt, spec["chunk"])
            else:
                logp = naive_token_logprobs(model, ids, attn, prompt)
            (logp * weights["e2e_weights"]).sum().backward()
            grad = model.get_output_embeddings().weight.grad
        seconds = time.perf_counter() - start
    torch.save({"logp": logp.detach(), "grad": grad}, save)
    return {"variant": variant, "seconds": seconds, **peak.report()}


# ---- the parent: inputs, one child per variant, comparison -------------------------------------------


def make_inputs(model, spec: dict, path: Path) -> None:
    """Random token ids, the body's final hidden states (no grad) and fixed loss weights, saved to ``path``."""
    gen = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    rows, length, e2e_rows = spec["rows"], spec["length"], spec["e2e_rows"]
    head_ids = torch.randint(vocab, (rows, length + 1), generator=gen)
    with torch.no_grad():
        hidden = model.base_model(input_ids=head_ids[:, :-1]).last_hidden_state.reshape(rows * length, -1)
    e2e_ids = torch.randint(vocab, (max(e2e_rows, 1), length), generator=gen)
    response = length - spec["prompt_length"]
    torch.save(
        {
            "hidden": hidden.contiguous(),
            "targets": head_ids[:, 1:].reshape(-1),
            "head_weights": torch.rand(rows * length, generator=gen),
            "input_ids": e2e_ids,
            "attention_mask": torch.ones_like(e2e_ids),
            "e2e_weights": torch.rand(max(e2e_rows, 1), response, generator=gen),
        },
        path,
    )


def _child(variant: str, spec: dict, save: Path) -> dict:
    cmd = [sys.executable, "-m", __spec__.name, "--child", variant, "--spec", json.dumps(spec), "--save", str(save)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"variant": variant, "failed": f"exit code {done.returncode}: {done.stderr.strip()[-2000:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(case: tuple[str, str], spec: dict, tmp: Path) -> dict:
    """Run both variants of a case (chunked first) in fresh processes and compare them."""
    chunked, naive = (_child(v, spec, tmp / f"{v}.pt") for v in case)
    out = {"chunked": chunked, "naive": naive}
    if "failed" in chunked or "failed" in naive:
        return out
    a, b = torch.load(tmp / f"{case[0]}.pt"), torch.load(tmp / f"{case[1]}.pt")
    out.update(
        peak_ratio_naive_over_chunked=naive["peak_mib"] / max(chunked["peak_mib"], 1e-9),
        time_ratio_chunked_over_naive=chunked["seconds"] / naive["seconds"],
        max_abs_diff_logprobs=max_abs_diff(a["logp"], b["logp"]),
        max_abs_diff_grad=max_abs_diff(a["grad"], b["grad"]),
        max_abs_grad=float(b["grad"].abs().max()),
    )
    return out


def run(
    model: str = "smollm2-135m-instruct", rows=16, length=512, e2e_rows=4, chunk_size=1024, threads=2
) -> BenchResult:
    """Both cases (``e2e_rows=0`` skips the whole-model case); a model that cannot load is reported."""
    from transformers import AutoModelForCausalLM

    from hicra.agents.presets import resolve_model

    set_threads(threads)
    path = resolve_model(model)
    loaded = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    spec = {
        "model": model, "model_path": path, "rows": rows, "length": length, "e2e_rows": e2e_rows,
        "prompt_length": length // 8, "chunk": chunk_size, "threads": threads,
        "vocab_size": loaded.config.vocab_size, "hidden_size": loaded.config.hidden_size,
    }  # fmt: skip
    results: dict = {"machine": machine(), "spec": spec}
    with tempfile.TemporaryDirectory() as tmp:
        spec["inputs"] = str(Path(tmp) / "inputs.pt")
        make_inputs(loaded, spec, Path(spec["inputs"]))
        del loaded
        results["head"] = compare(HEAD_VARIANTS, spec, Path(tmp))
        if e2e_rows > 0:
            results["e2e"] = compare(E2E_VARIANTS, spec, Path(tmp))
    results["failed"] = [f"{case}/{k}" for case in ("head", "e2e") for k, v in results.get(case, {}).items()
                         if isinstance(v, dict) and "failed" in v]  # fmt: skip
    return BenchResult("memory", results, _markdown(results))


def _markdown(results: dict) -> str:
    spec = results["spec"]
    tokens = {"head": spec["rows"] * spec["length"], "e2e": spec["e2e_rows"] * (spec["length"] - spec["prompt_length"])}
    rows = []
    for case in ("head", "e2e"):
        r = results.get(case)
        if r is None:
            continue
        if "peak_ratio_naive_over_chunked" not in r:
            rows.append([case, tokens[case], "failed", "", "", "", "", "", ""])
            continue
        c, n = r["chunked"], r["naive"]
        rows.append(
            [
                case, tokens[case], f"{c['peak_mib']:,.0f} MiB", f"{n['peak_mib']:,.0f} MiB",
                f"**{r['peak_ratio_naive_over_chunked']:.2f}x**", f"{n['peak_mib'] - c['peak_mib']:,.0f} MiB",
                f"{c['seconds']:.2f} s / {n['seconds']:.2f} s",
                f"{r['max_abs_diff_logprobs']:.2e}", f"{r['max_abs_diff_grad']:.2e} (max |g| {r['max_abs_grad']:.2e})",
            ]
        )  # fmt: skip
    headers = [
        "case", "log-prob tokens", "peak, chunked", "peak, naive", "naive / chunked", "saved", "time chunked / naive",
        "max |diff| log-probs", "max |diff| grad",
    ]  # fmt: skip
    lines = [
        "# Peak memory: chunked log-probs vs full logits (forward + backward, CPU)",
        "",
        f"Model {spec['model']} (vocab {spec['vocab_size']:,}, hidden {spec['hidden_size']}), chunk {spec['chunk']} "
        f"tokens. `head`: LM head + log-softmax on {spec['rows']} x {spec['length']} final hidden states. "
        f"`e2e`: the whole model on {spec['e2e_rows']} x {spec['length']} tokens ({spec['prompt_length']} prompt). "
        "Peak = resident memory high-water mark above the memory after loading, each variant in a fresh process.",
        "",
        md_table(headers, rows),
        "",
        "In `e2e` the activations the body keeps for backward count too, so the ratio shrinks as the model body "
        "grows relative to the vocabulary; the saving itself is the logits' share (`head`).",
    ]
    lines += [f"- failed {name}" for name in results["failed"]]
    return "\n".join([*lines, "", machine_note(results["machine"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="preset, directory or hub id")
    parser.add_argument("--rows", type=int, default=16, help="sequences in the head case (default 16)")
    parser.add_argument("--length", type=int, default=512, help="tokens per sequence (default 512)")
    parser.add_argument("--e2e-rows", type=int, default=4, help="sequences in the whole-model case; 0 skips it")
    parser.add_argument("--chunk-size", type=int, default=1024, help="tokens per LM-head chunk (default 1024)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"), help="folder for memory.json and memory.md")
    parser.add_argument("--child", choices=HEAD_VARIANTS + E2E_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_variant(args.child, json.loads(args.spec), args.save)))
        return 0
    result = run(args.model, args.rows, args.length, args.e2e_rows, args.chunk_size, args.threads)
    return finish(args.out, result)


if __name__ == "__main__":
    raise SystemExit(main())
