"""The sampler draws exactly from softmax(logits / T), cut only by the top-k / top-p asked for."""

from __future__ import annotations

import math

import pytest
import torch

from hicra.agents.sampling import SamplingConfig, sample_tokens, sampling_logprobs

# probabilities 0.1, 0.2, 0.3, 0.4 at T = 1
LOGITS = torch.log(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))


def probs(sampling: SamplingConfig) -> list[float]:
    return [round(p, 6) for p in sampling_logprobs(LOGITS, sampling).exp()[0].tolist()]


def test_full_softmax_by_default():
    assert probs(SamplingConfig()) == [0.1, 0.2, 0.3, 0.4]


def test_temperature_divides_logits():
    root = [math.sqrt(k) for k in (1, 2, 3, 4)]
    assert probs(SamplingConfig(temperature=2.0)) == [round(r / sum(root), 6) for r in root]


@pytest.mark.parametrize(
    ("top_p", "expected"),
    [
        (0.35, [0, 0, 0, 1.0]),  # the top token alone reaches 0.35
        (0.5, [0, 0, 3 / 7, 4 / 7]),  # 0.4 < 0.5: the token that crosses (0.3) is kept
        (0.65, [0, 0, 3 / 7, 4 / 7]),  # two tokens pass it
        (0.75, [0, 2 / 9, 3 / 9, 4 / 9]),
        (0.05, [0, 0, 0, 1.0]),  # never empty
    ],
)
def test_top_p_keeps_the_smallest_top_set_reaching_p_and_renormalises(top_p, expected):
    assert probs(SamplingConfig(top_p=top_p)) == [round(e, 6) for e in expected]


def test_top_k_keeps_the_k_most_likely():
    assert probs(SamplingConfig(top_k=2)) == [0, 0, round(3 / 7, 6), round(4 / 7, 6)]
    assert probs(SamplingConfig(top_k=10)) == [0.1, 0.2, 0.3, 0.4]


def test_greedy_takes_argmax_with_its_full_softmax_logprob():
    tokens, logp = sample_tokens(LOGITS, SamplingConfig(temperature=0))
    assert tokens.tolist() == [3]
    assert logp.item() == pytest.approx(math.log(0.4))


def test_draws_follow_the_distribution_and_report_its_logprobs():
    logits = LOGITS.expand(40_000, 4)
    generator = torch.Generator().manual_seed(0)
    tokens, logp = sample_tokens(logits, SamplingConfig(top_p=0.75), generator)
    freq = torch.bincount(tokens, minlength=4).double() / len(tokens)
    torch.testing.assert_close(freq, torch.tensor([0, 2 / 9, 3 / 9, 4 / 9], dtype=torch.double), atol=0.01, rtol=0)
    expected = torch.log(torch.tensor([0.0, 2 / 9, 3 / 9, 4 / 9]))[tokens]
    torch.testing.assert_close(logp, expected)


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", -0.1), ("temperature", float("nan")), ("top_p", 0.0), ("top_p", 1.5), ("top_k", -1),
     ("max_new_tokens", 0)],
)  # fmt: skip
def test_sampling_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=rf"SamplingConfig\.{field}: expected .* got {value}"):
        SamplingConfig(**{field: value})


def test_inverse_cdf_draws_follow_the_distribution_and_skip_cut_tokens():
    from hicra.agents.sampling import inverse_cdf

    logp = torch.log(torch.tensor([[0.5, 0.0, 0.25, 0.25]]))  # token 1 cut (probability 0)
    u = torch.tensor([0.0, 0.49, 0.51, 0.74, 0.76, 0.999999])
    assert inverse_cdf(logp.expand(6, 4), u).tolist() == [0, 0, 2, 2, 3, 3]
    draws = inverse_cdf(logp.expand(20000, 4), torch.rand(20000, generator=torch.Generator().manual_seed(0)))
    freq = torch.bincount(draws, minlength=4).float() / 20000
    assert freq[1] == 0 and freq.tolist() == pytest.approx([0.5, 0.0, 0.25, 0.25], abs=0.02)
