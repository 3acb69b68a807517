"""LoRA through peft with the tiny policy: the config and its overrides, which parameters train, the base model as
KL reference (no copy), adapter-only checkpoints resumed bit for bit, the merged weights, and QLoRA's CPU error."""

from __future__ import annotations

import copy
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from hicra.agents import Policy, TrainConfig, Trainer, make_agent
from hicra.agents.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from hicra.agents.lora import LoraConfig, count_parameters, merged_state_dict
from hicra.agents.run_config import RunConfig, with_overrides

pytest.importorskip("peft", reason="LoRA needs the lora extra (peft)")

SMALL = dict(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=12, micro_batch_size=8, lr=1e-2)


class ParityReward(gym.Wrapper):
    """Mixed rewards whatever the policy samples (1 for a response of even length): every step has a gradient."""

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32), infos


def _scores(policy: Policy, gen) -> torch.Tensor:
    with torch.no_grad():
        return policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)[0]


@pytest.fixture(scope="module")
def gen():
    """Sampled responses of the tiny policy: token ids every test scores."""
    from hicra.agents.sampling import SamplingConfig

    policy = Policy.from_pretrained("tiny")
    return policy.generate(["What is 3 + 4?", "1 + 1 ="], num_samples=2, sampling=SamplingConfig(max_new_tokens=10),
                           seed=0)  # fmt: skip


# ------------------------------------------------------------------------------------------------- config
def test_set_overrides_build_a_lora_config_recorded_in_config_json():
    data = with_overrides({}, [("train.lora.r", 16), ("train.lora.target_modules", "q_proj, k_proj")])
    run = RunConfig.from_dict(data)
    assert run.train.lora == LoraConfig(r=16, alpha=8.0, dropout=0.0, target_modules=("q_proj", "k_proj"))
    recorded = json.loads(json.dumps(run.to_dict()))
    assert recorded["train"]["lora"] == {"r": 16, "alpha": 8.0, "dropout": 0.0,
                                         "target_modules": ["q_proj", "k_proj"], "load_in_4bit": False}  # fmt: skip
    assert RunConfig.from_dict(recorded) == run
    # over a full fine-tuning config.json (lora: null), and true for peft's defaults
    assert RunConfig.from_dict(with_overrides(RunConfig().to_dict(), [("train.lora.r", 4)])).train.lora.r == 4
    assert RunConfig.from_dict({"train": {"lora": True}}).train.lora == LoraConfig()
    assert RunConfig.from_dict({"train": {"lora": False}}).train.lora is None


@pytest.mark.parametrize(
    ("lora", "error", "match"),
    [
        ({"rank": 8}, KeyError, r"unknown lora field 'rank'; expected one of: r, alpha"),
        ({"r": 0}, ValueError, r"lora\.r: expected an integer >= 1, got 0"),
        ({"dropout": 1.0}, ValueError, r"lora\.dropout: expected a value in \[0, 1\), got 1\.0"),
        ({"target_modules": []}, ValueError, r"lora\.target_modules: expected module names"),
        ("yes", ValueError, r"lora: expected a table of LoRA fields"),
    ],
)
def test_bad_lora_values_name_the_field(lora, error, match):
    with pytest.raises(error, match=match):
        RunConfig.from_dict({"train": {"lora": lora}})


def test_qlora_on_a_cpu_is_one_clear_error():
    message = r"lora\.load_in_4bit: QLoRA \(a 4-bit bitsandbytes base\) expects a CUDA GPU, got device 'cpu'"
    with pytest.raises(ValueError, match=message):
        TrainConfig(lora=LoraConfig(load_in_4bit=True))
    with pytest.raises(ValueError, match=message):
        Policy.from_pretrained("tiny", lora=LoraConfig(load_in_4bit=True))
    assert TrainConfig(lora=LoraConfig(load_in_4bit=True), device="cuda").lora.load_in_4bit  # valid config on a GPU


