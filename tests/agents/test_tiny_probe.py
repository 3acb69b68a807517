"""The step-0 probe's pure parts: which strategy a response took and where its deciding token is."""

from __future__ import annotations

import pytest

from hicra.agents.tiny_probe import decision_index, strategy_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We have 14 and 2 steps. Go back to the start: 14 + 5 = 19", "backtrack"),
        ("We have 14 and 2 steps. Applying the steps: 14 + 4 = 18", "apply"),
        ("We have 14 and 2 steps. Applying the steps: 14 + 4 = 18. Go back to the start:", "apply"),  # earliest
        ("We have 14 and 2 steps. 14 + 4 = 18", "none"),
        ("", "none"),
    ],
)
def test_strategy_of_names_the_earliest_opener_or_none(text, expected):
    assert strategy_of(text, ["backtrack", "apply"]) == expected


class _CharTokenizer:
    """Decodes id ``i`` to ``PIECES[i]``: a stand-in with hand-chosen token boundaries."""

    PIECES = ("We", " have", " 1", "4", ".", " Go", " back", ":", " 1")

    def decode(self, ids):
        return "".join(self.PIECES[i] for i in ids)


def test_decision_index_is_the_first_token_after_the_first_full_stop():
    assert decision_index(_CharTokenizer(), list(range(9))) == 5  # " Go"
    assert decision_index(_CharTokenizer(), [0, 1, 2, 3]) is None  # no full stop yet
    assert decision_index(_CharTokenizer(), [0, 1, 2, 3, 4]) is None  # nothing after it


def test_eval_noise_re_evaluates_a_runs_heldout_problems_in_and_out_of_distribution(tmp_path):
    """A run folder without checkpoints: step 0's weights, 2 held-out problems x 1 sample, 2 eval seeds per split;
    accuracies are counts over 2 responses."""
    import json

    from hicra.agents.tiny_probe import eval_noise

    train = {"env_id": "hicra/MiniatureV2-v0", "env_kwargs": {"num_problems": 8}, "model": "tiny-v2",
             "heldout_problems": 2, "heldout_samples": 1, "max_new_tokens": 4}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps({"agent": {}, "train": train}))
    results = eval_noise(str(tmp_path), eval_seeds=2, ood={"difficulty": 2})
    assert [(split, seed) for split, seed, _ in results] == [("in", 0), ("in", 1), ("ood", 0), ("ood", 1)]
    assert all(accuracy == 0.0 for *_, accuracy in results)  # 4 tokens never reach a boxed answer


def test_eval_noise_uses_the_recorded_heldout_problems_and_initial_skips_the_checkpoint(tmp_path, monkeypatch):
    """The indices a run recorded in heldout_problems.json (held-out chosen by text skips some), per split; with
    ``initial`` the checkpoint is not loaded (a missing model.pt would fail)."""
    import json

    from hicra.agents import checkpoint, heldout
    from hicra.agents.tiny_probe import eval_noise

    train = {"env_id": "hicra/MiniatureV2-v0", "env_kwargs": {"num_problems": 8}, "model": "tiny-v2",
             "heldout_problems": 3, "heldout_samples": 2, "max_new_tokens": 4}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps({"agent": {}, "train": train}))
    recorded = {"heldout": {"indices": [8, 10, 11]}, "heldout_ood": {"indices": [8, 9, 12]}}
    (tmp_path / "heldout_problems.json").write_text(json.dumps(recorded))
    seen = []

    def fake_counts(policy, env, indices, sampling, samples, seed):
        seen.append(list(indices))
        return 3, 2, 3  # 3 of 3 x 2 responses right

    monkeypatch.setattr(heldout, "heldout_counts", fake_counts)
    monkeypatch.setattr(checkpoint, "latest_checkpoint", lambda run_dir: tmp_path / "checkpoints" / "missing")
    results = eval_noise(str(tmp_path), eval_seeds=1, ood={"difficulty": 2}, initial=True)
    assert seen == [[8, 10, 11], [8, 9, 12]]
    assert results == [("in", 0, 0.5), ("ood", 0, 0.5)]
    with pytest.raises(FileNotFoundError):
        eval_noise(str(tmp_path), eval_seeds=1)  # not initial: loads the (missing) checkpoint
