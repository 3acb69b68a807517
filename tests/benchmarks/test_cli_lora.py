"""The command line with LoRA: ``hicra train --set train.lora.r=...`` prints trainable / total parameters and writes
adapter checkpoints; ``hicra eval`` takes an adapter folder as ``--model``, or a base model and ``--adapter``."""

from __future__ import annotations

import json

import pytest

from hicra.agents.lora import LoraConfig

pytest.importorskip("peft", reason="LoRA needs the lora extra (peft)")

SMALL = ("prompts_per_step=2", "group_size=4", "max_new_tokens=8", "micro_batch_size=8")
SETS = [arg for item in SMALL for arg in ("--set", f"train.{item}")]


def _tiny():
    from hicra.agents.policy import Policy

    return Policy.from_pretrained("tiny")


def test_the_parameters_line_counts_by_hand():
    from hicra.benchmarks.cli.train import parameters_line

    model = _tiny().model
    assert parameters_line(model, None) == "parameters: 484,992 trainable of 484,992 (100.00%), full fine-tuning"
    from hicra.agents.lora import add_lora

    add_lora(model, LoraConfig(r=4))  # q_proj, v_proj (128 -> 128) in 2 layers: 4 x 4 x 256 = 4,096
    line = "parameters: 4,096 trainable of 489,088 (0.84%), LoRA r=4, alpha=8 on peft's default modules"
    assert parameters_line(model, LoraConfig(r=4)) == line


def test_train_with_lora_prints_parameters_and_saves_an_adapter_that_eval_reads(tmp_path, capsys, eval_data):
    from hicra.agents import TrainConfig, Trainer, make_agent
    from hicra.benchmarks.cli import main

    try:
        built = Trainer(make_agent("grpo"), TrainConfig(lora=LoraConfig())).policy.adapter is not None
    except ValueError:  # parallel.prepare refuses a LoRA config with a policy built without adapters
        built = False
    if not built:
        pytest.skip("needs the trainer to build its policy with lora=config.lora (the diff in the lora report)")
    run = tmp_path / "run"
    argv = ["train", "--model", "tiny", "--steps", "1", "--set", "train.lora.r=4", *SETS, "--out", str(run), "-q"]
    assert main(argv) == 0
    assert "parameters: 4,096 trainable of 489,088 (0.84%), LoRA r=4" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["train"]["lora"]["r"] == 4
    adapter = run / "checkpoints" / "step-000001" / "adapter"
    assert (adapter / "adapter_config.json").is_file() and not (adapter.parent / "model.pt").exists()

    base = ["eval", "--suite", "gsm8k", "--data-dir", str(eval_data), "--limit", "1", "--n", "1", "--k", "1",
            "--max-new-tokens", "8", "--device", "cpu", "-q"]  # fmt: skip
    assert main([*base, "--model", str(adapter), "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--model", "tiny", "--adapter", str(adapter), "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / x / "gsm8k" / "samples.jsonl").read_text().splitlines()[0]) for x in "ab")
    assert a["response"] == b["response"]  # the same merged model, the same seeds
    assert json.loads((tmp_path / "b" / "gsm8k" / "run.json").read_text())["adapter"] == str(adapter)
    assert main([*base, "--model", "tiny", "--adapter", str(tmp_path), "--out", str(tmp_path / "c")]) == 2
    assert "adapter: expected a folder with adapter_config.json" in capsys.readouterr().err
