"""Each agent's credit assignment and loss on a hand-built rollout batch, against hand-computed numbers."""

import pytest
import torch

from hicra.agents import AGENTS, AgentConfig, make_agent
from hicra.agents.rollout import RolloutBatch

T = 3


def _batch(**overrides) -> RolloutBatch:
    """4 responses of <= 3 tokens in 2 groups; rewards [1, 0 | 0, 1] so A = [0.5, -0.5, -0.5, 0.5]."""
    fields = dict(
        input_ids=torch.zeros(4, 2 + T, dtype=torch.long),
        attention_mask=torch.ones(4, 2 + T, dtype=torch.long),
        prompt_length=2,
        response_ids=torch.zeros(4, T, dtype=torch.long),
        response_mask=torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 0, 0]], dtype=torch.bool),
        group_ids=torch.tensor([0, 0, 1, 1]),
        rewards=torch.tensor([1.0, 0.0, 0.0, 1.0]),
        correct=torch.tensor([True, False, False, True]),
        old_logprobs=torch.zeros(4, T),
        entropy=torch.tensor([[0.1, 0.9, 0.2], [0.8, 0.3, 5.0], [0.4, 0.5, 0.6], [0.7, 9.0, 9.0]]),
        planning_mask=torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.bool),
        texts=("a", "b", "c", "d"),
        problem_ids=("p0", "p0", "p1", "p1"),
    )
    fields.update(overrides)
    return RolloutBatch(**fields)


def _adv(name, **cfg):
    return make_agent(name, **cfg).token_advantages(_batch(), torch.Generator().manual_seed(0))


def test_registry_has_the_paper_agents_and_ablations():
    assert set(AGENTS) == {"grpo", "hicra", "entropy_grpo", "hicra_placebo", "high_entropy"}
    for name, cls in AGENTS.items():
        assert cls.name == name


def test_make_agent_suggests_the_closest_name():
    with pytest.raises(ValueError, match="unknown agent 'hirca'; did you mean 'hicra'"):
        make_agent("hirca")
    with pytest.raises(ValueError, match="did you mean 'alpha'"):
        make_agent("hicra", alpah=0.3)


def test_grpo_broadcasts_the_group_centred_reward_over_tokens():
    expected = torch.tensor([[0.5] * 3, [-0.5] * 3, [-0.5] * 3, [0.5] * 3])
    assert torch.allclose(_adv("grpo"), expected)


def test_hicra_amplifies_planning_tokens_up_when_correct_and_damps_them_when_wrong():
    # planning: A + 0.2|A| -> 0.6 on success, -0.4 on failure; other tokens keep A
    expected = torch.tensor([[0.6, 0.5, 0.5], [-0.4, -0.4, -0.5], [-0.5, -0.5, -0.4], [0.5, 0.5, 0.5]])
    assert torch.allclose(_adv("hicra"), expected)
    assert torch.allclose(_adv("hicra", alpha=0.5)[0, 0], torch.tensor(0.75))


def test_high_entropy_amplifies_the_top_rho_response_tokens_only():
    # 9 response tokens; ceil(0.2 * 9) = 2 are amplified: the two highest *response* entropies, 0.9 (row 0,
    # col 1) and 0.8 (row 1, col 0). Row 3's 9.0s lie on padding and must be ignored.
    adv = _adv("high_entropy", rho=0.2)
    expected = torch.tensor([[0.5, 0.6, 0.5], [-0.4, -0.5, -0.5], [-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]])
    assert torch.allclose(adv, expected)


def test_placebo_amplifies_as_many_tokens_as_hicra_but_elsewhere_by_chance():
    batch = _batch()
    agent = make_agent("hicra_placebo")
    masks = [agent.credit_mask(batch, torch.Generator().manual_seed(s)) & batch.response_mask for s in range(5)]
    planning = int((batch.planning_mask & batch.response_mask).sum())
    for mask in masks:
        assert abs(int(mask.sum()) - planning) <= 1
    assert any(not torch.equal(m, batch.planning_mask & batch.response_mask) for m in masks)


def test_entropy_grpo_subtracts_the_mean_token_entropy():
    batch = _batch()
    grpo, ent = make_agent("grpo"), make_agent("entropy_grpo", entropy_coef=0.1)
    adv = grpo.token_advantages(batch, torch.Generator())
    logprobs = torch.zeros(4, T)  # ratio 1 everywhere: surrogate = -token-mean(A)
    base, _ = grpo.loss(batch, logprobs, adv, None)
    # response tokens: 3 of +0.5, 2 of -0.5, 3 of -0.5, 1 of +0.5 -> sum A = 4*0.5 - 5*0.5 = -0.5 over 9 tokens
    assert base.item() == pytest.approx(0.5 / 9)
    mean_entropy = (0.1 + 0.9 + 0.2 + 0.8 + 0.3 + 0.4 + 0.5 + 0.6 + 0.7) / 9
    loss, stats = ent.loss(batch, logprobs, adv, batch.entropy)
    assert loss.item() == pytest.approx(0.5 / 9 - 0.1 * mean_entropy)
    assert stats["entropy_bonus"] == pytest.approx(mean_entropy)
    with pytest.raises(ValueError, match="entropy"):
        ent.loss(batch, logprobs, adv, None)


def test_kl_term_uses_k3_against_the_reference():
    batch = _batch(ref_logprobs=torch.full((4, T), -1.0))
    agent = make_agent("grpo", kl_coef=0.5)
    adv = agent.token_advantages(batch, torch.Generator())
    loss, stats = agent.loss(batch, torch.zeros(4, T), adv, None)
    k3 = torch.exp(torch.tensor(-1.0)) - (-1.0) - 1  # exp(ref - lp) - (ref - lp) - 1 with lp = 0
    assert stats["kl"] == pytest.approx(k3.item())
    assert loss.item() == pytest.approx(0.5 / 9 + 0.5 * k3.item())


def test_agents_share_the_std_normalisation_choice():
    cfg = AgentConfig(normalize_std=True)
    grpo, hicra = AGENTS["grpo"](cfg), AGENTS["hicra"](cfg)
    batch = _batch()
    a_grpo = grpo.token_advantages(batch, torch.Generator())
    a_hicra = hicra.token_advantages(batch, torch.Generator())
    non_planning = ~batch.planning_mask
    assert torch.allclose(a_grpo[non_planning], a_hicra[non_planning])
    assert a_grpo[0, 0] > 0.5  # divided by the group std (< 1) so larger than the centred 0.5
