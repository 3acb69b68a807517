"""The verifier as other libraries' reward: TRL's ``reward_funcs`` callable and verl's ``compute_score``."""

from __future__ import annotations

import asyncio
import importlib.util
import pickle

import pytest

from hicra.verifiers import rewards, verify_batch
from hicra.verifiers.rewards import VerifierReward, completion_text, compute_score, verifier_reward

VERL_MISSING = importlib.util.find_spec("verl") is None
VERL_REASON = (
    "verl is not installed; it pins transformers<5.11 and ray, so it is not in the dev extra: "
    "`make install-verl` adds verl==0.9.1 --no-deps and the few packages its reward managers import"
)


# ---------------------------------------------------------------- completions as text


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("so \\boxed{4}", "so \\boxed{4}"),
        (b"\\boxed{4}", "\\boxed{4}"),
        ([{"role": "assistant", "content": "so \\boxed{4}"}], "so \\boxed{4}"),
        ({"role": "assistant", "content": "so \\boxed{4}"}, "so \\boxed{4}"),
        ([{"role": "assistant", "content": "a"}, {"role": "tool", "content": "\\boxed{9}"}], "a"),
        ([{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}], "a\nb"),
        ([{"role": "assistant", "content": [{"type": "text", "text": "\\boxed{4}"}]}], "\\boxed{4}"),
        ([{"role": "assistant", "content": None}], ""),
        ([{"content": "\\boxed{4}"}], "\\boxed{4}"),  # no role: the model's own message
        ([{"role": "user", "content": "\\boxed{4}"}], ""),
        (None, ""),
        (42, ""),
        ([], ""),
        (["\\boxed{4}"], ""),  # a list of strings is not a chat
    ],
)
def test_completion_text_reads_strings_and_chat_messages(completion, expected):
    assert completion_text(completion) == expected


# ---------------------------------------------------------------- TRL


def test_trl_reward_scores_like_verify_batch():
    completions = ["so \\boxed{4}", "\\boxed{5}", "no answer here", "\\boxed{\\frac{1}{2}}", "#### 7"]
    golds = ["4", "4", "4", "0.5", "7"]
    got = verifier_reward(prompts=["p"] * 5, completions=completions, answer=golds)
    assert got == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert got == [v.reward for v in verify_batch(completions, golds)]


def test_trl_reward_bad_completions_score_zero_and_never_raise():
    completions = [None, 3.5, {"role": "assistant"}, [{"bogus": 1}], object(), "\\boxed{4}"]
    got = verifier_reward(prompts=[None] * 6, completions=completions, answer=["4"] * 6)
    assert got == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_trl_reward_reads_chat_completions():
    chat = [[{"role": "assistant", "content": "2 + 2 = 4, so \\boxed{4}"}], [{"role": "assistant", "content": "5"}]]
    prompts = [[{"role": "user", "content": "2 + 2?"}]] * 2
    assert verifier_reward(prompts=prompts, completions=chat, answer=["4", "4"]) == [1.0, 0.0]


def test_trl_reward_takes_trl_keyword_arguments_and_logs_extracted_answers():
    logged = {}
    got = verifier_reward(
        prompts=["a", "b"], completions=["\\boxed{4}", "nothing"], completion_ids=[[1], [2]], answer=["4", 4],
        problem_id=["x", "y"], trainer_state=object(), log_extra=logged.__setitem__, log_metric=lambda *a: None,
    )  # fmt: skip
    assert got == [1.0, 0.0]
    assert logged == {"extracted": ["4", None], "verdict": ["ok", "no_answer"]}


def test_trl_reward_options_reach_the_verifier(monkeypatch):
    seen = {}

    def spy(responses, golds, **kwargs):
        seen.update(kwargs, responses=responses, golds=golds)
        return verify_batch(responses, golds, **kwargs)

    monkeypatch.setattr(rewards, "verify_batch", spy)
    reward = VerifierReward(answer_column="solution", timeout_s=1.5, workers=1, mode="strict", multiple="reject")
    assert reward(prompts=["p"], completions=["The answer is 4"], solution=["4"]) == [0.0]  # strict: boxes only
    assert seen == {
        "timeout_s": 1.5, "workers": 1, "mode": "strict", "multiple": "reject",
        "responses": ["The answer is 4"], "golds": ["4"],
    }  # fmt: skip
    monkeypatch.undo()
    assert VerifierReward(answer_column="solution")(prompts=["p"], completions=["The answer is 4"], solution=["4"]) == [
        1.0
    ]


def test_trl_reward_has_a_name_and_pickles():
    assert verifier_reward.__name__ == "verifier_reward"
    assert VerifierReward(name="math").__name__ == "math"
    assert pickle.loads(pickle.dumps(verifier_reward)) == verifier_reward


def test_trl_reward_without_the_answer_column_names_the_columns():
    with pytest.raises(KeyError, match=r"column 'answer', got the columns \['gold'\]"):
        verifier_reward(prompts=["p"], completions=["\\boxed{1}"], gold=["1"], trainer_state=None)


def test_trl_reward_bad_gold_is_a_data_error_naming_its_row():
    with pytest.raises(TypeError, match=r"golds\[1\]: expected a str"):
        verifier_reward(prompts=["p", "q"], completions=["\\boxed{1}", "\\boxed{2}"], answer=["1", None])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_s": 0}, "timeout_s: expected a number of seconds > 0, got 0"),
        ({"timeout_s": float("nan")}, "timeout_s: expected a finite number"),
        ({"workers": 0}, "workers: expected an int >= 1 or None"),
        ({"mode": "loose"}, "mode: expected one of"),
        ({"multiple": "first"}, "multiple: expected one of"),
        ({"answer_column": ""}, "answer_column: expected a non-empty str"),
        ({"answer_column": "completion_ids"}, "answer_column: expected a dataset column"),
        ({"name": ""}, "name: expected a non-empty str"),
    ],
)
def test_trl_reward_config_is_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VerifierReward(**kwargs)