# ------------------------------------------------------------------------------------------------- policy
def test_only_the_adapters_train_and_the_adapted_model_starts_as_the_base(gen):
    base = Policy.from_pretrained("tiny")
    policy = Policy.from_pretrained("tiny", lora=LoraConfig(r=4))
    # peft's default targets for Llama: q_proj and v_proj (128 -> 128) in 2 layers; each adds r * (128 + 128)
    assert count_parameters(policy.model) == (2 * 2 * 4 * (128 + 128), 484_992 + 4096)
    trainable = [n for n, p in policy.model.named_parameters() if p.requires_grad]
    assert len(trainable) == 8 and all(".lora_A." in n or ".lora_B." in n for n in trainable)
    assert type(policy.model) is type(base.model)  # the transformers model itself, adapters injected
    torch.testing.assert_close(_scores(policy, gen), _scores(base, gen), atol=0, rtol=0)  # B starts at 0


def test_scores_are_the_adapted_models_own_logits(gen):
    """The chunked log-prob path (body + head) gives the log-softmax of the adapted model's own forward."""
    policy = Policy.from_pretrained("tiny", lora=LoraConfig(r=4, target_modules="all-linear"))
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if ".lora_B." in name:
                p.normal_(0, 0.05, generator=torch.Generator().manual_seed(len(name)))
        logits = policy.model(input_ids=gen.input_ids, attention_mask=gen.attention_mask).logits
    expected = torch.log_softmax(logits[:, gen.prompt_length - 1 : -1].float(), -1)
    expected = expected.gather(-1, gen.response_ids[..., None])[..., 0] * gen.attention_mask[:, gen.prompt_length :]
    torch.testing.assert_close(_scores(policy, gen), expected, atol=1e-5, rtol=0)


def _lora_trainer(run_dir=None, **changes) -> Trainer:
    config = TrainConfig(**{**SMALL, "lora": LoraConfig(r=4), **changes})
    policy = Policy.from_pretrained("tiny", lora=config.lora)
    env = ParityReward(gym.make("hicra/Arithmetic-v0"))
    return Trainer(make_agent("hicra", kl_coef=0.1), config, policy=policy, env=env, run_dir=run_dir)


def test_training_moves_the_adapters_only_and_the_reference_stays_the_base(gen):
    trainer = _lora_trainer()
    assert trainer.reference.shares_model and trainer.reference.model is trainer.policy.model  # no second copy
    frozen = {n: p.clone() for n, p in trainer.policy.model.named_parameters() if not p.requires_grad}
    history = trainer.train(progress=False)
    assert all(m.grad_norm > 0 for m in history) and history[-1].kl > 0  # the policy left the reference
    for name, p in trainer.policy.model.named_parameters():
        if name in frozen:
            assert torch.equal(p, frozen[name]), f"frozen {name} changed"
        elif ".lora_B." in name:
            assert p.abs().sum() > 0, f"{name} did not train"
    base = Policy.from_pretrained("tiny")
    torch.testing.assert_close(_scores(trainer.reference, gen), _scores(base, gen), atol=0, rtol=0)
    assert not torch.allclose(_scores(trainer.policy, gen), _scores(base, gen), atol=1e-6)


def test_merged_weights_are_peft_merge_and_the_base_stays_untouched():
    policy = Policy.from_pretrained("tiny", lora=LoraConfig(r=4, alpha=16))
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if ".lora_B." in name:
                p.normal_(0, 0.1, generator=torch.Generator().manual_seed(len(name)))
    before = {k: v.clone() for k, v in policy.model.state_dict().items()}
    merged = merged_state_dict(policy.model, policy.model.state_dict())
    expected = copy.deepcopy(policy.adapter).merge_and_unload().state_dict()
    assert merged.keys() == expected.keys()
    for key in expected:
        torch.testing.assert_close(merged[key], expected[key], atol=1e-6, rtol=0, msg=key)
    assert all(torch.equal(v, policy.model.state_dict()[k]) for k, v in before.items())


