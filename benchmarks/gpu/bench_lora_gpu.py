"""One GPU: full fine-tuning, LoRA and QLoRA of a 7B-shaped model (random weights), side by side.

    python -m hicra.benchmarks.gpu.bench_lora_gpu [--arch qwen2.5-7b] [--variants full,lora,qlora] [--r 16]
        [--out runs/gpu]

**Not yet run on a GPU** (written where none was available; the whole script runs on CPU on a two-layer model in
``tests/benchmarks/test_gpu_lora.py``). Each variant runs in a fresh process, so its peak memory is its own:

- ``full``: every weight trains (bf16 parameters, AdamW state in bf16);
- ``lora``: peft adapters (``--r``, alpha 2r, peft's default target modules) on the bf16 base;
- ``qlora``: the same adapters on a 4-bit NF4 base (transformers' ``BitsAndBytesConfig``, bitsandbytes): the random
  model is saved to a temporary folder first and loaded back quantised, through ``Policy.from_pretrained``.

For each: trainable / total parameters, weights' memory, an ``hf`` rollout (``prompts x group`` responses of
``new_tokens``), one HICRA update on it (``Trainer.update``: seconds, peak allocated GiB) and, for ``full`` and
``lora`` with vLLM installed, the weight push into a vLLM engine (``lora``: merged; the engine starts from dummy
weights). A variant that runs out of memory is reported as such. Writes ``<out>/gpu_lora.json`` and
``<out>/gpu_lora.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from ..perf.report import BenchResult, finish, md_table
from .architectures import architecture, param_count
from .bench_gpu import build_policy, measure_rollout, measure_update, random_prompts, timed

VARIANTS = ("full", "lora", "qlora")


def load_variant(variant: str, args):
    """The policy of ``variant``: random weights of ``args.arch`` on ``args.device``, with adapters for LoRA."""
    from hicra.agents.lora import LoraConfig, add_lora

    policy = build_policy(args.arch, args.device, args.dtype, args.seed)
    if variant == "full":
        return policy
    lora = LoraConfig(r=args.r, alpha=2.0 * args.r, load_in_4bit=variant == "qlora")
    if variant == "lora":
        peft_model = add_lora(policy.model, lora, base_name=args.arch)
        policy.adapter = peft_model
        return policy
    from hicra.agents import Policy

    folder = tempfile.mkdtemp(prefix="hicra-qlora-")
    policy.model.save_pretrained(folder)
    policy.tokenizer.save_pretrained(folder)
    del policy
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return Policy.from_pretrained(folder, device=args.device, dtype=args.dtype, lora=lora)


def measure_variant(variant: str, args) -> dict:
    """Every phase of one variant (in this process)."""
    from hicra.agents.lora import count_parameters

    device = torch.device(args.device)
    policy, load_s, load_peak = timed(lambda: load_variant(variant, args), device)
    trainable, total = count_parameters(policy.model)
    arch = architecture(args.arch)
    prompts = random_prompts(arch["vocab_size"], args.prompts, args.prompt_tokens, args.seed, set(policy.eos_token_ids))
    out = {"trainable": trainable, "total": total, "load_s": load_s, "load_peak_gib": load_peak}
    out["rollout_hf"], gen = measure_rollout(policy, prompts, args)
    out["update_hicra"] = measure_update(policy, gen, args)
    if "vllm" in args.engines and variant != "qlora":
        out["weight_push_vllm"] = measure_push(policy, args)
    return out


def measure_push(policy, args) -> dict:
    """A vLLM engine with the model's shape (``load_format="dummy"``: no weights written to disk), then the median of
    three pushes of the trainer's weights (LoRA: merged)."""
    try:
        folder = tempfile.mkdtemp(prefix="hicra-vllm-")
        policy.model.config.save_pretrained(folder)
        policy.tokenizer.save_pretrained(folder)
        policy.path = folder
        options = {"max_model_len": args.prompt_tokens + args.new_tokens + 16, "llm_options": {"load_format": "dummy"}}
        options.update({"gpu_memory_utilization": args.vllm_memory} if policy.device.type == "cuda" else {})
        policy.use_engine("vllm", **options)
        pushes = sorted(timed(lambda: policy.engine.load_weights(policy.model), policy.device)[1] for _ in range(3))
        return {"seconds_s": pushes[1]}
    except Exception as err:  # vLLM missing or failing: report it, keep the rest
        return {"error": f"{type(err).__name__}: {err}".splitlines()[0]}


