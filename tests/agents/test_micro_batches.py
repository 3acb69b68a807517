"""Micro-batches by rows or by a token budget: packing by hand, trimming, and the gradient of one pass."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import Policy, make_agent
from hicra.agents.distributed import DistContext
from hicra.agents.engines.hf import left_pad
from hicra.agents.micro_batches import (
    accumulate_gradients,
    micro_batches,
    pack_by_tokens,
    row_lengths,
    trim_padding,
)
from hicra.agents.parallel import Layout
from hicra.agents.rollout import RolloutBatch, TokenScores

LENGTHS = [1, 40, 3, 2, 45, 6, 30, 2]  # responses of very different lengths; 4 problems x 2
PROMPTS = ["What is 2 + 3?", "What is 17 + 5?", "What is 40 + 41?", "What is 6 + 123?"]


def test_row_lengths_are_the_real_prompt_and_response_spans():
    mask = torch.tensor([[0, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 1]])
    prompt, response = row_lengths(mask, 3)
    assert prompt.tolist() == [2, 3, 1, 0]
    assert response.tolist() == [2, 1, 0, 3]  # the span runs to the last real response token


def test_packing_takes_the_longest_rows_first_into_the_fewest_micro_batches_within_the_budget():
    prompt, response = torch.full((5,), 2), torch.tensor([3, 10, 1, 6, 2])  # widths 5, 12, 3, 8, 4
    chunks = pack_by_tokens(torch.tensor([4, 2, 0, 3, 1]), prompt, response, 24)
    # 1 (12) + 3 (8): 2 x 12 = 24 fits; + 0: 3 x 12 = 36 does not; 0 (5) + 4 (4) + 2 (3): 3 x 5 = 15
    assert [c.tolist() for c in chunks] == [[1, 3], [0, 4, 2]]
    assert [c.tolist() for c in pack_by_tokens(torch.tensor([4, 2, 0, 3, 1]), prompt, response, 15)] == [
        [1],  # 2 x 12 = 24 > 15
        [3],  # 2 x 8 = 16 > 15
        [0, 4, 2],
    ]


def test_among_the_fewest_micro_batches_packing_picks_the_least_padding():
    prompt, response = torch.ones(5, dtype=torch.long), torch.tensor([3, 9, 3, 3, 3])  # widths 4, 10, 4, 4, 4
    chunks = pack_by_tokens(torch.arange(5), prompt, response, 20)
    # filling greedily gives [1, 0] (2 x 10 = 20) + [2, 3, 4] (12): 32 tokens; [1] (10) + [0, 2, 3, 4] (16): 26
    assert [c.tolist() for c in chunks] == [[1], [0, 2, 3, 4]]


def test_a_micro_batch_costs_its_longest_prompt_plus_its_longest_response_per_row():
    prompt, response = torch.tensor([5, 1]), torch.tensor([1, 5])  # one long prompt, one long response
    order = torch.tensor([0, 1])
    assert [c.tolist() for c in pack_by_tokens(order, prompt, response, 19)] == [[0], [1]]  # 2 x (5 + 5) = 20
    assert [c.tolist() for c in pack_by_tokens(order, prompt, response, 20)] == [[0, 1]]


def test_rows_over_the_budget_get_a_pass_each_and_ties_keep_the_shuffled_order():
    prompt, response = torch.full((4,), 3), torch.tensor([9, 0, 9, 9])  # an empty response counts one column
    chunks = pack_by_tokens(torch.tensor([3, 1, 0, 2]), prompt, response, 5)
    assert [c.tolist() for c in chunks] == [[3], [0], [2], [1]]
    with pytest.raises(ValueError, match="budget: expected >= 1 tokens, got 0"):
        pack_by_tokens(torch.tensor([0]), prompt, response, 0)


def test_trimming_drops_the_columns_every_row_pads():
    ids = torch.tensor([[0, 0, 5, 6, 7, 8, 0, 0], [0, 0, 0, 6, 9, 0, 0, 0]])
    mask = (ids > 0).long()
    trimmed, trimmed_mask, prompt_length = trim_padding(ids, mask, 4)
    assert prompt_length == 2 and trimmed.tolist() == [[5, 6, 7, 8], [0, 6, 9, 0]]
    assert trimmed_mask.tolist() == [[1, 1, 1, 1], [0, 1, 1, 0]]
    empty = torch.tensor([[0, 5, 0, 0]])  # no response at all: one response column stays
    assert trim_padding(empty, (empty > 0).long(), 2)[0].tolist() == [[5, 0]]


# ------------------------------------------------------------------------------------------- the tiny policy
@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.from_pretrained("tiny")


def tiny_batch(policy: Policy) -> RolloutBatch:
    """4 problems x 2 responses of random tokens (lengths :data:`LENGTHS`), scored by the policy with noise as the
    old log-probs (some ratios clip), rewards that give every group a signal."""
    gen = torch.Generator().manual_seed(0)
    rows = [ids for ids in policy.prompt_token_ids(PROMPTS) for _ in range(2)]
    pad, width, n = policy.tokenizer.pad_token_id, max(LENGTHS), len(LENGTHS)
    prompt, prompt_mask = left_pad(rows, pad, "cpu")
    mask = torch.arange(width)[None, :] < torch.tensor(LENGTHS)[:, None]
    ids = torch.randint(3, policy.model.config.vocab_size, (n, width), generator=gen).masked_fill(~mask, pad)
    input_ids, attention_mask = torch.cat([prompt, ids], 1), torch.cat([prompt_mask, mask.long()], 1)
    with torch.no_grad():
        lp, ent = policy.token_logprobs(input_ids, attention_mask, prompt.shape[1], with_entropy=True)
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    return RolloutBatch(
        input_ids=input_ids, attention_mask=attention_mask, prompt_length=prompt.shape[1], response_ids=ids,
        response_mask=mask, group_ids=torch.arange(4).repeat_interleave(2), rewards=rewards, correct=rewards > 0,
        sampler_logprobs=lp, planning_mask=(torch.rand(n, width, generator=gen) < 0.3) & mask,
        texts=("x",) * n, problem_ids=tuple(f"p{i // 2}" for i in range(n)),
        old_logprobs=torch.where(mask, lp - 0.3 * torch.randn(n, width, generator=gen), 0.0), entropy=ent,
    )  # fmt: skip


def gradients(policy: Policy, agent, batch: RolloutBatch, dist=None, layout=None, **sizes) -> dict:
    """One epoch's accumulated gradients, (loss, clip_frac, finite) and the first pass's scores."""
    policy.model.zero_grad(set_to_none=True)
    credit = agent.credit(batch, torch.Generator().manual_seed(0))
    first = TokenScores(torch.zeros_like(batch.sampler_logprobs), torch.zeros_like(batch.sampler_logprobs))
    order = torch.randperm(len(batch), generator=torch.Generator().manual_seed(1))
    sums = accumulate_gradients(
        policy, agent, layout or Layout("single"), dist or DistContext(), batch, credit, order,
        temperature=1.0, first=first, **{"micro_batch_size": len(batch), **sizes},
    )  # fmt: skip
    grads = {k: p.grad.clone() for k, p in policy.model.named_parameters() if p.grad is not None}
    return {"grads": grads, "sums": sums, "first": first}


def assert_same(got: dict, expected: dict) -> None:
    """Gradients within float32 rounding of a sum over other groupings: measured <= 2e-6 relative to the gradient's
    norm (GSPO's sequence ratios amplify most), where a row weighted by the wrong share is off by percents."""
    assert got["grads"].keys() == expected["grads"].keys() and expected["grads"]
    norm = sum(float(g.double().norm() ** 2) for g in expected["grads"].values()) ** 0.5
    error = sum(float((got["grads"][k] - g).double().norm() ** 2) for k, g in expected["grads"].items()) ** 0.5
    assert error < 1e-5 * norm, f"relative gradient error {error / norm:.2e}"
    scale = max(float(g.abs().max()) for g in expected["grads"].values())
    for key, grad in expected["grads"].items():
        torch.testing.assert_close(got["grads"][key], grad, rtol=1e-4, atol=1e-5 * scale, msg=f"gradient of {key}")
    assert got["sums"][:2] == pytest.approx(expected["sums"][:2], rel=1e-4) and got["sums"][2]
    for a, b in (
        (got["first"].logprobs, expected["first"].logprobs),
        (got["first"].entropy, expected["first"].entropy),
    ):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("agent_name", ["hicra", "dr_grpo", "gspo"])  # token_mean, T-normalised sums, per-row means
def test_token_budget_gradients_equal_the_one_pass_and_the_row_micro_batch_gradients(policy, agent_name):
    agent = make_agent(agent_name)
    batch = tiny_batch(policy)
    one_pass = gradients(policy, agent, batch)
    assert one_pass["sums"][1] > 0  # some ratios clip: the old log-probs matter
    budgets = {"micro_batch_tokens": 128}  # 3 micro-batches here ([4, 1], [6], [5, 2, 7, 3, 0]), each trimmed
    prompt, response = row_lengths(batch.attention_mask, batch.prompt_length)
    order = torch.arange(len(batch))
    assert [len(c) for c in micro_batches(batch, order, 8, 128)] == [2, 1, 5] and int((prompt + response).max()) > 50
    for sizes in ({"micro_batch_size": 3}, budgets, {"micro_batch_tokens": 30}, {"micro_batch_tokens": 10_000}):
        assert_same(gradients(policy, agent, batch, **sizes), one_pass)


def test_a_budget_below_the_longest_row_scores_every_row_alone(policy):
    batch = tiny_batch(policy)
    prompt, response = row_lengths(batch.attention_mask, batch.prompt_length)
    assert int((prompt + response).min()) > 8
    assert [len(c) for c in micro_batches(batch, torch.arange(len(batch)), 8, 8)] == [1] * len(batch)
    agent = make_agent("grpo")
    assert_same(gradients(policy, agent, batch, micro_batch_tokens=8), gradients(policy, agent, batch))


class OtherRankHasMore(DistContext):
    """Rank 0 of 2 whose partner holds the same rows and packs them into ``passes`` micro-batches."""

    def __init__(self, passes: int) -> None:
        super().__init__(0, 2, active=True)
        object.__setattr__(self, "passes", passes)

    def sum(self, values):
        tokens, rows, mine, _ = values
        return [2.0 * tokens, 2.0 * rows, float(mine), float(self.passes)]


class CountingLayout(Layout):
    def __init__(self) -> None:
        super().__init__("single")
        self.syncs: list[bool] = []

    def sync_grads(self, sync: bool):
        self.syncs.append(sync)
        return super().sync_grads(sync)


def test_a_rank_with_fewer_micro_batches_pads_with_zero_loss_passes_and_syncs_on_the_last(policy):
    agent, batch = make_agent("hicra"), tiny_batch(policy)
    assert len(micro_batches(batch, torch.arange(len(batch)), 8, 128)) == 3
    layout = CountingLayout()
    got = gradients(policy, agent, batch, dist=OtherRankHasMore(5), layout=layout, micro_batch_tokens=128)
    assert layout.syncs == [False] * 4 + [True]  # 3 of its own, 2 that add nothing; DDP all-reduces in the last
    # the partner's batch is the same: the loss is this rank's, halved by the global batch, then scaled by W = 2
    expected = gradients(policy, agent, batch)
    assert_same(got, {**expected, "sums": (expected["sums"][0] / 2, expected["sums"][1] / 2, True)})


def test_trimmed_scores_equal_the_padded_ones(policy):
    batch = tiny_batch(policy)
    rows = torch.tensor([0, 3, 7])  # short responses: most columns are padding in all three
    sub = batch.select(rows)
    ids, mask, p = trim_padding(sub.input_ids, sub.attention_mask, sub.prompt_length)
    assert ids.shape[1] < sub.input_ids.shape[1] - 30
    with torch.no_grad():
        full, _ = policy.token_logprobs(sub.input_ids, sub.attention_mask, sub.prompt_length)
        short, _ = policy.token_logprobs(ids, mask, p)
    torch.testing.assert_close(short, full[:, : short.shape[1]], rtol=1e-5, atol=1e-6)
    assert not full[:, short.shape[1] :].any()


def test_the_tianshou_update_packs_by_the_token_budget_to_the_same_gradient(policy):
    pytest.importorskip("tianshou", reason="tianshou is the optional extra hicra[tianshou]")
    import copy

    import gymnasium as gym

    from hicra.agents import TrainConfig
    from hicra.agents.tianshou_algorithms import make_algorithm

    batch, space = tiny_batch(policy), gym.make("hicra/Arithmetic-v0").action_space
    results = []
    for sizes in ({"micro_batch_size": 8}, {"micro_batch_size": 8, "micro_batch_tokens": 30}):
        llm = Policy(copy.deepcopy(policy.model), policy.tokenizer)
        algorithm = make_algorithm(make_agent("hicra"), TrainConfig(lr=1e-3, **sizes), space, llm=llm)
        passes: list[int] = []
        llm.scorer.register_forward_hook(lambda *args, calls=passes: calls.append(1))
        credit = algorithm.agent.credit(batch, torch.Generator().manual_seed(0))
        update = algorithm._passes(batch, credit, len(batch), 1)  # one optimiser step; its clipped gradient stays
        grads = {k: p.grad.clone() for k, p in llm.model.named_parameters()}
        results.append({"grads": grads, "sums": (update.loss, update.clip_frac, True), "first": update.scores})
        results[-1]["passes"] = len(passes)
    assert [r["passes"] for r in results] == [1, 6]  # the budget reached the update
    assert_same(results[1], results[0])
