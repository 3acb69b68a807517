"""Hand-computed tables for the training metrics."""

from __future__ import annotations

import math

import pytest
import torch

from hicra.agents.metrics import masked_mean, mean_perplexity, pass_at_group, semantic_entropy, split_entropy
from hicra.agents.planning import StrategicGrams

T = torch.tensor
NAN = float("nan")


def test_masked_mean_ignores_masked_values_and_is_zero_when_empty():
    x = T([[1.0, 2.0, NAN], [4.0, float("inf"), 0.0]])
    mask = T([[True, True, False], [True, False, True]])
    assert masked_mean(x, mask) == pytest.approx((1 + 2 + 4 + 0) / 4)
    assert masked_mean(x, torch.zeros_like(mask)) == 0.0
    with pytest.raises(ValueError, match="shape"):
        masked_mean(x, mask[:, :2])
    with pytest.raises(TypeError, match="bool"):
        masked_mean(x, mask.float())


def test_split_entropy_table():
    entropy = T([[2.0, 0.5, 1.0, 9.0], [3.0, 0.1, 9.0, 9.0]])
    response = T([[True, True, True, False], [True, True, False, False]])
    planning = T([[True, False, False, True], [True, False, False, False]])  # the padded True is ignored
    # planning: 2.0, 3.0 -> 2.5; execution: 0.5, 1.0, 0.1 -> 0.5333
    plan, execution = split_entropy(entropy, planning, response)
    assert plan == pytest.approx(2.5) and execution == pytest.approx(1.6 / 3)
    # an empty split is undefined: math.nan (documented), the other split is still a number
    plan, execution = split_entropy(entropy, torch.zeros_like(planning), response)
    assert math.isnan(plan) and execution == pytest.approx((2.0 + 0.5 + 1.0 + 3.0 + 0.1) / 5)


def test_mean_perplexity_table():
    logprobs = T([[-1.0, -2.0, NAN], [-0.0, -3.0, -100.0]])
    mask = T([[True, True, False], [True, True, False]])
    # mean log-prob = (-1 - 2 - 0 - 3) / 4 = -1.5 -> exp(1.5) = 4.481689
    assert mean_perplexity(logprobs, mask) == pytest.approx(4.481689, abs=1e-6)
    assert mean_perplexity(T([[0.0]]), T([[True]])) == 1.0
    assert math.isnan(mean_perplexity(logprobs, torch.zeros_like(mask)))


@pytest.fixture(scope="module")
def grams() -> StrategicGrams:
    return StrategicGrams()


def test_semantic_entropy_table(grams):
    # occurrences: "but wait" 1, "so" 2 ("also" does not count), "we can" 1 -> p = 1/4, 1/2, 1/4
    texts = ["But wait, so", "also so we can"]
    assert semantic_entropy(texts, grams) == pytest.approx(1.5)  # bits
    assert semantic_entropy(texts, grams, base=math.e) == pytest.approx(1.5 * math.log(2))  # nats
    assert semantic_entropy(["so", "So"], grams) == 0.0  # one bin
    assert semantic_entropy(["x = 2", ""], grams) == 0.0  # no gram at all
    assert semantic_entropy([], grams) == 0.0


def test_semantic_entropy_validation(grams):
    with pytest.raises(ValueError, match="base"):
        semantic_entropy(["so"], grams, base=1.0)
    with pytest.raises(TypeError, match="list"):
        semantic_entropy("so", grams)


def test_pass_at_group_table():
    correct = T([True, False, False, False, True, True])
    groups = T([9, 2, 5, 5, 2, 9])  # 9: yes, 2: yes (second row), 5: no -> 2/3
    assert pass_at_group(correct, groups) == pytest.approx(2 / 3)
    assert pass_at_group(T([0.0, 1.0, 0.0]), T([0, 0, 1])) == pytest.approx(0.5)
    assert pass_at_group(T([], dtype=torch.bool), T([], dtype=torch.long)) == 0.0
    with pytest.raises(ValueError, match="one length"):
        pass_at_group(correct, groups[:3])