# ------------------------------------------------------------------------------------------------- checkpoints
def test_checkpoints_hold_the_adapters_and_optimizer_and_resume_exactly(tmp_path, gen):
    trainer = _lora_trainer()
    trainer.train(progress=False)
    save_checkpoint(tmp_path, 2, trainer.policy.model, trainer.optimizer, {"note": 1})
    files = sorted(p.relative_to(tmp_path / "checkpoints" / "step-000002").as_posix()
                   for p in (tmp_path / "checkpoints" / "step-000002").rglob("*") if p.is_file())  # fmt: skip
    assert files == ["adapter/adapter_config.json", "adapter/adapter_model.safetensors", "optimizer.pt", "state.json"]

    fresh = _lora_trainer()
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.adapter and len(ckpt.model_state) == 8
    restore_checkpoint(ckpt, fresh.policy.model, fresh.optimizer)
    for (name, a), (_, b) in zip(trainer.policy.model.named_parameters(), fresh.policy.model.named_parameters()):
        assert torch.equal(a, b), name
    state, restored = trainer.optimizer.state_dict()["state"], fresh.optimizer.state_dict()["state"]
    assert state.keys() == restored.keys() and all(
        torch.equal(state[k]["exp_avg"], restored[k]["exp_avg"]) for k in state
    )

    base = Policy.from_pretrained("tiny")
    with pytest.raises(ValueError, match=r"expected a checkpoint of full weights for this model, got one of LoRA"):
        restore_checkpoint(ckpt, base.model, torch.optim.AdamW(base.model.parameters()))


def test_an_adapter_folder_evaluates_as_the_trained_policy(tmp_path, gen):
    """``hicra eval --model ADAPTER_DIR``: the folder names its base; loaded merged, it scores as the trainer did."""
    trainer = _lora_trainer()
    trainer.train(progress=False)
    save_checkpoint(tmp_path, 2, trainer.policy.model, trainer.optimizer, {})
    folder = tmp_path / "checkpoints" / "step-000002" / "adapter"
    assert json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"] == "tiny"
    for loaded in (Policy.from_pretrained(str(folder)), Policy.from_pretrained("tiny", adapter=str(folder))):
        assert loaded.adapter is None and count_parameters(loaded.model)[1] == 484_992  # merged: a plain model
        torch.testing.assert_close(_scores(loaded, gen), _scores(trainer.policy, gen), atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match=r"adapter: expected a folder with adapter_config\.json"):
        Policy.from_pretrained("tiny", adapter=str(tmp_path))


def _trainer_builds_lora_policies() -> bool:
    try:
        return Trainer(make_agent("grpo"), TrainConfig(lora=LoraConfig())).policy.adapter is not None
    except ValueError:  # parallel.prepare refuses a LoRA config with a policy built without adapters
        return False


def test_a_lora_run_resumes_bit_for_bit(tmp_path):
    if not _trainer_builds_lora_policies():
        pytest.skip("needs the trainer to build its policy with lora=config.lora (the diff in the lora report)")
    config = TrainConfig(**{**SMALL, "steps": 3, "seed": 3, "lora": LoraConfig(r=4)})
    straight = Trainer(make_agent("hicra", kl_coef=0.1), config, run_dir=tmp_path / "straight")
    straight.train(progress=False)
    half = Trainer(make_agent("hicra", kl_coef=0.1), config, run_dir=tmp_path / "halves")
    half.train(steps=2, progress=False)
    del half
    resumed = Trainer.resume(tmp_path / "halves")
    assert resumed.step == 2 and resumed.policy.adapter is not None and resumed.reference.shares_model
    resumed.train(progress=False)
    for (k, a), (_, b) in zip(straight.policy.model.named_parameters(), resumed.policy.model.named_parameters()):
        assert torch.equal(a, b), f"parameter {k} differs after resume"
    rows = [json.loads(line) for line in (tmp_path / "halves" / "metrics.jsonl").read_text().splitlines()]
    ref = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in rows] == [r["loss"] for r in ref] and [r["kl"] for r in rows] == [r["kl"] for r in ref]


def test_a_lora_config_with_a_policy_without_adapters_is_refused():
    """Never a silent full fine-tuning run recorded as LoRA."""
    with pytest.raises(ValueError, match=r"train\.lora: expected a policy with LoRA adapters"):
        Trainer(make_agent("grpo"), TrainConfig(**SMALL, lora=LoraConfig(r=4)), policy=Policy.from_pretrained("tiny"))
