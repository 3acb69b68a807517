"""The training loop with the tiny policy: every agent updates every parameter, resume is bit-for-bit,
a non-finite loss is skipped, and GRPO learns a task the tiny policy can solve."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from hicra.agents import AGENTS, Policy, TrainConfig, Trainer, make_agent
from hicra.agents.advantages import group_advantages
from hicra.agents.batch_shaping import informative_rows
from hicra.agents.grpo import GRPO
from hicra.agents.records import STEP_FIELDS

SMALL = dict(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=16, micro_batch_size=4, lr=1e-3)


class ParityReward(gym.Wrapper):
    """A synthetic reward (1 for a response of even length) for tests of the loop's mechanics: groups get mixed
    rewards whatever the tiny policy's accuracy, so every step has non-zero advantages."""

    def evaluate(self, problem_ids, responses):
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        rewards = np.array([float(len(r) % 2 == 0) for r in responses], dtype=np.float32)
        return rewards, [{**info, "correct": bool(r)} for info, r in zip(infos, rewards)]


def _trainer(agent, *, seed: int, **changes) -> Trainer:
    env = ParityReward(gym.make("hicra/Arithmetic-v0"))
    return Trainer(agent, TrainConfig(**{**SMALL, "seed": seed, **changes}), env=env)


@pytest.fixture(scope="module")
def mixed_seed() -> int:
    """The first seed whose first three rollouts (at SMALL size) each hold a group with mixed parity rewards."""
    policy = Policy.from_pretrained("tiny")
    for seed in range(16):
        trainer = Trainer(
            make_agent("grpo"), TrainConfig(**{**SMALL, "seed": seed}), policy=policy,
            env=ParityReward(gym.make("hicra/Arithmetic-v0")),
        )  # fmt: skip
        mixed = []
        for step in range(3):
            trainer.step = step
            batch = trainer.rollout({})
            mixed.append(bool(group_advantages(batch.rewards, batch.group_ids).abs().sum() > 0))
        if all(mixed):
            return seed
    pytest.fail("no seed in 0..15 gives mixed parity rewards in the first three steps")


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_every_agent_takes_a_finite_step_that_changes_every_parameter(name, mixed_seed, tmp_path):
    """Two steps of every agent (what ``hicra compare --steps 2`` runs), each logging the same metrics."""
    trainer = Trainer(make_agent(name), TrainConfig(**{**SMALL, "seed": mixed_seed}), run_dir=tmp_path,
                      env=ParityReward(gym.make("hicra/Arithmetic-v0")))  # fmt: skip
    before = {k: v.detach().clone() for k, v in trainer.policy.model.named_parameters()}
    history = trainer.train(steps=1, progress=False)
    assert len(history) == 1 and history[0].skipped is False
    assert torch.isfinite(torch.tensor(history[0].loss)) and history[0].grad_norm > 0
    history += trainer.train(steps=2, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [list(row) for row in rows] == [list(STEP_FIELDS)] * 2 and [r["step"] for r in rows] == [0, 1]
    assert 0 < rows[0]["gradient_token_frac"] <= 1 and 0 <= rows[0]["informative_group_frac"] <= 1
    unchanged = [k for k, v in trainer.policy.model.named_parameters() if torch.equal(v, before[k])]
    assert not unchanged, f"{name}: parameters not updated: {unchanged}"


def test_several_epochs_on_an_unscored_batch_are_refused_and_scored_epochs_move_the_ratio(mixed_seed, monkeypatch):
    """Unscored, every epoch took the moving weights' log-probs as the old ones: ratio 1, nothing clipped (measured:
    ratio mean 1.0 and clip fraction 0 at epoch 2, against 7.15 and 0.56 when scored first)."""
    trainer = _trainer(make_agent("grpo"), seed=mixed_seed, ppo_epochs=2, lr=1e-2)
    batch = trainer.rollout({})
    credit = trainer.agent.credit(batch, torch.Generator())
    with pytest.raises(ValueError, match=r"ppo_epochs=2 expects a scored batch .* call trainer.score\(batch\) first"):
        trainer.update(batch, credit)
    ratios = []
    loss = trainer.agent.loss

    def spy(*args, **kwargs):
        out = loss(*args, **kwargs)
        ratios.append(out[1]["ratio_mean"])
        return out

    monkeypatch.setattr(trainer.agent, "loss", spy)
    trainer.update(trainer.score(batch), credit)
    half = len(ratios) // 2
    assert ratios[:half] == pytest.approx([1.0] * half) and any(abs(r - 1) > 1e-3 for r in ratios[half:])


def test_importance_weights_are_taken_against_the_old_log_probs_in_every_epoch(mixed_seed, monkeypatch):
    """At epoch 0 the current and old log-probs are equal; at epoch 1 only the old ones are the sampling policy's."""
    import hicra.agents.base as base

    trainer = _trainer(make_agent("grpo"), seed=mixed_seed, ppo_epochs=2, lr=1e-2)
    batch = trainer.score(trainer.rollout({}))
    seen, weights = [], base.truncated_is_weights
    monkeypatch.setattr(
        base, "truncated_is_weights", lambda old, *a, **k: seen.append(old.clone()) or weights(old, *a, **k)
    )
    trainer.update(batch, trainer.agent.credit(batch, torch.Generator()))
    olds = {tuple(row.tolist()) for row in batch.old_logprobs}
    assert len(seen) == 4 and all(tuple(row.tolist()) in olds for old in seen for row in old)  # 2 epochs x 2 micro


@pytest.mark.parametrize("epochs", [1, 2])
def test_the_scoring_pass_uses_the_sampling_temperature(epochs, mixed_seed):
    """At T = 0.7 the trainer's log-probs of the sampled tokens are the sampler's (2.5e-7 apart); a scoring pass at
    T = 1 would leave them 2.8e-2 apart."""
    metrics = _trainer(make_agent("grpo"), seed=mixed_seed, temperature=0.7, ppo_epochs=epochs).train_step()
    assert metrics.sampler_logprob_diff < 1e-4


class ConstantOnFirstRound(gym.Wrapper):
    """Parity rewards, except every response to one of ``constant`` problems gets 1 (a group with no signal)."""

    def __init__(self, env, constant):
        super().__init__(env)
        self.constant = set(constant)

    def evaluate(self, problem_ids, responses):
        rewards, infos = ParityReward(self.env).evaluate(problem_ids, responses)
        rewards = np.array([1.0 if p in self.constant else r for p, r in zip(problem_ids, rewards)], dtype=np.float32)
        return rewards, [{**info, "correct": bool(r)} for info, r in zip(infos, rewards)]


@pytest.mark.parametrize("cap", [0, 2])
def test_dynamic_sampling_replaces_groups_without_signal_within_its_cap_and_dapo_shapes_long_responses(cap):
    from hicra.agents.batch_shaping import overlong_penalty
    from hicra.agents.seeds import draw_problems

    config = TrainConfig(**{**SMALL, "prompts_per_step": 2})
    first = draw_problems(gym.make("hicra/Arithmetic-v0"), config.seed, 0, 2)[1]
    env = ConstantOnFirstRound(gym.make("hicra/Arithmetic-v0"), first)
    trainer = Trainer(make_agent("dapo", max_extra_rounds=cap), config, env=env)
    batch = trainer.rollout({})
    assert len(torch.unique(batch.group_ids)) == 2 and len(batch) == 2 * config.group_size
    assert 1 <= batch.extra_rounds <= cap if cap else batch.extra_rounds == 0
    informative = informative_rows(batch.correct.float(), batch.group_ids)  # the verifier's, before shaping
    assert informative.all() or batch.extra_rounds == cap  # short of signal only when the cap is spent
    assert not informative[batch.group_ids < 2].any()  # round 0's groups only ever fill in
    parity = torch.tensor([float(len(t) % 2 == 0) for t in batch.texts])
    base = torch.where(torch.tensor([p in set(first) for p in batch.problem_ids]), 1.0, parity)
    penalty = overlong_penalty(batch.response_mask.sum(1), max_length=16, buffer=3)  # 0.2 x 16 tokens
    torch.testing.assert_close(batch.rewards, base + penalty)
    metrics = trainer.train_step()
    assert metrics.extra_sampling_rounds <= cap and metrics.length_penalty <= 0


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over_and_keeps_the_logs(tmp_path, caplog):
    config = TrainConfig(**{**SMALL, "steps": 1, "checkpoint_every": 0})
    Trainer(make_agent("grpo"), config, run_dir=tmp_path).train_step()  # a step logged, no checkpoint yet
    logged, responses = (tmp_path / "metrics.jsonl").read_text(), (tmp_path / "rollouts.jsonl").read_text()
    with caplog.at_level("WARNING"):
        trainer = Trainer.resume(tmp_path)
    assert trainer.step == 0 and trainer.agent.name == "grpo" and trainer.config == config
    assert "no checkpoint" in caplog.text and "starting it over" in caplog.text and "partial-0" in caplog.text
    assert (tmp_path / "partial-0" / "metrics.jsonl").read_text() == logged
    assert (tmp_path / "partial-0" / "rollouts.jsonl").read_text() == responses  # not appended to by the restart
    assert not (tmp_path / "metrics.jsonl").exists() and not (tmp_path / "rollouts.jsonl").exists()
    with pytest.raises(FileNotFoundError, match=r"no checkpoint in .*elsewhere, nor a config\.json"):
        Trainer.resume(tmp_path / "elsewhere")


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
    trainer = _trainer(agent, seed=mixed_seed, steps=3)
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
    assert json.loads((tmp_path / "config.json").read_text())["agent"]["name"] == "hicra"


@pytest.mark.parametrize("name", ["grpo", "hicra", "entropy_grpo"])
def test_fused_scoring_equals_a_separate_scoring_pass(name, mixed_seed):
    """With one PPO epoch the update's own forward gives the old log-probs: same step as scoring first."""
    fused, separate = _trainer(make_agent(name), seed=mixed_seed), _trainer(make_agent(name), seed=mixed_seed)
    assert not fused.score_first
    separate.score_first = True
    a, b = fused.train_step(), separate.train_step()
    keys = ("loss", "grad_norm", "execution_perplexity", "planning_perplexity", "execution_entropy", "planning_entropy",
            "clip_frac", "amplified_ratio", "sampler_logprob_diff")  # fmt: skip
    for key in keys:
        assert getattr(a, key) == pytest.approx(getattr(b, key), rel=1e-5, abs=1e-6, nan_ok=True), key
    for (k, p), (_, q) in zip(fused.policy.model.named_parameters(), separate.policy.model.named_parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=k)


def test_scoring_comes_first_when_credit_reads_entropy_or_epochs_repeat():
    assert Trainer(make_agent("high_entropy"), TrainConfig(**SMALL)).score_first
    assert Trainer(make_agent("grpo"), TrainConfig(**{**SMALL, "ppo_epochs": 2})).score_first


def test_hicra_differs_from_grpo_exactly_on_real_planning_tokens():
    """A guard against HICRA silently becoming GRPO: the tiny policy's own rollouts hold planning tokens, and
    HICRA's token advantages differ from GRPO's on exactly those tokens (where the advantage is not 0)."""
    trainer = Trainer(make_agent("hicra"), TrainConfig(**{**SMALL, "prompts_per_step": 4, "group_size": 8}))
    for step in range(8):  # the first step whose rollout has planning tokens in a group with mixed rewards
        trainer.step = step
        batch = trainer.rollout({})
        planning = batch.planning_mask & batch.response_mask
        assert int(planning.sum()) > 0, "the tiny policy's rollouts should contain Strategic Grams"
        if (group_advantages(batch.rewards, batch.group_ids)[:, None] != 0).expand_as(planning)[planning].any():
            break
    else:
        pytest.fail("8 steps without planning tokens in a mixed-reward group: is the tiny policy broken?")
    generator = torch.Generator()
    hicra, grpo = make_agent("hicra").credit(batch, generator), make_agent("grpo").credit(batch, generator)
    differs = (hicra.advantages != grpo.advantages) & batch.response_mask
    nonzero = grpo.advantages != 0
    assert differs.any()
    assert torch.equal(differs, planning & nonzero)
    assert torch.equal(hicra.amplified, planning)


KILL_SCRIPT = """
import sys, torch
torch.set_num_threads(1)
from hicra.agents import TrainConfig, Trainer, make_agent
run_dir, resume = sys.argv[1], sys.argv[2] == "resume"
if resume:
    trainer = Trainer.resume(run_dir)
else:
    config = TrainConfig(steps=14, prompts_per_step=2, group_size=4, max_new_tokens=16, micro_batch_size=4, lr=1e-3,
                         seed=3)  # the default checkpoint schedule
    trainer = Trainer(make_agent("hicra"), config, run_dir=run_dir)
trainer.train(progress=False)
"""


def _params(run_dir):
    from hicra.agents.checkpoint import load_checkpoint

    return load_checkpoint(run_dir).model_state


def _rows(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.startswith("time_")} for r in rows]


