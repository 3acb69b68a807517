"""Each agent's credit assignment and loss on a hand-built rollout batch, against hand-computed numbers."""

import math

import pytest
import torch

from hicra.agents import AGENTS, AgentConfig, RunConfig, make_agent
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
        sampler_logprobs=torch.zeros(4, T),
        old_logprobs=torch.zeros(4, T),
        entropy=torch.tensor([[0.1, 0.9, 0.2], [0.8, 0.3, 5.0], [0.4, 0.5, 0.6], [0.7, 9.0, 9.0]]),
        planning_mask=torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.bool),
        texts=("a", "b", "c", "d"),
        problem_ids=("p0", "p0", "p1", "p1"),
    )
    fields.update(overrides)
    return RolloutBatch(**fields)


def _adv(name, **cfg):
    return make_agent(name, **cfg).credit(_batch(), torch.Generator().manual_seed(0)).advantages


def test_registry_has_the_paper_agents_and_ablations():
    assert set(AGENTS) == {
        "grpo", "hicra", "entropy_grpo", "hicra_placebo", "high_entropy",
        "dr_grpo", "dapo", "gspo", "cispo", "rloo", "forking_tokens",
        "placebo_matched", "first_tokens", "all_tokens", "high_entropy_nonplanning",  # issue 18's controls
    }  # fmt: skip
    for name, cls in AGENTS.items():
        assert cls.name == name


def test_make_agent_names_the_known_agents_and_fields():
    with pytest.raises(KeyError, match="unknown agent 'hirca'; expected one of: grpo, hicra"):
        make_agent("hirca")
    with pytest.raises(KeyError, match="unknown agent field 'alpah'; expected one of: alpha"):
        make_agent("hicra", alpah=0.3)


BUILDERS = {
    "make_agent": lambda name: make_agent(name),
    "class()": lambda name: AGENTS[name](),
    "class(AgentConfig())": lambda name: AGENTS[name](AgentConfig()),
    "class(AgentConfig(alpha=0.2))": lambda name: AGENTS[name](AgentConfig(alpha=0.2)),
    "RunConfig": lambda name: make_agent(name, **vars(RunConfig(agent=name).agent_config)),
}


@pytest.mark.parametrize("build", BUILDERS, ids=list(BUILDERS))
def test_every_way_of_building_an_agent_gives_its_own_defaults(build):
    """entropy_grpo built from a bare AgentConfig used to be exactly GRPO (entropy_coef 0)."""
    expected = {name: 0.005 if name == "entropy_grpo" else 0.0 for name in AGENTS}
    for name, coef in expected.items():
        agent = BUILDERS[build](name)
        assert type(agent) is AGENTS[name] and agent.config.entropy_coef == coef, (build, name)
    batch = _batch()
    logprobs = torch.zeros(4, T)
    ent = BUILDERS[build]("entropy_grpo")
    adv = ent.credit(batch, torch.Generator()).advantages
    loss, stats = ent.loss(batch, logprobs, adv, batch.entropy)
    assert stats["entropy_bonus"] > 0 and loss.item() < make_agent("grpo").loss(batch, logprobs, adv, batch.entropy)[0]


def test_an_explicit_value_overrides_the_agents_default():
    assert make_agent("entropy_grpo", entropy_coef=0.0).config.entropy_coef == 0.0
    assert AGENTS["entropy_grpo"](AgentConfig(entropy_coef=0.01)).config.entropy_coef == 0.01
    assert make_agent("grpo", entropy_coef=0.02).config.entropy_coef == 0.02


def test_grpo_broadcasts_the_group_centred_reward_over_tokens():
    expected = torch.tensor([[0.5] * 3, [-0.5] * 3, [-0.5] * 3, [0.5] * 3])
    assert torch.allclose(_adv("grpo"), expected)


def test_hicra_amplifies_planning_tokens_up_when_correct_and_damps_them_when_wrong():
    # planning: A + 0.2|A| -> 0.6 on success, -0.4 on failure; other tokens keep A
    expected = torch.tensor([[0.6, 0.5, 0.5], [-0.4, -0.4, -0.5], [-0.5, -0.5, -0.4], [0.5, 0.5, 0.5]])
    assert torch.allclose(_adv("hicra"), expected)
    assert torch.allclose(_adv("hicra", alpha=0.5)[0, 0], torch.tensor(0.75))


def test_high_entropy_amplifies_as_many_tokens_as_there_are_planning_tokens_by_default():
    # 4 planning tokens on response positions (1 + 2 + 1 + 0) -> the 4 highest response entropies: 0.9 (0,1),
    # 0.8 (1,0), 0.7 (3,0), 0.6 (2,2). Row 3's 9.0s and row 1's 5.0 lie on padding and must be ignored.
    credit = make_agent("high_entropy").credit(_batch(), torch.Generator())
    expected = torch.tensor([[0.5, 0.6, 0.5], [-0.4, -0.5, -0.5], [-0.5, -0.5, -0.4], [0.6, 0.5, 0.5]])
    assert torch.allclose(credit.advantages, expected)
    assert int(credit.amplified.sum()) == int((_batch().planning_mask & _batch().response_mask).sum()) == 4


