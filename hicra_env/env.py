"""`MathEnv`: a single-turn text environment over a problem source, a prompt template and the verifier.

One episode is one problem: ``reset`` returns the prompt, ``step(response)`` scores the model's whole response
and ends the episode (``terminated=True, truncated=False``). The gold answer is revealed only in the step's info.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np

from hicra import verifiers

from .problem import Problem
from .sources.base import ProblemSource
from .spaces import UnicodeText
from .tasks import build_source
from .templates import DEFAULT_TEMPLATE, PromptTemplate, get_template

DEFAULT_MAX_PROMPT_LENGTH = 8192
DEFAULT_MAX_RESPONSE_LENGTH = 2**20


class MathEnv(gym.Env[str, str]):
    """Math problems as a text Gymnasium environment.

    Args:
        source: A :class:`~hicra_env.sources.base.ProblemSource`, or a task name (``"arithmetic"``,
            ``"procedural"``, ``"MATH500"``, ... see :data:`hicra_env.tasks.TASKS`).
        data_path: Local JSONL or parquet file with ``problem`` and ``answer`` fields; replaces the task's
            own problems (the offline path for hub datasets).
        skip_invalid: Skip malformed records of ``data_path`` (one warning with the count) instead of raising.
        difficulty: Difficulty of procedural tasks (default: the task's default).
        num_problems: Draw only from the source's first ``num_problems`` problems: a fixed training set that
            RL iterates over, as runs on a finite dataset do (None: all of them; procedural tasks have ~2**31).
        template: Prompt template key or object (:mod:`hicra_env.templates`), default ``"boxed-v1"``.
        mode: Verifier answer extraction, ``"lenient"`` (default) or ``"strict"`` (boxed answers only).
        multiple: Several different final answers: ``"last"`` (default, the field's convention: the last counts)
            or ``"reject"`` (the response is wrong); see :func:`hicra.verifiers.verify`.
        timeout_s: Verifier deadline per response, in seconds.
        max_prompt_length: Longest prompt, in characters (the observation space's ``max_length``).
        max_response_length: Longest response the action space contains, in characters.
        render_mode: ``None`` or ``"ansi"`` (``render()`` returns the prompt and the last response).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        source: ProblemSource | str = "arithmetic",
        *,
        data_path: str | Path | None = None,
        skip_invalid: bool = False,
        difficulty: int | None = None,
        num_problems: int | None = None,
        template: str | PromptTemplate = DEFAULT_TEMPLATE,
        mode: Literal["strict", "lenient"] = "lenient",
        multiple: Literal["last", "reject"] = "last",
        timeout_s: float = 5.0,
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
        max_response_length: int = DEFAULT_MAX_RESPONSE_LENGTH,
        render_mode: str | None = None,
    ) -> None:
        if mode not in verifiers.MODES:
            raise ValueError(f"mode: expected one of: {', '.join(verifiers.MODES)}, got {mode!r}")
        if multiple not in verifiers.MULTIPLE_POLICIES:
            raise ValueError(f"multiple: expected one of: {', '.join(verifiers.MULTIPLE_POLICIES)}, got {multiple!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if isinstance(source, str):
            source = build_source(source, data_path=data_path, difficulty=difficulty, skip_invalid=skip_invalid)
        elif data_path is not None or difficulty is not None:
            raise ValueError("data_path= and difficulty= apply to a task name, not to a ProblemSource object")
        self.source = source
        if num_problems is not None and (
            isinstance(num_problems, bool) or not isinstance(num_problems, int) or not 1 <= num_problems <= len(source)
        ):
            raise ValueError(
                f"num_problems must be an int from 1 to the source's {len(source)} problems (or None for all), "
                f"got {num_problems!r}"
            )
        self.num_problems = len(source) if num_problems is None else num_problems
        self.template = get_template(template)
        self.mode, self.multiple = mode, multiple
        self.timeout_s = float(timeout_s)
        self.render_mode = render_mode
        self.observation_space = UnicodeText(max_prompt_length)
        self.action_space = UnicodeText(max_response_length)
        self._problem: Problem | None = None
        self._prompt: str | None = None
        self._last_response: str | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        """Draw a problem (with ``self.np_random``), or take ``options["problem_id"]`` / ``options["index"]``."""
        super().reset(seed=seed)
        self._problem = self._choose(options or {})
        prompt = self.template.format(self._problem.problem)
        if len(prompt) > self.observation_space.max_length:
            raise ValueError(
                f"prompt of problem {self._problem.id!r} has {len(prompt)} characters, more than "
                f"max_prompt_length={self.observation_space.max_length}: pass a larger max_prompt_length="
            )
        self._prompt, self._last_response = prompt, None
        return prompt, {"problem_id": self._problem.id}

    def _choose(self, options: dict[str, Any]) -> Problem:
        unknown = set(options) - {"problem_id", "index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; expected 'problem_id' or 'index'")
        if "problem_id" in options and "index" in options:
            raise ValueError("pass either options['problem_id'] or options['index'], not both")
        if "problem_id" in options:
            return self.problem(options["problem_id"])
        if "index" in options:
            index = options["index"]
            if isinstance(index, bool) or not isinstance(index, int | np.integer):
                raise TypeError(f"options['index'] must be an int, got {type(index).__name__}")
            return self.source.get(int(index))
        return self.source.get(int(self.np_random.integers(self.num_problems)))

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        """Score the response; returns ``("", reward, True, False, info)`` (info reveals ``answer``)."""
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the model's response), got {type(action).__name__}")
        if self._problem is None:
            raise gym.error.ResetNeeded("call reset() before step(): the episode has ended or never started")
        problem, self._problem = self._problem, None
        self._last_response = action
        verdict = verifiers.verify(
            action, problem.answer, timeout_s=self.timeout_s, mode=self.mode, multiple=self.multiple
        )
        return "", float(verdict.reward), True, False, _info(problem, verdict)

    def evaluate(self, problem_ids: Sequence[str], responses: Sequence[str]) -> tuple[np.ndarray, list[dict]]:
        """Score ``responses[i]`` against problem ``problem_ids[i]`` with one ``verify_batch`` call.

        Returns float32 rewards ``[N]`` and one info per response with the keys ``step`` returns. The episode
        state is untouched.
        """
        if isinstance(problem_ids, str) or isinstance(responses, str):
            raise TypeError("problem_ids and responses must be sequences of str, not a single str")
        if len(problem_ids) != len(responses):
            raise ValueError(f"got {len(problem_ids)} problem_ids but {len(responses)} responses; expected equal")
        for i, response in enumerate(responses):
            if not isinstance(response, str):
                raise TypeError(f"responses[{i}] must be a str, got {type(response).__name__}")
        problems = [self.problem(pid) for pid in problem_ids]
        verdicts = verifiers.verify_batch(
            list(responses), [p.answer for p in problems], timeout_s=self.timeout_s, mode=self.mode,
            multiple=self.multiple,
        )  # fmt: skip
        rewards = np.array([v.reward for v in verdicts], dtype=np.float32)
        return rewards, [_info(p, v) for p, v in zip(problems, verdicts)]

    def problem(self, problem_id: str) -> Problem:
        """The problem with this id (procedural ids regenerate); else ``UnknownProblemError`` (a ``KeyError``)."""
        if not isinstance(problem_id, str):
            raise TypeError(f"problem_id must be a str, got {type(problem_id).__name__}")
        return self.source.lookup(problem_id)

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return f"{self._prompt or ''}\n\n--- response ---\n{self._last_response or ''}"


def _info(problem: Problem, verdict: Any) -> dict[str, Any]:
    return {
        "problem_id": problem.id,
        "correct": bool(verdict.correct),
        "extracted": verdict.extracted,
        "reason": verdict.reason,
        "answer": problem.answer,
    }
