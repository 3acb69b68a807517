"""MathEnv: reset options, step contract, evaluate, problem lookup, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import hicra_env
from hicra_env import MathEnv, UnknownProblemError
from hicra_env.problem import Problem
from hicra_env.sources.base import ListSource

PROBLEMS = [
    Problem("p-0", "What is 2 + 2?", "4"),
    Problem("p-1", "What is 1/2 + 1/4?", "\\frac{3}{4}"),
    Problem("p-2", "What is 10 - 3?", "7"),
]


@pytest.fixture
def env() -> MathEnv:
    return MathEnv(ListSource("tiny", PROBLEMS))


def test_reset_returns_the_templated_prompt_and_only_the_id(env):
    prompt, info = env.reset(seed=0, options={"index": 1})
    assert prompt == "What is 1/2 + 1/4?\n\nPlease reason step by step, and put your final answer within \\boxed{}."
    assert info == {"problem_id": "p-1"}
    assert "3}{4" not in prompt  # the gold is not revealed before the step


def test_reset_by_problem_id_and_step_reveals_the_answer(env):
    env.reset(options={"problem_id": "p-2"})
    obs, reward, terminated, truncated, info = env.step("10 - 3 = 7. The answer is \\boxed{7}.")
    assert (obs, reward, terminated, truncated) == ("", 1.0, True, False)
    assert info == {"problem_id": "p-2", "correct": True, "extracted": "7", "reason": "ok", "answer": "7"}


def test_wrong_and_missing_answers_earn_zero_with_reasons(env):
    env.reset(options={"problem_id": "p-0"})
    _, reward, _, _, info = env.step("\\boxed{5}")
    assert (reward, info["correct"], info["extracted"], info["reason"]) == (0.0, False, "5", "mismatch")
    env.reset(options={"problem_id": "p-0"})
    assert env.step("no idea")[4]["reason"] == "no_answer"


def test_strict_mode_ignores_the_answer_is_phrase():
    lenient = MathEnv(ListSource("tiny", PROBLEMS))
    strict = MathEnv(ListSource("tiny", PROBLEMS), mode="strict")
    for env, expected in ((lenient, 1.0), (strict, 0.0)):
        env.reset(options={"problem_id": "p-0"})
        assert env.step("The answer is 4")[1] == expected


def test_random_draws_use_np_random_and_cover_the_source(env):
    ids = [env.reset(seed=s)[1]["problem_id"] for s in range(30)]
    assert set(ids) == {"p-0", "p-1", "p-2"}
    assert [env.reset(seed=s)[1]["problem_id"] for s in range(30)] == ids


def test_num_problems_draws_from_a_fixed_training_set():
    env = MathEnv(ListSource("tiny", PROBLEMS), num_problems=2)
    assert {env.reset(seed=s)[1]["problem_id"] for s in range(40)} == {"p-0", "p-1"}
    assert env.reset(options={"index": 2})[1]["problem_id"] == "p-2"  # explicit picks still reach every problem
    procedural = gym.make("hicra/Arithmetic-v0", num_problems=5)
    first_five = {procedural.unwrapped.source.get(i).id for i in range(5)}
    assert {procedural.reset(seed=s)[1]["problem_id"] for s in range(100)} == first_five


@pytest.mark.parametrize("bad", [0, 4, 2.0, True])
def test_num_problems_out_of_range_names_the_source_size(bad):
    with pytest.raises(ValueError, match=r"num_problems must be an int from 1 to the source's 3 problems"):
        MathEnv(ListSource("tiny", PROBLEMS), num_problems=bad)


def test_non_str_action_raises_type_error_naming_the_type(env):
    env.reset(seed=0)
    with pytest.raises(TypeError, match="got int"):
        env.step(4)
    with pytest.raises(TypeError, match="got list"):
        env.step(["4"])


def test_step_before_reset_and_after_the_episode_raise(env):
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.step("4")
    env.reset(seed=0)
    env.step("4")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("4")


def test_unknown_problem_id_names_the_source_and_an_example(env):
    with pytest.raises(
        UnknownProblemError, match=r"unknown problem id 'p1' in source .*: expected one of its \d+ ids, such as 'p-"
    ):
        env.reset(options={"problem_id": "p1"})
    with pytest.raises(KeyError, match="unknown problem id 'p-11'"):
        env.problem("p-11")


def test_bad_reset_options_are_rejected(env):
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"problem": "p-0"})
    with pytest.raises(ValueError, match="not both"):
        env.reset(options={"problem_id": "p-0", "index": 0})
    with pytest.raises(IndexError, match="out of range"):
        env.reset(options={"index": 3})
    with pytest.raises(TypeError, match="must be an int"):
        env.reset(options={"index": "0"})


def test_evaluate_scores_many_responses_in_one_call_without_touching_the_episode(env, monkeypatch):
    calls = []
    real = hicra_env.env.verifiers.verify_batch

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(hicra_env.env.verifiers, "verify_batch", counting)
    env.reset(options={"problem_id": "p-0"})
    rewards, infos = env.evaluate(["p-0", "p-1", "p-2", "p-1"], ["\\boxed{4}", "\\boxed{0.75}", "\\boxed{8}", ""])
    assert calls == [4]
    assert rewards.dtype == np.float32
    np.testing.assert_array_equal(rewards, [1.0, 1.0, 0.0, 0.0])
    assert [i["reason"] for i in infos] == ["ok", "ok", "mismatch", "no_answer"]
    assert set(infos[0]) == {"problem_id", "correct", "extracted", "reason", "answer"}
    assert env.step("\\boxed{4}")[1] == 1.0  # the open episode is still p-0


def test_evaluate_validates_its_inputs(env):
    with pytest.raises(ValueError, match="2 problem_ids but 1 responses"):
        env.evaluate(["p-0", "p-1"], ["4"])
    with pytest.raises(TypeError, match=r"responses\[1\] must be a str, got NoneType"):
        env.evaluate(["p-0", "p-1"], ["4", None])
    with pytest.raises(UnknownProblemError):
        env.evaluate(["nope"], ["4"])


def test_problem_regenerates_procedural_ids():
    env = gym.make("hicra/Arithmetic-v0")
    _, info = env.reset(seed=5)
    problem = env.unwrapped.problem(info["problem_id"])
    assert gym.make("hicra/Arithmetic-v0").unwrapped.problem(info["problem_id"]) == problem
    prompt, again = gym.make("hicra/Arithmetic-v0").reset(options={"problem_id": problem.id})
    assert again["problem_id"] == problem.id and prompt.startswith(problem.problem)


def test_env_kwargs_are_validated():
    with pytest.raises(ValueError, match="mode: expected one of: strict, lenient, got 'loose'"):
        MathEnv(mode="loose")
    with pytest.raises(ValueError, match="multiple: expected one of: last, reject, got 'first'"):
        MathEnv(multiple="first")
    with pytest.raises(ValueError, match="timeout_s must be > 0"):
        MathEnv(timeout_s=0)
    with pytest.raises(ValueError, match=r"unknown task 'Arithmetc'; expected one of: Arithmetic, Multiplication"):
        MathEnv("Arithmetc")
    with pytest.raises(ValueError, match=r"difficulty of family 'arithmetic' must be in 1\.\.5, got 9"):
        gym.make("hicra/Arithmetic-v0", difficulty=9)


def test_difficulty_and_template_kwargs_reach_the_env():
    env = gym.make("hicra/Arithmetic-v0", difficulty=4, template="plain-v1")
    prompt, info = env.reset(seed=0)
    assert info["problem_id"].startswith("arithmetic-d4-")
    assert prompt.startswith("What is ") and prompt.endswith("?")


def test_too_long_prompts_name_the_fix():
    env = MathEnv(ListSource("tiny", PROBLEMS), max_prompt_length=20)
    with pytest.raises(ValueError, match="max_prompt_length"):
        env.reset(seed=0)


def test_ansi_render_shows_prompt_and_response(env):
    env = MathEnv(ListSource("tiny", PROBLEMS), render_mode="ansi")
    env.reset(options={"index": 0})
    env.step("\\boxed{4}")
    assert "What is 2 + 2?" in env.render() and "\\boxed{4}" in env.render()
