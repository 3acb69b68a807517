"""The GPU benchmark's CPU-checkable parts: architectures, parameter counts, the bandwidth bound, its table, and
the whole script on a two-layer model on CPU (it has not been run on a GPU)."""

from __future__ import annotations

import importlib.util
import json
import math
import re

import pytest
import torch

from hicra.benchmarks.gpu.architectures import (
    ARCHITECTURES,
    architecture,
    build_config,
    kv_bytes_per_token,
    param_count,
    weight_bytes_per_decode_step,
)
from hicra.benchmarks.gpu.bench_gpu import main, markdown, random_prompts, word_tokenizer
from hicra.benchmarks.gpu.bound import bandwidth_gb_s, decode_bound_tokens_per_s, mean_context

KNOWN_PARAMS = {  # the published totals of the real models
    "qwen2.5-1.5b": 1_543_714_304,
    "qwen2.5-7b": 7_615_616_512,
    "llama-3.1-8b": 8_030_261_248,
    "smollm2-135m": 134_515_008,
}


@pytest.mark.parametrize("name", sorted(KNOWN_PARAMS))
def test_architecture_builds_the_real_model_shape(name):
    from transformers import AutoModelForCausalLM

    config = build_config(name)
    with torch.device("meta"):  # no memory: shapes only
        model = AutoModelForCausalLM.from_config(config)
    assert type(model).__name__ == ARCHITECTURES[name]["architectures"][0]
    unique = {id(p): p.numel() for p in model.parameters()}  # tied embeddings once
    assert sum(unique.values()) == param_count(architecture(name)) == KNOWN_PARAMS[name]


def test_unknown_architecture_names_the_known_ones():
    with pytest.raises(KeyError, match=re.escape("unknown architecture 'qwen-1.5b'; expected one of: qwen2.5-1.5b")):
        architecture("qwen-1.5b")


def test_bytes_per_decode_step_by_hand():
    qwen, llama = architecture("qwen2.5-1.5b"), architecture("llama-3.1-8b")
    assert kv_bytes_per_token(qwen, 2) == 2 * 28 * 2 * 128 * 2 == 28_672
    assert kv_bytes_per_token(llama, 2) == 2 * 32 * 8 * 128 * 2
    assert weight_bytes_per_decode_step(qwen, 2) == 2 * 1_543_714_304  # tied: the embedding is the LM head
    assert weight_bytes_per_decode_step(llama, 2) == 2 * (8_030_261_248 - 128_256 * 4096)  # untied input embedding


def test_decode_bound_by_hand():
    assert mean_context(256, 1024) == 256 + 511.5
    assert mean_context(10, 1) == 10
    one = decode_bound_tokens_per_s(
        weight_bytes=10**9, kv_bytes_per_token=1000, batch=1, context=0, bandwidth_gb_s=1000
    )
    assert one == pytest.approx(1000.0)  # 1 TB/s over 1 GB of weights
    batch = decode_bound_tokens_per_s(
        weight_bytes=10**9, kv_bytes_per_token=1000, batch=10, context=100, bandwidth_gb_s=1000
    )
    assert batch == pytest.approx(10 * 1e12 / (1e9 + 10 * 100 * 1000))


def test_bandwidth_by_device_name_or_flag():
    assert bandwidth_gb_s("NVIDIA H200") == 4800
    assert bandwidth_gb_s("NVIDIA H100 80GB HBM3") == 3350
    assert bandwidth_gb_s("NVIDIA A100-SXM4-40GB MIG 3g.20gb") == 1555  # longest prefix, not "NVIDIA A10"
    assert bandwidth_gb_s("NVIDIA A10") == 600
    assert bandwidth_gb_s("Some Future GPU", 1234.0) == 1234.0
    with pytest.raises(KeyError, match="no memory bandwidth known for 'Some Future GPU': pass --bandwidth-gb-s"):
        bandwidth_gb_s("Some Future GPU")
    with pytest.raises(ValueError, match="expected GB/s > 0, got 0"):
        bandwidth_gb_s("NVIDIA H200", 0)


def test_word_tokenizer_keeps_every_token_whole():
    tok = word_tokenizer(300, eos_id=2)
    assert tok("<251> <2> <12>")["input_ids"] == [251, 2, 12]  # "<2>" never matches inside "<251>"
    assert tok.eos_token_id == tok.pad_token_id == 2
    prompts = random_prompts(300, 3, 5, seed=0, avoid={2})
    assert all(len(tok(p)["input_ids"]) == 5 and 2 not in tok(p)["input_ids"] for p in prompts)


