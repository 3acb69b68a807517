"""HICRA inside TRL's GRPOTrainer: token advantages, loss parity with TRL at alpha=0, real steps on the tiny policy."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("trl", reason="trl is not installed: pip install 'hicra[trl]' (tested with trl==1.16.0)")

import torch
import trl
from transformers import AutoModelForCausalLM, AutoTokenizer

from hicra.agents.advantages import hicra_advantages
from hicra.agents.planning import StrategicGrams
from hicra.agents.presets import resolve_model
from hicra.agents.trl_trainer import HICRAGRPOTrainer
from hicra.benchmarks.perf.trl_side import grpo_config
from hicra.verifiers.rewards import verifier_reward
from hicra_env.datasets import env_dataset

GROUP, PROMPTS, MAX_NEW = 4, 2, 16


def length_reward(prompts, completions, **kwargs):
    """A reward that differs inside every group (the tiny policy rarely solves a problem): non-zero advantages."""
    return [float(len(c)) for c in completions]


def _trainer(cls, tmp_path: Path, *, rewards=(length_reward,), steps: int = 1, **kwargs):
    """``cls`` (TRL's GRPOTrainer or ours) on the tiny policy, configured as hicra's trainer (trl_side's config)."""
    path = resolve_model("tiny")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    args = grpo_config(
        trl, tmp_path / cls.__name__, steps=steps, lr=1e-2, group=GROUP, prompts=PROMPTS, micro=GROUP * PROMPTS,
        max_new=MAX_NEW,
    )  # fmt: skip
    return cls(
        model=AutoModelForCausalLM.from_pretrained(path, dtype="float32"), reward_funcs=list(rewards), args=args,
        train_dataset=env_dataset("hicra/Arithmetic-v0", num_problems=PROMPTS * steps), processing_class=tokenizer,
        **kwargs,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny policy gains nothing from threads, and on a shared CPU two threads made generation 10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def hicra_trainer(tmp_path_factory):
    return _trainer(HICRAGRPOTrainer, tmp_path_factory.mktemp("hicra"), alpha=0.2)


def _batch(tokenizer, texts: list[str], advantages: list[float]) -> dict:
    """A TRL generation batch of ``texts`` (right-padded completion ids) with per-completion advantages."""
    rows = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
    width = max(map(len, rows))
    ids = torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    return {"completion_ids": ids, "completion_mask": mask, "advantages": torch.tensor(advantages)}


def _overlapping_tokens(tokenizer, text: str, span: tuple[int, int]) -> list[int]:
    """Token positions of ``text`` whose characters overlap ``span`` (the tokenizer's own offsets)."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return [i for i, (a, b) in enumerate(offsets) if a < span[1] and span[0] < b]


def test_token_advantages_are_a_plus_alpha_abs_a_on_planning_tokens(hicra_trainer):
    tok = hicra_trainer.processing_class
    texts = ["Wait, 2 + 2 = 4.", "2 + 3 = 5, so 5."]
    batch = _batch(tok, texts, [0.5, -0.5])
    out = hicra_trainer.hicra_credit(batch)
    expected = torch.tensor([[0.5] * batch["completion_ids"].shape[1], [-0.5] * batch["completion_ids"].shape[1]])
    for i in _overlapping_tokens(tok, texts[0], (0, 4)):  # "Wait": (1 + 0.2) * 0.5
        expected[0, i] = 0.6
    for i in _overlapping_tokens(tok, texts[1], (11, 13)):  # "so": (1 - 0.2) * -0.5
        expected[1, i] = -0.4
    assert (expected != torch.tensor([[0.5], [-0.5]])).sum() >= 2  # both rows have planning tokens
    torch.testing.assert_close(out["advantages"], expected)
    assert set(out) == set(batch) and out["completion_ids"] is batch["completion_ids"]
    metrics = hicra_trainer._metrics["train" if hicra_trainer.model.training else "eval"]
    n_planning = int((expected != torch.tensor([[0.5], [-0.5]])).sum())
    assert metrics["planning_ratio"][-1] == pytest.approx(n_planning / int(batch["completion_mask"].sum()))
    assert metrics["semantic_entropy"][-1] == pytest.approx(1.0)  # "wait" once, "so" once: 1 bit


def test_tool_tokens_are_never_planning_tokens(hicra_trainer):
    tok = hicra_trainer.processing_class
    batch = _batch(tok, ["Wait, 2 + 2 = 4."], [0.5])
    batch["tool_mask"] = torch.ones_like(batch["completion_mask"])
    batch["tool_mask"][0, :4] = 0  # "Wait" came from a tool
    assert (hicra_trainer.hicra_credit(batch)["advantages"] == 0.5).all()


def test_bad_alpha_is_refused_before_loading_anything():
    with pytest.raises(ValueError, match="alpha: expected a finite float >= 0"):
        HICRAGRPOTrainer(model="never-loaded", alpha=-0.1)


def test_loss_equals_trls_at_alpha_zero_and_differs_at_alpha_02(tmp_path):
    torch.manual_seed(0)
    grpo = _trainer(trl.GRPOTrainer, tmp_path)
    hicra = _trainer(HICRAGRPOTrainer, tmp_path, alpha=0.0)
    rows = [row for row in grpo.train_dataset.to_list()[:PROMPTS] for _ in range(GROUP)]
    batch = grpo._generate_and_score_completions(rows)  # TRL's own batch: Float[B] advantages
    tok, mask = grpo.processing_class, batch["completion_mask"].bool()
    planning = StrategicGrams().token_mask(tok, batch["completion_ids"], mask)
    assert (planning & mask).any() and (batch["advantages"] != 0).any()  # the comparison below is not vacuous

    loss_trl = grpo.compute_loss(grpo.model, batch)
    ours = hicra.hicra_credit(batch)
    assert ours["advantages"].shape == batch["completion_ids"].shape
    torch.testing.assert_close(hicra.compute_loss(hicra.model, ours), loss_trl, rtol=1e-6, atol=1e-7)

    amplified = {**batch, "advantages": hicra_advantages(batch["advantages"], planning, 0.2)}
    assert abs(hicra.compute_loss(hicra.model, amplified).item() - loss_trl.item()) > 1e-6


def test_real_grpo_steps_train_with_hicra_credit_and_the_verifier_reward(tmp_path):
    # The tiny policy rarely solves a problem: the length reward makes the advantages (and the update) non-zero.
    trainer = _trainer(HICRAGRPOTrainer, tmp_path, rewards=(verifier_reward, length_reward), steps=2, alpha=0.2)
    seen = []
    credit = trainer.hicra_credit
    trainer.hicra_credit = lambda batch: seen.append((batch, credit(batch))) or seen[-1][1]
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()

    assert trainer.state.global_step == 2 and len(seen) == 2
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before, trainer.model.parameters()))
    for trl_batch, ours in seen:  # each step's token advantages are hicra's own, on TRL's advantages
        mask = trl_batch["completion_mask"].bool()
        planning = StrategicGrams().token_mask(trainer.processing_class, trl_batch["completion_ids"], mask)
        torch.testing.assert_close(ours["advantages"], hicra_advantages(trl_batch["advantages"], planning, 0.2))
    logged = {key: value for row in trainer.state.log_history for key, value in row.items()}
    assert 0.0 < logged["planning_ratio"] <= 1.0
    assert logged["semantic_entropy"] >= 0.0
    assert "rewards/verifier_reward/mean" in logged
