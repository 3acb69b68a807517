"""The training loop with the tiny policy: every agent updates every parameter, resume is bit-for-bit,
a non-finite loss is skipped, and GRPO learns a task the tiny policy can solve."""

from __future__ import annotations

import json

import pytest
import torch

from hicra.agents import AGENTS, Policy, TrainConfig, Trainer, make_agent
from hicra.agents.advantages import group_advantages
from hicra.agents.grpo import GRPO

SMALL = dict(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=16, micro_batch_size=4, lr=1e-3)


@pytest.fixture(scope="module")
def mixed_seed() -> int:
    """The first seed whose first two rollouts (at SMALL size) each hold a group with mixed rewards, so every
    agent's first steps have non-zero advantages whatever the tiny policy's exact weights."""
    policy = Policy.from_pretrained("tiny")
    for seed in range(64):
        trainer = Trainer(make_agent("grpo"), TrainConfig(**{**SMALL, "seed": seed}), policy=policy)
        mixed = []
        for step in range(2):
            trainer.step = step
            batch = trainer.rollout({})
            mixed.append(bool(group_advantages(batch.rewards, batch.group_ids).abs().sum() > 0))
        if all(mixed):
            return seed
    pytest.fail("no seed in 0..63 gives mixed rewards in the first two steps: is the tiny policy broken?")


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_every_agent_takes_a_finite_step_that_changes_every_parameter(name, mixed_seed):
    trainer = Trainer(make_agent(name), TrainConfig(**{**SMALL, "seed": mixed_seed}))
    before = {k: v.detach().clone() for k, v in trainer.policy.model.named_parameters()}
    history = trainer.train(steps=1, progress=False)
    assert len(history) == 1 and history[0].skipped is False
    assert torch.isfinite(torch.tensor(history[0].loss)) and history[0].grad_norm > 0
    unchanged = [k for k, v in trainer.policy.model.named_parameters() if torch.equal(v, before[k])]
    assert not unchanged, f"{name}: parameters not updated: {unchanged}"


def test_resume_continues_bit_for_bit(tmp_path):
    config = TrainConfig(**{**SMALL, "steps": 4, "seed": 3})
    straight = Trainer(make_agent("hicra"), config, run_dir=tmp_path / "straight")
    straight.train(progress=False)

    half = Trainer(make_agent("hicra"), config, run_dir=tmp_path / "halves")
    half.train(steps=2, progress=False)  # writes a checkpoint at step 2
    del half
    resumed = Trainer.resume(tmp_path / "halves")
    assert resumed.step == 2
    resumed.train(progress=False)

    for (k, a), (_, b) in zip(
        straight.policy.model.named_parameters(), resumed.policy.model.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), f"parameter {k} differs after resume"
    rows = [json.loads(line) for line in (tmp_path / "halves" / "metrics.jsonl").read_text().splitlines()]
    ref = [json.loads(line) for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert [r["accuracy"] for r in rows] == [r["accuracy"] for r in ref]
    assert [r["loss"] for r in rows] == [r["loss"] for r in ref]


class NaNOnStep1(GRPO):
    """GRPO whose loss is NaN on step 1 only (an injected fault)."""

    name = "nan_on_step1"
    trainer: Trainer | None = None

    def loss(self, batch, logprobs, advantages, entropy):
        loss, stats = super().loss(batch, logprobs, advantages, entropy)
        if self.trainer is not None and self.trainer.step == 1:
            loss = loss * torch.tensor(float("nan"))
        return loss, stats


def test_a_non_finite_loss_skips_the_step_and_training_goes_on(caplog, mixed_seed):
    agent = NaNOnStep1()
    trainer = Trainer(agent, TrainConfig(**{**SMALL, "steps": 3, "seed": mixed_seed}))
    agent.trainer = trainer
    trainer.train(steps=1, progress=False)
    after_step0 = {k: v.detach().clone() for k, v in trainer.policy.model.named_parameters()}
    with caplog.at_level("WARNING"):
        m1 = trainer.train_step()
    assert m1.skipped is True
    assert "non-finite" in caplog.text
    for k, v in trainer.policy.model.named_parameters():
        assert torch.equal(v, after_step0[k]) and torch.isfinite(v).all()
    m2 = trainer.train_step()
    assert m2.skipped is False
    assert any(not torch.equal(v, after_step0[k]) for k, v in trainer.policy.model.named_parameters())


def test_metrics_are_logged_one_json_line_per_step(tmp_path):
    trainer = Trainer(make_agent("hicra"), TrainConfig(**SMALL), run_dir=tmp_path)
    trainer.train(progress=False)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1]
    assert rows[0]["relative_execution_perplexity"] == pytest.approx(1.0)
    for key in ("accuracy", "pass_at_group", "semantic_entropy", "planning_ratio", "clip_frac", "grad_norm"):
        assert key in rows[1]
    assert 0.0 <= rows[1]["accuracy"] <= rows[1]["pass_at_group"] <= 1.0
    assert json.loads((tmp_path / "config.json").read_text())["agent"] == "hicra"


@pytest.mark.parametrize("name", ["grpo", "entropy_grpo"])
def test_fused_scoring_equals_a_separate_scoring_pass(name, mixed_seed):
    """With one PPO epoch the update's own forward gives the old log-probs: same step as scoring first."""
    config = TrainConfig(**{**SMALL, "seed": mixed_seed})
    fused, separate = Trainer(make_agent(name), config), Trainer(make_agent(name), config)
    assert fused.fused_scoring
    separate.fused_scoring = False
    a, b = fused.train_step(), separate.train_step()
    for key in ("loss", "grad_norm", "execution_perplexity", "execution_entropy", "planning_entropy", "clip_frac"):
        assert getattr(a, key) == pytest.approx(getattr(b, key), rel=1e-5, abs=1e-6, nan_ok=True), key
    for (k, p), (_, q) in zip(fused.policy.model.named_parameters(), separate.policy.model.named_parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=k)


def test_scoring_comes_first_when_credit_reads_entropy_or_epochs_repeat():
    assert not Trainer(make_agent("high_entropy"), TrainConfig(**SMALL)).fused_scoring
    assert not Trainer(make_agent("grpo"), TrainConfig(**{**SMALL, "ppo_epochs": 2})).fused_scoring
