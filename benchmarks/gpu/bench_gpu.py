"""One GPU, no internet: rollout, log-prob pass, one bf16 HICRA update and the bandwidth bound, for a real
architecture with random weights.

    python -m hicra.benchmarks.gpu.bench_gpu [--arch qwen2.5-1.5b] [--engines hf,vllm] [--out runs/gpu]

**Not yet run on a GPU.** It was written where no CUDA machine was available; its CPU-checkable parts (the
architectures and their parameter counts, the bound arithmetic, the bandwidth table, the Markdown table, and
the whole script on a two-layer model on CPU) are tested in ``tests/benchmarks/test_gpu.py``; the vLLM path is
exercised on CPU by a ``vllm``-marked test. Run it by hand on a CUDA machine (``make install-vllm
TORCH_SPEC=torch VLLM_SPEC=vllm``, or the ``vllm`` extra); nothing is downloaded.

It builds the model from its config dict (:mod:`.architectures`; Qwen2.5-1.5B by default) with random weights in
bfloat16 on the GPU, and a word-level tokenizer over the same vocabulary (token ``i`` is the word ``<i>``), so
prompts are random token sequences of an exact length. Then, each timed after a warm-up, with CUDA synchronised:

1. rollout with the ``hf`` engine: ``prompts x group`` responses of up to ``new_tokens`` tokens (a random model
   almost never samples EOS, so responses run to the cap), generated tokens/s;
2. the log-prob pass (``Policy.score``: no grad, with entropy, ``micro`` rows at a time) over those responses;
3. one HICRA update on them (``Trainer.update``: bf16 parameters, AdamW, token-mean clipped loss, random 0/1
   rewards and a random 20% planning mask);
4. rollout with the ``vllm`` engine (the model saved to a temporary folder, then the trainer's weights pushed in;
   the push is timed too);
5. for each rollout, the memory-bandwidth bound of :mod:`.bound` with the GPU's bandwidth from
   :data:`~.bound.BANDWIDTH_GB_S` (keyed by ``torch.cuda.get_device_name()``) or ``--bandwidth-gb-s``.

Peak memory is ``torch.cuda.max_memory_allocated`` per phase (for the vLLM rollout it includes the KV cache vLLM
reserves, ``--vllm-memory`` of the GPU). Writes ``<out>/gpu.json`` and ``<out>/gpu.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from ..perf.report import BenchResult, finish, md_table
from .architectures import architecture, build_config, kv_bytes_per_token, param_count, weight_bytes_per_decode_step
from .bound import bandwidth_gb_s, decode_bound_tokens_per_s, mean_context

DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def word_tokenizer(vocab_size: int, eos_id: int):
    """An offline tokenizer whose token ``i`` is the word ``<i>``; EOS and pad are ``<eos_id>`` (the brackets keep
    a special token from matching inside another word, as ``t2`` would inside ``t251``)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(WordLevel({f"<{i}>": i for i in range(vocab_size)}, unk_token=f"<{eos_id}>"))
    backend.pre_tokenizer = WhitespaceSplit()
    eos = f"<{eos_id}>"
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=eos, pad_token=eos, unk_token=eos)


def build_policy(arch_name: str, device: str, dtype: str, seed: int):
    """A :class:`~hicra.agents.Policy` of architecture ``arch_name`` with random weights (seeded) on ``device``."""
    from transformers import AutoModelForCausalLM

    from hicra.agents import Policy

    config = build_config(arch_name)
    torch.manual_seed(seed)
    with torch.device(device):  # initialised where it runs: an 8B model never passes through host memory
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype)).eval()
    return Policy(model, word_tokenizer(config.vocab_size, architecture(arch_name)["eos_token_id"]))


def random_prompts(vocab_size: int, count: int, length: int, seed: int, avoid: set[int]) -> list[str]:
    """``count`` prompts of exactly ``length`` tokens, never a token in ``avoid`` (EOS)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(vocab_size, (count, length), generator=gen)
    ids[torch.isin(ids, torch.tensor(sorted(avoid)))] = next(i for i in range(vocab_size) if i not in avoid)
    return [" ".join(f"<{i}>" for i in row) for row in ids.tolist()]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device) -> tuple[object, float, float | None]:
    """``(fn(), seconds, peak GiB allocated on the GPU during it, None elsewhere)``."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return out, seconds, peak