def _child(variant: str, args) -> dict:
    argv = [sys.executable, "-m", "hicra.benchmarks.gpu.bench_lora_gpu", "--child", variant]
    for key, value in vars(args).items():
        if key not in ("child", "out", "variants", "engines"):
            argv += [f"--{key.replace('_', '-')}", str(value)]
    argv += ["--engines", ",".join(args.engines), "--variants", variant]
    proc = subprocess.run(argv, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": "out of memory" if "OutOfMemory" in proc.stderr else f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1][len("RESULT ") :])


def markdown(results: dict) -> str:
    headers = ["variant", "trainable / total", "update s", "update peak GiB", "rollout tokens/s", "vLLM push s"]
    rows = []
    for variant in results["variants"]:
        r = results[variant]
        if "error" in r:
            rows.append([variant, "failed: " + r["error"], "", "", "", ""])
            continue
        push = r.get("weight_push_vllm", {})
        rows.append([variant, f"{r['trainable']:,} / {r['total']:,}", r["update_hicra"]["seconds_s"],
                     r["update_hicra"]["peak_gib"] if r["update_hicra"]["peak_gib"] is not None else "n/a",
                     r["rollout_hf"]["tokens_per_s"], push.get("seconds_s", push.get("error", "n/a"))])  # fmt: skip
    a = results["args"]
    return "\n".join([
        f"# LoRA on one GPU: {a['arch']} ({results['params_count']:,} parameters, random weights) on "
        f"{results['device_name']}", "",
        f"{a['dtype']}; LoRA r={a['r']}, alpha {2 * a['r']}; {a['prompts']} prompts x {a['group']} responses of up to "
        f"{a['new_tokens']} tokens after {a['prompt_tokens']}-token prompts, micro-batch {a['micro']}.", "",
        md_table(headers, rows),
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="qwen2.5-7b", help="architecture (default qwen2.5-7b)")
    p.add_argument("--variants", default="full,lora,qlora", help=f"comma-separated among {', '.join(VARIANTS)}")
    p.add_argument("--r", type=int, default=16, help="LoRA rank (alpha = 2r)")
    p.add_argument("--device", default="cuda", help="torch device (default cuda; cpu only for a smoke test)")
    p.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float32"))
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--prompt-tokens", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=512)
    p.add_argument("--micro", type=int, default=4)
    p.add_argument("--engines", default="hf,vllm", help="hf, or hf,vllm (default): vllm times the weight push")
    p.add_argument("--vllm-memory", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/gpu"))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    variants = [v for v in args.variants.split(",") if v]
    if not variants or not set(variants) <= set(VARIANTS):
        p.error(f"--variants: expected some of {', '.join(VARIANTS)}, got {args.variants}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error("no CUDA device here: this benchmark is for a GPU (pass --device cpu for a smoke test)")
    if args.child:
        print("RESULT " + json.dumps(measure_variant(args.child, args)), flush=True)
        return 0
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{device.type} (no GPU)"
    results = {"args": {k: v for k, v in vars(args).items() if k not in ("child", "out")}, "variants": variants,
               "params_count": param_count(architecture(args.arch)), "device_name": name}  # fmt: skip
    results.update({v: _child(v, args) for v in variants})
    results["failed"] = [v for v in variants if "error" in results[v]] or None
    return finish(args.out, BenchResult("gpu_lora", results, markdown(results)))


if __name__ == "__main__":
    raise SystemExit(main())
