"""The LoRA GPU benchmark's script, whole, on a two-layer model on CPU (it has not been run on a GPU): full
fine-tuning and LoRA rows with hand-counted parameters, and QLoRA's row failing with its GPU-only error."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("peft", reason="LoRA needs the lora extra (peft)")


@pytest.mark.slow  # three fresh processes: about 100 s on 2 busy cores
def test_the_lora_gpu_benchmark_runs_on_cpu_on_a_two_layer_model(tmp_path):
    from hicra.benchmarks.gpu.bench_lora_gpu import main

    argv = ["--arch", "test-llama", "--device", "cpu", "--dtype", "float32", "--variants", "full,lora,qlora",
            "--engines", "hf", "--prompts", "2", "--group", "2", "--prompt-tokens", "8", "--new-tokens", "4",
            "--micro", "2", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 1  # qlora fails on a CPU
    results = json.loads((tmp_path / "gpu_lora.json").read_text())
    full, lora, qlora = results["full"], results["lora"], results["qlora"]
    assert full["trainable"] == full["total"] == results["params_count"]
    # peft's q_proj (128 -> 128) and v_proj (128 -> 2 kv heads x 32 = 64) in 2 layers at r=16
    assert lora["trainable"] == 2 * 16 * ((128 + 128) + (128 + 64))
    assert lora["total"] == full["total"] + lora["trainable"]
    assert lora["update_hicra"]["seconds_s"] > 0 and lora["rollout_hf"]["generated_tokens"] == 2 * 2 * 4
    assert "expects a CUDA GPU" in qlora["error"] and results["failed"] == ["qlora"]
    table = (tmp_path / "gpu_lora.md").read_text()
    assert "| lora | 14,336 / " in table and "| qlora | failed: " in table
