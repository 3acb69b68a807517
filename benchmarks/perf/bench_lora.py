"""LoRA against full fine-tuning on CPU, and the two ways to keep a vLLM engine on a LoRA policy.

    python -m hicra.benchmarks.perf.bench_lora [--which train] [--model smollm2-135m-instruct] [--r 16]
        [--rows 8] [--length 256] [--steps 3] [--out runs/bench]
    .venv-vllm/bin/python -m hicra.benchmarks.perf.bench_lora --which sync [--r 16] [--out runs/bench]

``train``: one run, two fresh processes (``full``, ``lora``), the same batch of ``rows x length`` tokens (a quarter
prompt) and the update the trainer runs: ``Policy.token_logprobs`` with grad, a fixed weighting of the log-probs as
loss, backward, AdamW step. Reports trainable / total parameters, the peak resident memory of the first training
step above the loaded model (gradients, AdamW state and activations: :mod:`.peak_rss`), and the median seconds of
the next ``steps`` steps.

``sync`` (needs vllm): a LoRA policy and a vLLM engine, two fresh processes, ``steps`` simulated updates (the
adapters' B matrices moved), each followed by the engine sync and one rollout (``prompts x samples`` responses of
``max_new_tokens``): ``merged`` pushes ``W + scale * B A`` through ``reload_weights`` (what the trainer does);
``adapter`` writes the adapter folder and serves it with vLLM's LoRA support (a new ``LoRARequest`` per step).
Both report sync and rollout seconds (medians) and the largest gap between the engine's and the trainer's
log-probs of the sampled tokens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .peak_rss import PeakMemory
from .report import BenchResult, finish, md_table
from .timing import machine, machine_note, set_threads

PROMPTS = ["What is 12 + 30?", "Solve 3x = 12.", "What is 7 times 8?", "Is 91 prime? Think step by step."]


def _policy(model: str, r: int | None, **options):
    from hicra.agents.lora import LoraConfig
    from hicra.agents.policy import Policy

    return Policy.from_pretrained(model, lora=LoraConfig(r=r, alpha=2.0 * r) if r else None, **options)


def train_child(args: argparse.Namespace, variant: str) -> dict:
    """One variant's parameters, first-step peak memory and seconds per step (in this fresh process)."""
    import torch

    from hicra.agents.lora import count_parameters

    set_threads(args.threads)
    policy = _policy(args.model, args.r if variant == "lora" else None)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, policy.model.config.vocab_size, (args.rows, args.length), generator=g)
    mask, prompt = torch.ones_like(ids), args.length // 4
    weights = torch.randn(args.rows, args.length - prompt, generator=g)
    policy.model.eval()

    def step() -> None:
        logp, _ = policy.token_logprobs(ids, mask, prompt)
        (logp * weights).mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    with PeakMemory() as peak:
        start = time.perf_counter()
        step()
        first = time.perf_counter() - start
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    trainable, total = count_parameters(policy.model)
    return {"trainable": trainable, "total": total, **peak.report(), "first_step_s": first,
            "step_s": statistics.median(times), "steps": times}  # fmt: skip


def sync_child(args: argparse.Namespace, mode: str) -> dict:
    """``steps`` updates of a LoRA policy, each synced to vLLM by ``mode`` then sampled (this fresh process)."""
    import torch

    from hicra.agents.lora import save_adapter
    from hicra.agents.sampling import SamplingConfig

    set_threads(args.threads)
    policy = _policy(args.model, args.r)
    options = {"kv_cache_gib": 0.5, "max_model_len": 512}
    if mode == "adapter":
        options["llm_options"] = {"enable_lora": True, "max_lora_rank": args.r, "max_loras": 1}
    engine = policy.use_engine("vllm", **options)
    sampling = SamplingConfig(max_new_tokens=args.max_new_tokens)
    prompt_ids = policy.prompt_token_ids(PROMPTS)
    params = engine._params(len(prompt_ids), args.samples, sampling, 0, None)
    tmp, syncs, rollouts, gaps = Path(tempfile.mkdtemp()), [], [], []
    for k in range(args.steps + 1):  # step 0 warms up
        with torch.no_grad():
            for name, p in policy.model.named_parameters():
                if ".lora_B." in name:
                    p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(k + len(name))) * 1e-3)
        start = time.perf_counter()
        if mode == "merged":
            engine.load_weights(policy.model)
            request = {}
        else:
            from vllm.lora.request import LoRARequest

            save_adapter(policy.model, tmp / f"step-{k}")
            request = {"lora_request": LoRARequest(f"step-{k}", k + 1, str(tmp / f"step-{k}"))}
        synced = time.perf_counter()
        gen = _rollout(policy, engine, prompt_ids, params, request)
        done = time.perf_counter()
        if k:
            syncs.append(synced - start)
            rollouts.append(done - synced)
        gaps.append(_gap(policy, gen))
    return {"sync_s": statistics.median(syncs), "rollout_s": statistics.median(rollouts), "max_logprob_gap": max(gaps),
            "syncs": syncs, "rollouts": rollouts}  # fmt: skip


