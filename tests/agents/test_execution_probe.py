"""Teacher-forced execution perplexity: exp(mean NLL) of the non-planning solution tokens, computed by hand from the
tiny model's logits on short texts."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest
import torch

import hicra_env  # noqa: F401  (registers the hicra/* ids)
from hicra.agents.execution_probe import PREFIX, ExecutionProbe, probe_rows, teacher_forced
from hicra.agents.planning import StrategicGrams
from hicra.agents.policy import Policy

PROMPT = "Start with 5, add 3, then subtract 2. What is the result?"
FORWARD = "Let's break this down: 5 + 3 = 8, 8 - 2 = 6. The answer is \\boxed{6}."
BACKWARD = "We work our way back from 5: 5 + 2 = 7, 7 - 3 = 4. The answer is \\boxed{4}."
GRAMS = StrategicGrams(["let's break this down", "work our way"])


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.from_pretrained("tiny")


def _by_hand(policy: Policy, prompt: str, solution: str, gram: str) -> tuple[float, int]:
    """Summed NLL of the solution's tokens outside ``gram`` (a token is out when its characters end before the
    gram's start or start at/after its end), and their count, from the model's own logits."""
    tok = policy.tokenizer
    prompt_ids = tok(prompt)["input_ids"]
    ids = tok(solution, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = policy.model(torch.tensor([prompt_ids + ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    start = solution.lower().find(gram)
    end, nll, count, pos = start + len(gram), 0.0, 0, 0
    for k, token in enumerate(ids):
        piece = tok.decode(ids[: k + 1])[pos:]
        span = (pos, pos + len(piece))
        pos += len(piece)
        if span[1] <= start or span[0] >= end:
            nll -= float(logp[len(prompt_ids) + k - 1, token])
            count += 1
    return nll, count


def test_probe_is_exp_mean_nll_of_execution_tokens_by_hand(policy):
    rows = [("chain", "forward", PROMPT, FORWARD), ("chain", "backward", PROMPT, BACKWARD),
            ("undo", "forward", PROMPT, FORWARD)]  # fmt: skip
    probe = ExecutionProbe(policy, GRAMS, rows, micro_batch_size=2)  # two micro-batches, padded differently
    got = probe.perplexities(policy, temperature=1.0)
    fwd_nll, fwd_n = _by_hand(policy, PROMPT, FORWARD, "let's break this down")
    back_nll, back_n = _by_hand(policy, PROMPT, BACKWARD, "work our way")
    assert 0 < fwd_n < len(policy.tokenizer(FORWARD, add_special_tokens=False)["input_ids"])  # the gram is out
    expected = [(("chain", "forward"), fwd_n), (("chain", "backward"), back_n), (("undo", "forward"), fwd_n)]
    assert sorted(zip(probe.keys, probe.tokens)) == sorted(expected)
    assert got[f"{PREFIX}/chain/forward"] == pytest.approx(math.exp(fwd_nll / fwd_n), rel=1e-5)
    assert got[f"{PREFIX}/chain/backward"] == pytest.approx(math.exp(back_nll / back_n), rel=1e-5)
    assert got[f"{PREFIX}/forward"] == pytest.approx(math.exp(fwd_nll / fwd_n), rel=1e-5)  # pooled: same rows
    assert set(got) == {f"{PREFIX}/{k}" for k in ("forward", "backward", "chain/forward", "chain/backward",
                                                   "undo/forward")}  # fmt: skip
    assert probe.record() == {
        "by_family_strategy": {"chain/forward": {"solutions": 1, "execution_tokens": fwd_n},
                               "chain/backward": {"solutions": 1, "execution_tokens": back_n},
                               "undo/forward": {"solutions": 1, "execution_tokens": fwd_n}},
        "too_long": 0,
    }  # fmt: skip
    hot = probe.perplexities(policy, temperature=2.0)[f"{PREFIX}/chain/forward"]
    assert hot != pytest.approx(got[f"{PREFIX}/chain/forward"])  # scored at the temperature asked for


def test_teacher_forced_layout_matches_generation(policy):
    ids, mask, plen, response_ids, response_mask = teacher_forced(policy, [PROMPT, "Hi"], [FORWARD, "1"])
    short = policy.tokenizer("Hi")["input_ids"]
    assert plen == len(policy.tokenizer(PROMPT)["input_ids"]) and mask[1, :plen].sum() == len(short)
    assert mask[1, plen - len(short) - 1] == 0  # left-padded prompt
    assert response_mask[1].sum() == 1 and response_mask[1, 0] and torch.equal(ids[:, plen:], response_ids)
    assert torch.equal(mask[:, plen:].bool(), response_mask)


def test_probe_rows_are_every_strategy_of_strategy_family_problems():
    env = gym.make("hicra/Miniature-v0", num_problems=4)
    rows = probe_rows(env, [4, 5])
    assert [(f, s) for f, s, _, _ in rows] == [("chain", "forward"), ("chain", "backward"),
                                               ("undo", "backward"), ("undo", "forward")]  # fmt: skip
    assert rows[0][2] == env.reset(options={"index": 4})[0] and rows[1][3].startswith("We work our way back from")
    assert probe_rows(gym.make("hicra/Arithmetic-v0"), [0, 1]) == []


def test_too_long_solutions_are_left_out_and_counted(policy):
    long = "Let's break this down: " + ", ".join(["1"] * 400)
    probe = ExecutionProbe(policy, GRAMS, [("seats", "forward", PROMPT, long), ("chain", "forward", PROMPT, FORWARD)],
                           micro_batch_size=4)  # fmt: skip
    assert probe.too_long == 1 and probe.keys == [("chain", "forward")]