def test_a_run_killed_with_sigkill_resumes_to_the_same_metrics_and_parameters(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    def run(run_dir, mode):
        return subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(run_dir), mode])

    assert run(tmp_path / "straight", "new").wait(timeout=600) == 0
    victim = run(tmp_path / "killed", "new")
    metrics = tmp_path / "killed" / "metrics.jsonl"
    deadline = time.monotonic() + 600
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 11):
        assert victim.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    steps_before = len(metrics.read_text().splitlines())
    assert 11 <= steps_before < 14
    assert run(tmp_path / "killed", "resume").wait(timeout=600) == 0
    assert _rows(tmp_path / "killed") == _rows(tmp_path / "straight")
    straight, resumed = _params(tmp_path / "straight"), _params(tmp_path / "killed")
    for key, value in straight.items():
        assert torch.equal(value, resumed[key]), key


def test_checkpoints_fall_due_by_steps_and_by_wall_time(monkeypatch):
    trainer = Trainer(make_agent("grpo"), TrainConfig(**{**SMALL, "checkpoint_every": 3, "checkpoint_minutes": 2.0}))
    now = [1000.0]
    monkeypatch.setattr("hicra.agents.trainer.time.monotonic", lambda: now[0])
    trainer._last_save = now[0]
    due = []
    for step in range(1, 8):
        trainer.step, now[0] = step, now[0] + 50.0  # 50 s a step: 2 minutes pass during step 3
        due.append(trainer._checkpoint_due())
        if due[-1]:
            trainer._last_save = now[0]
    assert due == [False, False, True, False, False, True, False]
    trainer._last_save, now[0] = 0.0, 121.0
    trainer.step = 7
    assert trainer._checkpoint_due()  # by time alone


class EveryAnswerRight(gym.Wrapper):
    """A user's wrapper that rescores responses: the trainer must call it, not the env underneath."""

    calls = 0

    def evaluate(self, problem_ids, responses):
        EveryAnswerRight.calls += 1
        _, infos = self.env.get_wrapper_attr("evaluate")(problem_ids, responses)
        return np.ones(len(responses), dtype=np.float32), [{**info, "correct": True} for info in infos]


def test_the_trainer_goes_through_a_users_wrapper():
    env = EveryAnswerRight(gym.make("hicra/Arithmetic-v0"))
    trainer = Trainer(make_agent("grpo"), TrainConfig(**SMALL), env=env)
    batch = trainer.rollout({})
    assert EveryAnswerRight.calls == 1
    assert bool((batch.rewards == 1).all()) and bool(batch.correct.all())
