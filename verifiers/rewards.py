"""hicra's verifier as the reward of other RL libraries: TRL's ``reward_funcs`` and verl's ``compute_score``.

Both score with :func:`hicra.verifiers.verify_batch` (same answer conventions, per-check deadline and worker pool),
reward 1.0 for a correct final answer and 0.0 otherwise. Model output is never trusted: ``None``, a number, an
empty chat or a malformed message gives reward 0.0, never an exception, so one bad completion never stops training.
This module imports neither torch nor the libraries it serves.

TRL (``GRPOTrainer``; the gold answer is a dataset column, ``answer`` by default)::

    from hicra.verifiers.rewards import VerifierReward, verifier_reward

    # TRL logs it as rewards/verifier_reward/mean
    trainer = GRPOTrainer(model=..., reward_funcs=[verifier_reward], train_dataset=dataset)
    strict = VerifierReward(mode="strict", timeout_s=2.0, answer_column="solution")  # a configured copy

verl (``custom_reward_function``; options go in ``custom_reward_function.reward_kwargs``)::

    reward.custom_reward_function.path=pkg://hicra.verifiers.rewards
    reward.custom_reward_function.name=compute_score

(verl loads a ``path`` that is a file outside ``sys.modules``, where this module's dataclass cannot be built: use
the ``pkg://`` form, or a file that imports ``compute_score`` from here, such as ``examples/verl_compute_score.py``.)

>>> verifier_reward(prompts=["1+1?", "2+2?"], completions=["\\\\boxed{2}", None], answer=["2", "4"])
[1.0, 0.0]
>>> compute_score("hicra/Arithmetic-v0", "so the answer is \\\\boxed{4}", "4")
{'score': 1.0, 'acc': True, 'pred': '4'}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .api import _check_timeout, verify_batch
from .extract import Mode, Multiple, check_mode, check_multiple, coerce_text

__all__ = ["VerifierReward", "completion_text", "compute_score", "verifier_reward"]

#: Keyword arguments TRL passes to every reward function besides the dataset columns.
TRL_EXTRAS = frozenset({"completion_ids", "trainer_state", "log_extra", "log_metric", "environments"})


def _message_text(message: object) -> str | None:
    """The text of one chat message ``{"role", "content"}``; ``None`` for a message that is not the model's."""
    if not isinstance(message, Mapping) or message.get("role", "assistant") != "assistant":
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):  # multimodal content parts
        parts = [p.get("text") for p in content if isinstance(p, Mapping) and p.get("type", "text") == "text"]
        return "".join(p for p in parts if isinstance(p, str))
    return None


def completion_text(completion: object) -> str:
    """A completion as the text the verifier reads.

    A plain string stays as it is (bytes are decoded). A chat completion (a message ``{"role", "content"}`` or a
    list of them, as TRL passes for conversational datasets) gives its assistant messages' text, joined by newlines;
    tool results and other roles are left out, so an answer the model did not write never counts. Anything else
    (``None``, numbers, malformed messages) gives ``""``, which the verifier scores ``no_answer``.
    """
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, (list, tuple)):
        texts = [_message_text(m) for m in completion]
        return "\n".join(t for t in texts if t)
    return coerce_text(completion)


