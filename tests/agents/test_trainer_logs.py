"""What a training run writes: the same metric names in JSON lines and TensorBoard, the step's responses in
``rollouts.jsonl``, the lexicon it used (path and sha256), and the TRL-style metrics (reward_std, entropy, kl)."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
import torch

from hicra.agents import TrainConfig, Trainer, make_agent
from hicra.agents.policy import Policy

SMALL = dict(steps=2, prompts_per_step=2, group_size=4, max_new_tokens=16, micro_batch_size=4, lr=1e-3)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_tensorboard_gets_every_metric_of_metrics_jsonl_and_rollouts_are_logged(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard back end needs the tensorboard package")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = TrainConfig(**SMALL, log_to="tensorboard", env_kwargs={"num_problems": 8}, heldout_problems=2)
    trainer = Trainer(make_agent("hicra"), config, run_dir=tmp_path)
    trainer.train(progress=False)
    rows = _lines(tmp_path / "metrics.jsonl")
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    finite = {k for k, v in rows[0].items() if isinstance(v, (int, float)) and k != "step"}
    assert {f"train/{k}" for k in finite} <= tags
    for key in ("reward", "reward_std", "entropy", "planning_ratio", "semantic_entropy", "clip_frac"):
        logged = [(e.step, e.value) for e in events.Scalars(f"train/{key}")]
        assert logged == [(r["step"], pytest.approx(r[key], rel=1e-6, abs=1e-7)) for r in rows]
    assert "heldout/heldout_accuracy" in tags
    (heldout,) = _lines(tmp_path / "heldout.jsonl")
    assert events.Scalars("heldout/heldout_accuracy")[0].value == pytest.approx(heldout["heldout_accuracy"])

    rollouts = _lines(tmp_path / "rollouts.jsonl")
    assert len(rollouts) == 2 * 2 * 4  # steps x B x G
    for row in rows:
        step = [r for r in rollouts if r["step"] == row["step"]]
        rewards = torch.tensor([r["reward"] for r in step])
        assert row["accuracy"] == pytest.approx(sum(r["correct"] for r in step) / len(step))
        assert row["reward"] == pytest.approx(float(rewards.mean()))
        assert row["reward_std"] == pytest.approx(float(rewards.std()))  # unbiased, as TRL logs it
        assert all(isinstance(r["text"], str) and r["problem_id"] for r in step)


def test_entropy_is_the_token_weighted_mean_of_the_planning_and_execution_entropies_and_kl_needs_a_reference():
    trainer = Trainer(make_agent("hicra"), TrainConfig(**{**SMALL, "steps": 1}))
    (m,) = trainer.train(progress=False)
    if m.planning_ratio > 0:
        expected = m.planning_ratio * m.planning_entropy + (1 - m.planning_ratio) * m.execution_entropy
    else:
        expected = m.execution_entropy
    assert m.entropy == pytest.approx(expected, rel=1e-5)
    assert math.isnan(m.kl)  # no reference without kl_coef
    with_ref = Trainer(make_agent("grpo", kl_coef=0.1), TrainConfig(**{**SMALL, "steps": 1}))
    (m,) = with_ref.train(progress=False)
    assert m.kl == pytest.approx(0.0, abs=1e-6)  # the reference is the step-0 policy itself: k3 is 0


def test_the_run_records_its_lexicon_and_a_bad_lexicon_fails_before_the_model_loads(tmp_path, monkeypatch):
    lexicon = tmp_path / "grams.json"
    lexicon.write_text(json.dumps(["let's break this down", "work our way"]))
    trainer = Trainer(make_agent("hicra"), TrainConfig(**SMALL, grams=str(lexicon)), run_dir=tmp_path / "run")
    assert trainer.grams.grams == ("let's break this down", "work our way")
    recorded = json.loads((tmp_path / "run" / "lexicon.json").read_text())
    assert recorded == {"path": str(lexicon), "sha256": hashlib.sha256(lexicon.read_bytes()).hexdigest(), "grams": 2}

    def no_model(*args, **kwargs):
        raise AssertionError("the policy was built before the lexicon was checked")

    monkeypatch.setattr(Policy, "from_pretrained", no_model)
    (tmp_path / "bad.json").write_text('{"grams": 1}')
    with pytest.raises(ValueError, match=r"bad\.json: expected a JSON list of strings, got dict"):
        Trainer(make_agent("hicra"), TrainConfig(**SMALL, grams=str(tmp_path / "bad.json")))
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        Trainer(make_agent("hicra"), TrainConfig(**SMALL, grams=str(tmp_path / "missing.txt")))


def test_resume_refuses_a_lexicon_that_changed_since_the_run_started(tmp_path):
    lexicon = tmp_path / "grams.txt"
    lexicon.write_text("let's break this down\n")
    run_dir = tmp_path / "run"
    Trainer(make_agent("hicra"), TrainConfig(**{**SMALL, "steps": 1}, grams=str(lexicon)), run_dir=run_dir).train(
        progress=False
    )
    assert Trainer.resume(run_dir).step == 1
    lexicon.write_text("let's break this down\nwork our way\n")
    with pytest.raises(ValueError, match=r"resume: expected the lexicon .*grams\.txt with sha256"):
        Trainer.resume(run_dir)