# ---------------------------------------------------------------- verl


def test_compute_score_has_verls_signature_and_returns_score_acc_pred():
    got = compute_score(data_source="hicra/MATH500-v0", solution_str="so \\boxed{\\frac12}", ground_truth="0.5")
    assert got == {"score": 1.0, "acc": True, "pred": "\\frac12"}
    wrong = compute_score("openai/gsm8k", "#### 5", "4", extra_info={"index": 3, "num_turns": None})
    assert wrong == {"score": 0.0, "acc": False, "pred": "5"}
    assert compute_score("x", "so \\boxed{4}", "4", return_dict=False) == 1.0


def test_compute_score_bad_responses_score_zero():
    for solution in (None, 4, b"", "", "no answer"):
        assert compute_score("x", solution, "4") == {"score": 0.0, "acc": False, "pred": ""}


def test_compute_score_takes_reward_kwargs_and_ignores_verls_own():
    assert compute_score("x", "The answer is 4", "4", mode="strict", timeout_s=2.0)["score"] == 0.0
    assert compute_score("x", "The answer is 4", 4, reward_router_address=None, reward_model_tokenizer=None) == {
        "score": 1.0, "acc": True, "pred": "4",
    }  # fmt: skip
    with pytest.raises(ValueError, match="mode: expected one of"):
        compute_score("x", "4", "4", mode="loose")


class _CharTokenizer:
    """What verl's reward managers need of a tokenizer: ``decode`` (token id = character code)."""

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(int(i)) for i in ids if int(i) != 0)


def _verl_batch(responses: list[str], golds: list[str]):
    """A verl ``DataProto`` as its rollout leaves it: left-padded prompts, right-padded responses."""
    import numpy as np
    import torch
    from verl import DataProto

    width = max(map(len, responses))
    prompts = torch.tensor([[0, ord("Q")]] * len(responses))
    resp = torch.tensor([[ord(c) for c in r] + [0] * (width - len(r)) for r in responses])
    attention = torch.cat([torch.tensor([[0, 1]] * len(responses)), (resp != 0).long()], dim=1)
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "attention_mask": attention},
        non_tensors={
            "data_source": np.array(["hicra/Arithmetic-v0"] * len(responses), dtype=object),
            "reward_model": np.array([{"ground_truth": g} for g in golds], dtype=object),
        },
    )


RESPONSES = ["so \\boxed{4}", "\\boxed{5}", "2+2 is 4. The answer is 4"]
GOLDS = ["4", "4", "4"]


@pytest.mark.verl
@pytest.mark.skipif(VERL_MISSING, reason=VERL_REASON)
def test_verl_reward_loop_loads_compute_score_from_the_config_lines():
    """verl 0.9's path: ``reward.custom_reward_function.path/name`` -> its reward loop's ``naive`` manager."""
    from omegaconf import OmegaConf
    from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.create(
        {"reward": {"custom_reward_function": {
            "path": "pkg://hicra.verifiers.rewards", "name": "compute_score", "reward_kwargs": {"mode": "strict"},
        }}}
    )  # fmt: skip
    score_fn = get_custom_reward_fn(config)
    manager = get_reward_manager_cls("naive")(config, _CharTokenizer(), score_fn)
    data = _verl_batch(RESPONSES, GOLDS)
    results = [manager.loop.run_until_complete(manager.run_single(data[i : i + 1])) for i in range(len(data))]
    assert [r["reward_score"] for r in results] == [1.0, 0.0, 0.0]  # strict (reward_kwargs): the bare 4 is not read
    assert [r["reward_extra_info"]["pred"] for r in results] == ["4", "5", ""]
    assert [r["reward_extra_info"]["acc"] for r in results] == [True, False, False]


@pytest.mark.verl
@pytest.mark.skipif(VERL_MISSING, reason=VERL_REASON)
def test_verl_naive_reward_manager_puts_the_score_on_the_last_response_token():
    from verl.workers.reward_manager import NaiveRewardManager

    manager = NaiveRewardManager(_CharTokenizer(), num_examine=0, compute_score=compute_score)
    data = _verl_batch(RESPONSES, GOLDS)
    out = manager(data, return_dict=True)
    ends = [len(r) - 1 for r in RESPONSES]
    assert [out["reward_tensor"][i, e].item() for i, e in enumerate(ends)] == [1.0, 0.0, 1.0]  # lenient by default
    assert out["reward_tensor"].sum().item() == 2.0  # nothing anywhere else
    assert out["reward_extra_info"]["pred"] == ["4", "5", "4"]


def test_verl_reward_loop_runs_in_an_executor_thread():
    """verl 0.9's reward loop calls ``compute_score`` from executor threads; it must work off the main thread."""
    loop = asyncio.new_event_loop()
    try:
        calls = [loop.run_in_executor(None, compute_score, "x", r, g) for r, g in zip(RESPONSES, GOLDS)]
        got = loop.run_until_complete(asyncio.gather(*calls))
    finally:
        loop.close()
    assert [g["score"] for g in got] == [1.0, 0.0, 1.0]
