"""Scoring log-probs reproduce the model's own logits: final-logit softcapping (Gemma 2), logit scaling (Cohere,
Granite), and a clear refusal of post-processing hicra does not know."""

from __future__ import annotations

import pytest
import torch
import transformers

from hicra.agents.policy import Policy
from hicra.agents.tiny_training import train_tokenizer

CORPUS = [f"What is {a} + {b}? {a + b}." for a in range(20) for b in range(20)]
SMALL = dict(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
             num_key_value_heads=2, max_position_embeddings=128)  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(CORPUS, vocab_size=300)


def _model(config_cls, model_cls, tokenizer, **extra):
    config = config_cls(**{**SMALL, "vocab_size": len(tokenizer)}, **extra)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = model_cls(config)
        with torch.no_grad():  # large output weights, so the post-processing changes the log-probs visibly
            model.get_output_embeddings().weight.mul_(50.0)
    return model.eval()


def _reference(model, ids):
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    return torch.log_softmax(logits[:, 3:-1], dim=-1).gather(-1, ids[:, 4:, None]).squeeze(-1)


def _bare(model, ids):
    with torch.no_grad():
        logits = model.get_output_embeddings()(model.base_model(input_ids=ids).last_hidden_state).float()
    return torch.log_softmax(logits[:, 3:-1], dim=-1).gather(-1, ids[:, 4:, None]).squeeze(-1)


CASES = {
    "gemma2-softcap": ("Gemma2Config", "Gemma2ForCausalLM", {"final_logit_softcapping": 2.0, "head_dim": 16}),
    "cohere-logit_scale": ("CohereConfig", "CohereForCausalLM", {"logit_scale": 0.05}),
    "granite-logits_scaling": ("GraniteConfig", "GraniteForCausalLM", {"logits_scaling": 16.0}),
}


@pytest.mark.parametrize("case", CASES)
def test_scoring_applies_the_models_logit_processing(case, tokenizer):
    config_name, model_name, extra = CASES[case]
    model = _model(getattr(transformers, config_name), getattr(transformers, model_name), tokenizer, **extra)
    policy = Policy(model, tokenizer)
    ids = torch.tensor([tokenizer("What is 3 + 4? 7.")["input_ids"]])
    mask = torch.ones_like(ids)
    logp, _ = policy.token_logprobs(ids, mask, 4)
    expected = _reference(model, ids)
    assert not torch.allclose(_bare(model, ids), expected, atol=1e-3)  # the bare head would be wrong
    torch.testing.assert_close(logp, expected, atol=1e-5, rtol=1e-5)


class ScaledLlama(transformers.LlamaForCausalLM):
    """A model whose forward post-processes logits in a way hicra does not know."""

    def forward(self, *args, **kwargs):
        out = super().forward(*args, **kwargs)
        out.logits = out.logits * 3.0 + 1.0
        return out


def test_unknown_logit_processing_is_refused_at_load(tokenizer):
    model = _model(transformers.LlamaConfig, ScaledLlama, tokenizer)
    with pytest.raises(ValueError, match="ScaledLlama: its forward post-processes the logits"):
        Policy(model, tokenizer)