def measure_rollout(policy, prompts: list[str], args) -> tuple[dict, object]:
    """Warm-up, then one timed ``Policy.generate`` of ``group`` responses per prompt with the current engine."""
    from hicra.agents.sampling import SamplingConfig

    policy.generate(prompts[:2], num_samples=2, sampling=SamplingConfig(max_new_tokens=8), seed=1)
    sampling = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=args.new_tokens)
    gen, seconds, peak = timed(
        lambda: policy.generate(prompts, num_samples=args.group, sampling=sampling, seed=args.seed), policy.device
    )
    tokens = int(gen.response_mask.sum())
    return {"seconds_s": seconds, "generated_tokens": tokens, "tokens_per_s": tokens / seconds, "peak_gib": peak}, gen


def measure_logprobs(policy, gen, args) -> dict:
    """The no-grad log-prob + entropy pass over the rollout, ``micro`` rows at a time."""
    fn = lambda: policy.score(gen.input_ids, gen.attention_mask, gen.prompt_length, temperature=1.0,  # noqa: E731
                              micro_batch_size=args.micro)  # fmt: skip
    _, seconds, peak = timed(fn, policy.device)
    tokens = int(gen.attention_mask.sum())
    return {"seconds_s": seconds, "scored_tokens": tokens, "tokens_per_s": tokens / seconds, "peak_gib": peak}


def synthetic_batch(gen, seed: int, planning_share: float = 0.2):
    """A :class:`RolloutBatch` of the rollout with random 0/1 rewards and a random planning mask."""
    from hicra.agents.rollout import RolloutBatch

    g = torch.Generator().manual_seed(seed)
    n, t = gen.response_ids.shape
    rewards = torch.randint(2, (n,), generator=g).float()
    planning = (torch.rand(n, t, generator=g) < planning_share).to(gen.response_mask.device) & gen.response_mask
    return RolloutBatch(
        input_ids=gen.input_ids, attention_mask=gen.attention_mask, prompt_length=gen.prompt_length,
        response_ids=gen.response_ids, response_mask=gen.response_mask, group_ids=gen.prompt_index,
        rewards=rewards, correct=rewards.bool(), sampler_logprobs=gen.logprobs, planning_mask=planning,
        texts=tuple(gen.texts), problem_ids=tuple(str(int(i)) for i in gen.prompt_index),
    )  # fmt: skip


def measure_update(policy, gen, args) -> dict:
    """One HICRA optimiser step (``Trainer.update``) on the rollout, parameters in the policy's dtype. The trainer
    and its optimiser state are freed on return, before vLLM takes its share of the GPU."""
    from hicra.agents import TrainConfig, Trainer, make_agent

    config = TrainConfig(
        device=str(policy.device), dtype=args.dtype, prompts_per_step=args.prompts, group_size=args.group,
        max_new_tokens=args.new_tokens, micro_batch_size=args.micro,
    )  # fmt: skip
    trainer = Trainer(make_agent("hicra"), config, policy=policy)
    batch = synthetic_batch(gen, args.seed)
    credit = trainer.agent.credit(batch, torch.Generator().manual_seed(args.seed))
    result, seconds, peak = timed(lambda: trainer.update(batch, credit), policy.device)
    policy.model.zero_grad(set_to_none=True)  # the gradients too
    tokens = int(gen.response_mask.sum())
    return {"seconds_s": seconds, "trained_tokens": tokens, "tokens_per_s": tokens / seconds, "peak_gib": peak,
            "loss": float(result.loss), "grad_norm": float(result.grad_norm)}  # fmt: skip


