"""Held-out problems that no run has seen: chosen by text past the training set and the tiny warm start, recorded
in the run folder, with an out-of-distribution split logged beside the in-distribution one."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections import Counter
from pathlib import Path

import gymnasium as gym
import pytest

import hicra_env  # noqa: F401  (registers the hicra/* ids)
from hicra.agents import TrainConfig, Trainer, make_agent
from hicra.agents.execution_probe import PREFIX
from hicra.agents.heldout import HELDOUT_FILE, choose_heldout, model_folder, posed, training_texts, warm_start_texts
from hicra_env import MathEnv, Problem
from hicra_env.sources import ListSource

PRESETS = Path(__file__).resolve().parents[2] / "benchmarks" / "presets"


def _list_env(texts: list[str], num_problems: int, subjects: str | None = None) -> MathEnv:
    problems = [Problem(f"p{i}", t, "1", subject=subjects and subjects[i]) for i, t in enumerate(texts)]
    return MathEnv(ListSource("hand", problems), num_problems=num_problems)


def test_candidates_seen_in_training_the_warm_start_or_earlier_are_skipped():
    env = _list_env(["a", "b", "c", "a", "d", "b", "d", "e", "f", "g"], num_problems=3)
    seen = {"training": training_texts(env, 3), "warm_start": {"e"}}
    chosen = choose_heldout(env, 3, 3, seen)
    # 3 "a" training, 4 "d" kept, 5 "b" training, 6 "d" again, 7 "e" warm start, 8 "f" and 9 "g" kept
    assert chosen.indices == (4, 8, 9) and chosen.problem_ids == ("p4", "p8", "p9")
    assert chosen.texts == ("d", "f", "g") and chosen.first_index == 3
    assert chosen.skipped == {"training": 2, "warm_start": 1, "duplicate": 1}
    assert chosen.record()["text_sha256"][0] == hashlib.sha256(b"d").hexdigest()
    with pytest.raises(ValueError, match=r"found 3 of 4 unseen problems .* ran out"):
        choose_heldout(env, 3, 4, seen)


def test_a_skipped_candidate_is_replaced_by_one_of_its_subject():
    env = _list_env(["a", "b", "a", "c", "d", "e"], num_problems=2, subjects="xyxyyx")
    # the window 2..3 holds one x and one y; 2 ("a", x) is a training text, 4 is a y past the y quota, 5 is an x
    chosen = choose_heldout(env, 2, 2, {"training": training_texts(env, 2)})
    assert chosen.indices == (3, 5) and chosen.skipped == {"training": 1, "duplicate": 0}


def test_warm_start_texts_are_the_problems_the_tiny_build_posed(tmp_path):
    texts = warm_start_texts(model_folder(None, "tiny"))
    _, info = (env := gym.make("hicra/Miniature-v0")).reset(seed=0)  # the recipe's first draw (seed 0)
    assert env.get_wrapper_attr("problem")(info["problem_id"]).problem in texts
    assert not any("Please reason step by step" in t for t in texts)  # the template is taken off
    assert 3000 < len(texts) <= 3600  # 3000 miniature + 600 arithmetic problems, some texts alike
    assert warm_start_texts(str(tmp_path)) == frozenset() and warm_start_texts(None) == frozenset()


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESETS.glob("*.toml")))
def test_preset_heldout_shares_no_text_with_training_or_the_warm_start(preset):
    train = tomllib.loads((PRESETS / f"{preset}.toml").read_text())["train"]
    env, first = gym.make(train["env_id"], **train["env_kwargs"]), train["env_kwargs"]["num_problems"]
    count = train["heldout_problems"]
    seen = {"training": training_texts(env, first), "warm_start": warm_start_texts(model_folder(None, train["model"]))}
    window = [posed(env, i) for i in range(first, first + count)]
    assert any(p.problem in seen["training"] | seen["warm_start"] for p in window)  # what choosing by index gave
    chosen = choose_heldout(env, first, count, seen)
    assert len(chosen.texts) == len(set(chosen.texts)) == count
    assert not set(chosen.texts) & (seen["training"] | seen["warm_start"])
    assert Counter(posed(env, i).subject for i in chosen.indices) == Counter(p.subject for p in window)


def test_a_run_records_its_heldout_problems_and_logs_the_ood_split(tmp_path):
    config = TrainConfig(
        env_id="hicra/Miniature-v0", env_kwargs={"num_problems": 8}, steps=2, prompts_per_step=2, group_size=2,
        max_new_tokens=8, micro_batch_size=8, heldout_problems=4, heldout_samples=1, heldout_every=1,
        heldout_ood_env_kwargs={"difficulty": 2},
    )  # fmt: skip
    trainer = Trainer(make_agent("grpo"), config, run_dir=tmp_path)
    trainer.train(progress=False)
    record = json.loads((tmp_path / HELDOUT_FILE).read_text())
    env = gym.make("hicra/Miniature-v0", num_problems=8)
    seen = {"training": training_texts(env, 8), "warm_start": warm_start_texts(model_folder(None, "tiny"))}
    assert record["heldout"]["problem_ids"] == list(choose_heldout(env, 8, 4, seen).problem_ids)
    ood = gym.make("hicra/Miniature-v0", num_problems=8, difficulty=2)
    for split, source in (("heldout", env), ("heldout_ood", ood)):
        texts = [source.get_wrapper_attr("problem")(pid).problem for pid in record[split]["problem_ids"]]
        assert record[split]["text_sha256"] == [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        assert not set(texts) & (seen["training"] | seen["warm_start"])
    assert all("-d2-" in pid for pid in record["heldout_ood"]["problem_ids"])
    assert record["heldout_ood"]["env_kwargs"] == {"num_problems": 8, "difficulty": 2}
    assert {k: v["solutions"] for k, v in record["execution_probe"]["by_family_strategy"].items()} == {
        f"{f}/{s}": 1 for f, ss in trainer.strategies.layout.items() for s in ss
    }  # every strategy of each of the 4 problems (one per family)

    rows = [json.loads(line) for line in (tmp_path / "heldout.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert row["heldout_ood_problems"] == 4 and row["heldout_ood_samples"] == 1
        assert row["heldout_ood_accuracy"] * 4 == pytest.approx(round(row["heldout_ood_accuracy"] * 4))
        perplexities = {k: v for k, v in row.items() if k.startswith(PREFIX + "/")}
        assert len(perplexities) == 4 + 8 and all(v > 1 for v in perplexities.values())  # 4 strategies, 8 pairs

    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for row in metrics:
        counts = {k: v for k, v in row.items() if k.startswith("strategy_n/")}
        assert len(counts) == 4 * 3 and sum(counts.values()) == 2 * 2  # 4 families x (2 strategies + no_gram); B x G