def test_high_entropy_top_fraction_takes_the_top_rho_of_each_response():
    # rho 0.3: ceil(0.9)=1 of row 0 (0.9), ceil(0.6)=1 of row 1 (0.8), 1 of row 2 (0.6), ceil(0.3)=1 of row 3 (0.7)
    adv = _adv("high_entropy", entropy_tokens="top_fraction", rho=0.3)
    expected = torch.tensor([[0.5, 0.6, 0.5], [-0.4, -0.5, -0.5], [-0.5, -0.5, -0.4], [0.6, 0.5, 0.5]])
    assert torch.allclose(adv, expected)


def test_amplified_tokens_are_the_credit_masks_response_tokens():
    batch = _batch()
    assert not make_agent("grpo").credit(batch, torch.Generator()).amplified.any()
    hicra = make_agent("hicra").credit(batch, torch.Generator())
    assert torch.equal(hicra.amplified, batch.planning_mask & batch.response_mask)


def test_placebo_amplifies_as_many_tokens_as_hicra_but_elsewhere_by_chance():
    batch = _batch()
    agent = make_agent("hicra_placebo")
    masks = [agent.credit(batch, torch.Generator().manual_seed(s)).amplified for s in range(5)]
    planning = int((batch.planning_mask & batch.response_mask).sum())
    for mask in masks:
        assert int(mask.sum()) == planning
    assert any(not torch.equal(m, batch.planning_mask & batch.response_mask) for m in masks)


def test_entropy_grpo_subtracts_the_mean_token_entropy():
    batch = _batch()
    grpo, ent = make_agent("grpo"), make_agent("entropy_grpo", entropy_coef=0.1)
    adv = grpo.credit(batch, torch.Generator()).advantages
    logprobs = torch.zeros(4, T)  # ratio 1 everywhere: surrogate = -token-mean(A)
    base, _ = grpo.loss(batch, logprobs, adv, batch.entropy)
    # response tokens: 3 of +0.5, 2 of -0.5, 3 of -0.5, 1 of +0.5 -> sum A = 4*0.5 - 5*0.5 = -0.5 over 9 tokens
    assert base.item() == pytest.approx(0.5 / 9)
    mean_entropy = (0.1 + 0.9 + 0.2 + 0.8 + 0.3 + 0.4 + 0.5 + 0.6 + 0.7) / 9
    loss, stats = ent.loss(batch, logprobs, adv, batch.entropy)
    assert loss.item() == pytest.approx(0.5 / 9 - 0.1 * mean_entropy)
    assert stats["entropy_bonus"] == pytest.approx(mean_entropy)


def test_kl_term_uses_k3_against_the_reference():
    batch = _batch(ref_logprobs=torch.full((4, T), -1.0))
    agent = make_agent("grpo", kl_coef=0.5)
    adv = agent.credit(batch, torch.Generator()).advantages
    loss, stats = agent.loss(batch, torch.zeros(4, T), adv, batch.entropy)
    k3 = torch.exp(torch.tensor(-1.0)) - (-1.0) - 1  # exp(ref - lp) - (ref - lp) - 1 with lp = 0
    assert stats["kl"] == pytest.approx(k3.item())
    assert loss.item() == pytest.approx(0.5 / 9 + 0.5 * k3.item())


def test_agents_share_the_std_normalisation_choice():
    cfg = AgentConfig(normalize_std=True)
    grpo, hicra = AGENTS["grpo"](cfg), AGENTS["hicra"](cfg)
    batch = _batch()
    a_grpo = grpo.credit(batch, torch.Generator()).advantages
    a_hicra = hicra.credit(batch, torch.Generator()).advantages
    non_planning = ~batch.planning_mask
    assert torch.allclose(a_grpo[non_planning], a_hicra[non_planning])
    assert a_grpo[0, 0] > 0.5  # divided by the group std (< 1) so larger than the centred 0.5


def test_loss_weights_tokens_by_the_truncated_importance_ratio():
    """old - sampler = log 1.5 on every token, so w = 1.5 (cap 2) or 1.2 (cap 1.2): the loss scales by w."""
    batch = _batch(sampler_logprobs=torch.full((4, T), -math.log(1.5)))
    logprobs = torch.zeros(4, T)
    adv = make_agent("grpo").credit(batch, torch.Generator()).advantages
    plain = make_agent("grpo", tis_cap=0.0).loss(batch, logprobs, adv, batch.entropy)[0].item()
    assert plain == pytest.approx(0.5 / 9)
    assert make_agent("grpo").loss(batch, logprobs, adv, batch.entropy)[0].item() == pytest.approx(1.5 * 0.5 / 9)
    capped = make_agent("grpo", tis_cap=1.2).loss(batch, logprobs, adv, batch.entropy)[0].item()
    assert capped == pytest.approx(1.2 * 0.5 / 9)


def test_without_old_logprobs_the_first_pass_is_the_old_policy():
    """old_logprobs None: the ratio is exp(lp - lp.detach()) = 1, with the gradient of lp."""
    batch = _batch(old_logprobs=None)
    logprobs = torch.full((4, T), -0.3, requires_grad=True)
    adv = make_agent("grpo").credit(batch, torch.Generator()).advantages
    loss, stats = make_agent("grpo", tis_cap=0.0).loss(batch, logprobs, adv, batch.entropy)
    assert loss.item() == pytest.approx(0.5 / 9) and stats["ratio_mean"] == pytest.approx(1.0)
    loss.backward()
    assert logprobs.grad[0, 0].item() == pytest.approx(-0.5 / 9)  # d(-A r)/d lp = -A / 9 tokens