def measure_vllm(policy, prompts: list[str], args) -> tuple[dict, dict]:
    """The model saved to a temporary folder, a vLLM engine on it, the trainer's weights pushed; then the rollout
    and the median of three timed pushes."""
    with tempfile.TemporaryDirectory() as folder:
        policy.model.save_pretrained(folder)
        policy.tokenizer.save_pretrained(folder)
        policy.path = folder
        if policy.device.type == "cuda":
            torch.cuda.empty_cache()
        options = {"max_model_len": args.prompt_tokens + args.new_tokens + 16}
        options.update({"gpu_memory_utilization": args.vllm_memory} if policy.device.type == "cuda" else {})
        policy.use_engine("vllm", **options)
        rollout, _ = measure_rollout(policy, prompts, args)
    pushes = sorted(timed(lambda: policy.engine.load_weights(policy.model), policy.device)[1] for _ in range(3))
    return rollout, {"seconds_s": pushes[1]}


def bound(arch: dict, args, tokens_per_s: float, bandwidth: float | None) -> dict:
    """The bandwidth bound of a rollout of this shape, and the measured share of it (see :mod:`.bound`)."""
    if bandwidth is None:
        return {}
    b = DTYPE_BYTES[args.dtype]
    limit = decode_bound_tokens_per_s(
        weight_bytes=weight_bytes_per_decode_step(arch, b), kv_bytes_per_token=kv_bytes_per_token(arch, b),
        batch=args.prompts * args.group, context=mean_context(args.prompt_tokens, args.new_tokens),
        bandwidth_gb_s=bandwidth,
    )  # fmt: skip
    return {"bound_tokens_per_s": limit, "of_bound_pct": 100 * tokens_per_s / limit}


def run(args) -> BenchResult:
    """Every phase in order (hf rollout, log-prob pass, HICRA update, then vLLM); the results and their table."""
    device, arch = torch.device(args.device), architecture(args.arch)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{device.type} (no GPU)"
    bandwidth = bandwidth_gb_s(name, args.bandwidth_gb_s) if device.type == "cuda" or args.bandwidth_gb_s else None
    policy = build_policy(args.arch, args.device, args.dtype, args.seed)
    prompts = random_prompts(arch["vocab_size"], args.prompts, args.prompt_tokens, args.seed, set(policy.eos_token_ids))
    phases: dict[str, dict] = {}
    phases["rollout_hf"], gen = measure_rollout(policy, prompts, args)
    phases["rollout_hf"].update(bound(arch, args, phases["rollout_hf"]["tokens_per_s"], bandwidth))
    phases["logprobs"] = measure_logprobs(policy, gen, args)
    phases["update_hicra"] = measure_update(policy, gen, args)
    del gen
    if "vllm" in args.engines:
        try:
            phases["rollout_vllm"], phases["weight_push_vllm"] = measure_vllm(policy, prompts, args)
            phases["rollout_vllm"].update(bound(arch, args, phases["rollout_vllm"]["tokens_per_s"], bandwidth))
        except Exception as err:  # vLLM missing or failing: report it, keep the rest
            phases["rollout_vllm"] = {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
    b = DTYPE_BYTES[args.dtype]
    results = {
        "arch": args.arch, "params_count": param_count(arch), "device_name": name, "bandwidth_gb_s": bandwidth,
        "bandwidth_source": "--bandwidth-gb-s" if args.bandwidth_gb_s else "table", "dtype": args.dtype,
        "prompts": args.prompts, "group": args.group, "prompt_tokens": args.prompt_tokens,
        "new_tokens": args.new_tokens, "micro": args.micro,
        "weight_bytes_per_step": weight_bytes_per_decode_step(arch, b),
        "kv_bytes_per_token": kv_bytes_per_token(arch, b), "phases": phases, "torch": torch.__version__,
        "failed": None,
    }  # fmt: skip
    return BenchResult("gpu", results, markdown(results))


PHASES = (
    ("rollout_hf", "rollout, hf engine (transformers forward + KV cache)"),
    ("rollout_vllm", "rollout, vllm engine"),
    ("weight_push_vllm", "weight push into vLLM (median of 3)"),
    ("logprobs", "log-prob pass (no grad, with entropy)"),
    ("update_hicra", "one HICRA update (forward + backward + AdamW)"),
)


def _cell(value: float | None, digits: str = ".3g") -> str:
    return "n/a" if value is None else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:{digits}}"