def _check_options(timeout_s: object, workers: object, mode: object, multiple: object) -> None:
    """The checks ``verify_batch`` makes, made when the reward is built (not at the first training step)."""
    _check_timeout(timeout_s)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected an int >= 1 or None (the verifier's default pool), got {workers!r}")
    check_mode(mode)
    check_multiple(multiple)


@dataclass(frozen=True)
class VerifierReward:
    """A TRL reward function (``GRPOTrainer(reward_funcs=[...])``) scoring completions with hicra's verifier.

    TRL calls it as ``reward(prompts=..., completions=..., completion_ids=..., **dataset_columns)`` and it returns
    one float per completion: 1.0 when the final answer matches the row's gold answer, else 0.0 (also for ``None``
    or malformed completions). When TRL passes ``log_extra``, the extracted answer and the verdict's reason go to
    its completions table (columns ``extracted`` and ``verdict``). Instances are picklable, like the functions TRL
    documents. A gold answer that is neither a string nor a number is a data error: ``TypeError`` naming its row.

    Attributes:
        answer_column: The dataset column holding the gold answers (strings, or numbers).
        timeout_s: Deadline of one check in the verifier's worker pool, in seconds (reason ``"timeout"``).
        workers: Size of the verifier's worker pool (``None``: its default, shared with ``verify_batch``).
        mode: Where answers are read: ``"lenient"`` (boxes, answer lines, a bare answer) or ``"strict"`` (boxes).
        multiple: Which of several final answers counts: ``"last"`` or ``"reject"`` (see ``verify_batch``).
        name: The name TRL logs it under (``rewards/<name>/mean``).
    """

    answer_column: str = "answer"
    timeout_s: float = 5.0
    workers: int | None = None
    mode: Mode = "lenient"
    multiple: Multiple = "last"
    name: str = "verifier_reward"

    def __post_init__(self) -> None:
        for field in ("answer_column", "name"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{field}: expected a non-empty str, got {value!r}")
        if self.answer_column in TRL_EXTRAS or self.answer_column in ("prompts", "completions"):
            raise ValueError(f"answer_column: expected a dataset column, got TRL's own argument {self.answer_column!r}")
        _check_options(self.timeout_s, self.workers, self.mode, self.multiple)

    @property
    def __name__(self) -> str:  # TRL names a callable reward by its __name__
        return self.name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **columns) -> list[float]:
        if self.answer_column not in columns:
            given = sorted(k for k in columns if k not in TRL_EXTRAS)
            raise KeyError(
                f"expected the gold answers in the dataset column {self.answer_column!r}, got the columns {given}; "
                f"name the column with VerifierReward(answer_column=...)"
            )
        golds = columns[self.answer_column]
        texts = [completion_text(c) for c in completions]
        verdicts = verify_batch(
            texts, list(golds), timeout_s=self.timeout_s, workers=self.workers, mode=self.mode, multiple=self.multiple
        )
        log_extra = columns.get("log_extra")
        if callable(log_extra):
            log_extra("extracted", [v.extracted for v in verdicts])
            log_extra("verdict", [v.reason for v in verdicts])
        return [v.reward for v in verdicts]


verifier_reward = VerifierReward()
"""The default TRL reward: gold answers in the ``answer`` column, lenient extraction, the last answer counts."""


def _gold(ground_truth: object) -> object:
    """verl reads ground truths from parquet: a numpy scalar becomes its Python value (no numpy import here)."""
    if not isinstance(ground_truth, str) and callable(getattr(ground_truth, "item", None)):
        return ground_truth.item()
    return ground_truth


def compute_score(
    data_source: str,
    solution_str: object,
    ground_truth: object,
    extra_info: Mapping[str, Any] | None = None,
    *,
    timeout_s: float = 5.0,
    workers: int | None = None,
    mode: Mode = "lenient",
    multiple: Multiple = "last",
    return_dict: bool = True,
    **_verl_kwargs: Any,
) -> dict[str, Any] | float:
    """verl's ``custom_reward_function``: score one decoded response against its gold answer.

    verl calls ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)`` (and may add
    keyword arguments of its own, ignored here); the options after ``*`` come from
    ``custom_reward_function.reward_kwargs``. ``data_source`` and ``extra_info`` do not change the score.

    Returns:
        ``{"score": 1.0 | 0.0, "acc": bool, "pred": extracted answer or ""}`` (what verl's reward managers read:
        ``score`` is the reward, the rest is logged, ``pred`` feeds verl's majority-vote metrics), or the float
        score alone with ``return_dict=False``. A non-string ``solution_str`` scores 0.0.
    """
    _check_options(timeout_s, workers, mode, multiple)
    (verdict,) = verify_batch(
        [completion_text(solution_str)], [_gold(ground_truth)], timeout_s=timeout_s, workers=workers, mode=mode,
        multiple=multiple,
    )  # fmt: skip
    if not return_dict:
        return verdict.reward
    return {"score": verdict.reward, "acc": verdict.correct, "pred": verdict.extracted or ""}
