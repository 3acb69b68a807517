"""The agent interface: agents' defaults, and HICRA (or any agent) on another agent as its base."""

from __future__ import annotations

import pytest
import torch

from hicra.agents import AGENTS, RunConfig, make_agent
from hicra.agents.advantages import group_advantages, hicra_advantages

from .hand_batches import batch_of


def test_hicra_on_dapo_takes_dapos_defaults_and_advantages_and_keeps_its_planning_credit():
    agent = make_agent("hicra", base="dapo")
    assert type(agent) is AGENTS["hicra"] and agent.name == "hicra" and agent.config.base == "dapo"
    assert agent.config.dynamic_sampling and agent.config.overlong_buffer == 0.2 and agent.config.normalize_std
    planning = torch.tensor([[True, False], [True, False], [False, False]])
    batch = batch_of([2, 2, 2], [1.0, 0.0, 0.0], [0, 0, 0], planning=planning)
    credit = agent.credit(batch, torch.Generator())
    expected = hicra_advantages(group_advantages(batch.rewards, batch.group_ids, normalize_std=True), planning)
    torch.testing.assert_close(credit.advantages, expected)
    assert torch.equal(credit.amplified, planning)


def test_a_base_changes_the_advantages_and_the_gradient_mask_too():
    planning = torch.tensor([[True, False], [False, False], [False, False]])
    batch = batch_of([2, 2, 2], [1.0, 0.0, 0.0], [0, 0, 0], planning=planning, entropy=torch.rand(3, 2))
    on_rloo = make_agent("hicra", base="rloo").credit(batch, torch.Generator())
    assert on_rloo.advantages[:, 1].tolist() == pytest.approx([1.0, -0.5, -0.5])  # leave-one-out, not 2/3, -1/3
    assert on_rloo.advantages[0, 0] == pytest.approx(1.2)  # A + 0.2 |A| on the planning token
    on_forking = make_agent("hicra", base="forking_tokens")
    assert on_forking.reads_entropy and on_forking.credit(batch, torch.Generator()).loss_mask is not None


def test_explicit_values_win_over_the_base_and_an_agents_own_defaults_over_its_bases():
    assert make_agent("hicra", base="dapo", dynamic_sampling=False).config.dynamic_sampling is False
    assert make_agent("entropy_grpo", base="dapo").config.entropy_coef == 0.005
    assert make_agent("hicra", base="gspo").config.ratio_level == "sequence"


def test_a_bad_base_is_refused_naming_the_choices():
    with pytest.raises(
        ValueError, match="base: expected one of: grpo, dr_grpo, dapo, gspo, cispo, rloo, forking_tokens"
    ):
        make_agent("hicra", base="hicra")
    with pytest.raises(ValueError, match="base: expected another agent than 'dapo' itself"):
        make_agent("dapo", base="dapo")


def test_the_base_travels_through_a_run_config():
    run = RunConfig.from_dict({"agent": {"name": "hicra", "base": "dapo"}})
    agent = run.make_agent()
    assert agent.config.dynamic_sampling is True
    again = RunConfig.from_dict(RunConfig(agent="hicra", agent_config=agent.config).to_dict()).make_agent()
    assert again.config == agent.config


def test_a_user_agent_that_lists_only_its_own_defaults_still_builds():
    from hicra.agents.base import Agent

    class Mine(Agent):
        name = "mine"
        defaults = {"entropy_coef": 0.01}  # noqa: RUF012  (a user's subclass, written before the newer fields)

    cfg = Mine().config
    assert cfg.entropy_coef == 0.01 and cfg.eps_high == 0.28 and cfg.aggregation == "token_mean"
    assert Mine(base="dapo").config.dynamic_sampling is True and Mine(base="dapo").config.entropy_coef == 0.01
