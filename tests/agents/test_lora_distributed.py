"""LoRA under torch.distributed: 2 processes on CPU (gloo) launched by torchrun, under DDP and FSDP2.

Each layout trains a LoRA policy with a KL to its base (the same model, adapters disabled) for 2 steps, and resumes a
1-step run from its checkpoint (adapters and optimiser state only) to the same parameters bit for bit. Both layouts
see the same rollouts, so their adapters agree; the base weights never move.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .torchrun_launch import torchrun

pytest.importorskip("peft", reason="LoRA needs the lora extra (peft)")

WORKER = Path(__file__).with_name("lora_distributed_worker.py")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    out = {}
    for parallelism in ("ddp", "fsdp"):
        folder = tmp_path_factory.mktemp(f"lora_{parallelism}")
        proc = torchrun(str(WORKER), parallelism, str(folder))
        assert proc.returncode == 0, proc.stdout[-4000:]
        out[parallelism] = torch.load(folder / "result.pt", weights_only=False)
    return out


@pytest.mark.parametrize("parallelism", ["ddp", "fsdp"])
def test_lora_trains_the_adapters_with_a_kl_to_the_base(results, parallelism):
    from hicra.agents import Policy

    r = results[parallelism]
    assert len(r["trainable"]) == 8 and all(".lora_" in k for k in r["trainable"])
    (kl0, norm0, _), (kl1, norm1, _) = r["metrics"]
    assert kl0 == 0.0 and kl1 > 0 and norm0 > 0 and norm1 > 0  # step 0 samples the base itself
    base = dict(Policy.from_pretrained("tiny").model.named_parameters())
    for name, p in r["straight"].items():
        if name not in r["trainable"]:
            assert torch.equal(p, base[name.replace(".base_layer.", ".")]), name
        elif ".lora_B." in name:
            assert p.abs().sum() > 0, name


@pytest.mark.parametrize("parallelism", ["ddp", "fsdp"])
def test_lora_resumes_bit_for_bit_from_adapter_checkpoints(results, parallelism):
    r = results[parallelism]
    expected = {"ddp": ["adapter/adapter_config.json", "adapter/adapter_model.safetensors", "optimizer.pt"],
                "fsdp": ["dcp/.metadata"]}[parallelism]  # fmt: skip
    assert all(f in r["checkpoint"] for f in expected) and "model.pt" not in r["checkpoint"]
    for name, p in r["straight"].items():
        assert torch.equal(p, r["resumed"][name]), name


def test_ddp_and_fsdp2_train_the_same_adapters(results):
    for name, p in results["ddp"]["straight"].items():
        torch.testing.assert_close(p, results["fsdp"]["straight"][name], atol=1e-6, rtol=1e-5, msg=name)