def _hand_made_gpu_results() -> dict:
    phases = {
        "rollout_hf": {"seconds_s": 61.2, "generated_tokens": 262_144, "tokens_per_s": 4283.4,
                       "peak_gib": 14.2, "bound_tokens_per_s": 99_333.0, "of_bound_pct": 4.31},
        "logprobs": {"seconds_s": 7.71, "scored_tokens": 327_680, "tokens_per_s": 42_500.0, "peak_gib": 9.87},
        "update_hicra": {"seconds_s": 23.4, "trained_tokens": 262_144, "tokens_per_s": 11_203.0, "peak_gib": 31.5},
        "rollout_vllm": {"error": "EngineUnavailableError: engine 'vllm': the vllm package is not installed"},
    }  # fmt: skip
    return {"arch": "qwen2.5-1.5b", "params_count": 1_543_714_304, "device_name": "NVIDIA H100 80GB HBM3",
            "bandwidth_gb_s": 3350.0, "bandwidth_source": "table", "dtype": "bfloat16", "prompts": 32, "group": 8,
            "prompt_tokens": 256, "new_tokens": 1024, "micro": 8, "weight_bytes_per_step": 3_087_428_608,
            "kv_bytes_per_token": 28_672, "phases": phases, "torch": "2.13.0", "failed": None}  # fmt: skip


UNITS = {"s": "seconds_s", "tokens": "_tokens", "tokens/s": "tokens_per_s", "%": "_pct", "GiB": "_gib"}


def test_gpu_table_rows_carry_units_and_match_the_json():
    results = _hand_made_gpu_results()
    md = markdown(results)
    table = [line for line in md.splitlines() if line.startswith("|")]
    headers = [h.strip() for h in table[0].strip("|").split("|")]
    checked = 0
    for line in table[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for header, cell in zip(headers[1:], cells[1:]):
            if not re.fullmatch(r"[\d,.]+", cell):
                continue
            unit = re.findall(r"\(([^()]*)\)", header)[-1]
            value = float(cell.replace(",", ""))
            leaves = [v for p in results["phases"].values() for k, v in p.items() if k.endswith(UNITS[unit])]
            assert any(math.isclose(v, value, rel_tol=6e-3, abs_tol=0.5 if value >= 1000 else 0) for v in leaves), (
                f"{cells[0]}: {cell} under {header!r}"
            )
            checked += 1
    assert checked == 6 + 4 + 4  # rollout: all six columns; log-probs and update: no bound
    assert "| rollout, vllm engine | failed: EngineUnavailableError" in md
    assert "3,350 GB/s (table)" in md and "1,543,714,304 parameters in bfloat16" in md


def _smoke_args(out, engines: str, dtype: str) -> list[str]:
    return ["--arch", "test-llama", "--device", "cpu", "--dtype", dtype, "--prompts", "2", "--group", "2",
            "--prompt-tokens", "6", "--new-tokens", "5", "--micro", "2", "--engines", engines,
            "--bandwidth-gb-s", "100", "--out", str(out)]  # fmt: skip


def test_the_whole_script_runs_on_cpu_with_a_two_layer_model(tmp_path, capsys):
    assert main(_smoke_args(tmp_path, "hf", "bfloat16")) == 0
    results = json.loads((tmp_path / "gpu.json").read_text())
    phases = results["phases"]
    assert set(phases) == {"rollout_hf", "logprobs", "update_hicra"}
    generated = phases["rollout_hf"]["generated_tokens"]
    assert 0 < generated <= 2 * 2 * 5
    assert phases["logprobs"]["scored_tokens"] == 2 * 2 * 6 + generated  # prompts + responses
    assert phases["rollout_hf"]["bound_tokens_per_s"] > 0 and math.isfinite(phases["update_hicra"]["grad_norm"])
    assert (tmp_path / "gpu.md").read_text().startswith("# GPU benchmark: test-llama")


def test_script_refuses_cuda_without_a_gpu_and_bad_engines(capsys):
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            main(["--arch", "test-llama"])
        assert "no CUDA device here" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--engines", "vllm", "--device", "cpu"])
    assert "expected hf or hf,vllm, got vllm" in capsys.readouterr().err


@pytest.mark.vllm
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed here; see .venv-vllm")
def test_the_vllm_phase_runs_on_cpu(tmp_path):
    assert main(_smoke_args(tmp_path, "hf,vllm", "float32")) == 0
    phases = json.loads((tmp_path / "gpu.json").read_text())["phases"]
    assert "error" not in phases["rollout_vllm"], phases["rollout_vllm"]
    assert 0 < phases["rollout_vllm"]["generated_tokens"] <= 20
    assert phases["weight_push_vllm"]["seconds_s"] > 0