def _rollout(policy, engine, prompt_ids, params, request):
    from vllm import TokensPrompt

    from hicra.agents.engines.base import Completions

    prompts = [TokensPrompt(prompt_token_ids=list(p)) for p in prompt_ids]
    outputs = engine.llm.generate(prompts, params, use_tqdm=False, **request)
    rows = []
    for output in outputs:
        for c in sorted(output.outputs, key=lambda c: c.index):
            rows.append((tuple(c.token_ids), tuple(float(s[t].logprob) for t, s in zip(c.token_ids, c.logprobs))))
    completions = Completions(tuple(t for t, _ in rows), tuple(lp for _, lp in rows))
    return policy._to_generation(prompt_ids, completions, len(rows) // len(prompt_ids))


def _gap(policy, gen) -> float:
    import torch

    with torch.no_grad():
        logp, _ = policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)
    return float((logp - gen.logprobs).abs()[gen.response_mask].max())


def _child(args: argparse.Namespace, variant: str) -> dict:
    argv = [sys.executable, "-m", "hicra.benchmarks.perf.bench_lora", "--child", variant]
    for key in ("which", "model", "r", "rows", "length", "steps", "threads", "samples", "max_new_tokens"):
        argv += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    proc = subprocess.run(argv, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"failed": f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-3:]}"}
    return json.loads(lines[-1][len("RESULT ") :])


def run(args: argparse.Namespace) -> BenchResult:
    variants = ("full", "lora") if args.which == "train" else ("merged", "adapter")
    results = {"config": {k: v for k, v in vars(args).items() if k != "child"}, "machine": machine()}
    results.update({v: _child(args, v) for v in variants})
    failed = [v for v in variants if "failed" in results[v]]
    results["failed"] = failed or None
    return BenchResult(f"lora_{args.which}", results, markdown(results, args))


def markdown(results: dict, args: argparse.Namespace) -> str:
    if args.which == "train":
        head = ["variant", "trainable / total", "peak MiB (first step)", "loaded MiB", "s / step"]
        rows = [[v, f"{r['trainable']:,} / {r['total']:,} ({100 * r['trainable'] / r['total']:.2f}%)",
                 r["peak_mib"], r["baseline_mib"], r["step_s"]] if "failed" not in r else [v, r["failed"], "", "", ""]
                for v, r in ((v, results[v]) for v in ("full", "lora"))]  # fmt: skip
        what = f"{args.model}, LoRA r={args.r} (alpha {2 * args.r}), {args.rows} x {args.length} tokens, AdamW"
    else:
        head = ["sync", "sync s", "rollout s", "sync + rollout s", "max |engine - trainer| log-prob"]
        rows = [[v, r["sync_s"], r["rollout_s"], r["sync_s"] + r["rollout_s"], r["max_logprob_gap"]]
                if "failed" not in r else [v, r["failed"], "", "", ""]
                for v, r in ((v, results[v]) for v in ("merged", "adapter"))]  # fmt: skip
        what = (f"{args.model}, LoRA r={args.r}, vLLM, {len(PROMPTS)} prompts x {args.samples} samples x "
                f"{args.max_new_tokens} tokens, median of {args.steps} steps")  # fmt: skip
    return f"# LoRA {args.which}: {what}\n\n{md_table(head, rows)}\n\n{machine_note(results['machine'])}\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--which", choices=("train", "sync"), default="train")
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--r", type=int, default=16, help="LoRA rank (alpha = 2r)")
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--length", type=int, default=256)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=4, help="sync: responses per prompt")
    p.add_argument("--max-new-tokens", type=int, default=48, help="sync: tokens per response")
    p.add_argument("--out", default="runs/bench")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        result = (train_child if args.which == "train" else sync_child)(args, args.child)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    return finish(Path(args.out), run(args))


if __name__ == "__main__":
    raise SystemExit(main())