def markdown(results: dict) -> str:
    """The table of :func:`run`'s results: each phase's time, tokens, throughput, bound and peak memory."""
    r = results
    rows = []
    for key, label in PHASES:
        p = r["phases"].get(key)
        if p is None:
            continue
        if "error" in p:
            rows.append([label, "failed: " + p["error"], "", "", "", "", ""])
            continue
        tokens = next((p[k] for k in ("generated_tokens", "scored_tokens", "trained_tokens") if k in p), None)
        values = (p["seconds_s"], tokens, p.get("tokens_per_s"), p.get("bound_tokens_per_s"), p.get("of_bound_pct"),
                  p.get("peak_gib"))  # fmt: skip
        rows.append([label, *map(_cell, values)])
    headers = ["phase", "time (s)", "tokens (tokens)", "throughput (tokens/s)", "bandwidth bound (tokens/s)",
               "of the bound (%)", "peak allocated (GiB)"]  # fmt: skip
    bw = "n/a" if r["bandwidth_gb_s"] is None else f"{r['bandwidth_gb_s']:,.0f} GB/s ({r['bandwidth_source']})"
    return "\n".join([
        f"# GPU benchmark: {r['arch']} with random weights on {r['device_name']}", "",
        f"{r['params_count']:,} parameters in {r['dtype']}; {r['prompts']} prompts x {r['group']} responses, prompts "
        f"of {r['prompt_tokens']} tokens, up to {r['new_tokens']} new tokens, micro-batch {r['micro']}; torch "
        f"{r['torch']}; memory bandwidth {bw}.", "",
        md_table(headers, rows), "",
        f"Bound: each decode step reads {r['weight_bytes_per_step'] / 1e9:.3g} GB of weights and "
        f"{r['kv_bytes_per_token']:,} bytes of KV cache per token of context per sequence (see "
        "`hicra.benchmarks.gpu.bound`); it ignores compute and the prefill, so it is an upper bound.",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="qwen2.5-1.5b", help="architecture (default qwen2.5-1.5b)")
    p.add_argument("--device", default="cuda", help="torch device (default cuda; cpu only for a smoke test)")
    p.add_argument("--dtype", default="bfloat16", choices=sorted(DTYPE_BYTES), help="parameter dtype")
    p.add_argument("--prompts", type=int, default=32, help="prompts per batch (default 32)")
    p.add_argument("--group", type=int, default=8, help="responses per prompt (default 8)")
    p.add_argument("--prompt-tokens", type=int, default=256, help="tokens per prompt (default 256)")
    p.add_argument("--new-tokens", type=int, default=1024, help="most new tokens per response (default 1024)")
    p.add_argument("--micro", type=int, default=8, help="rows per log-prob/update micro-batch (default 8)")
    p.add_argument("--engines", default="hf,vllm", help="hf, or hf,vllm (default); hf makes the batch")
    p.add_argument("--vllm-memory", type=float, default=0.4, help="vLLM's share of GPU memory (default 0.4)")
    p.add_argument("--bandwidth-gb-s", type=float, help="memory bandwidth in GB/s (default: by device name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/gpu"), help="folder for gpu.json and gpu.md")
    args = p.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    if "hf" not in args.engines or not set(args.engines) <= {"hf", "vllm"}:
        p.error(f"--engines: expected hf or hf,vllm, got {','.join(args.engines)}")
    try:
        architecture(args.arch)
    except KeyError as err:
        p.error(str(err.args[0]))
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error("no CUDA device here: this benchmark is for a GPU (pass --device cpu for a smoke test)")
    try:
        result = run(args)
    except KeyError as err:  # a GPU missing from the bandwidth table
        p.error(str(err.args[0]))
    return finish(args.out, result)


if __name__ == "__main__":
    raise SystemExit(main())
