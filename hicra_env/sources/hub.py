"""Hugging Face hub datasets, loaded lazily with the optional `datasets` package (``pip install 'hicra[hub]'``).

`datasets` is imported only when a hub source is built, never at module import. Offline (or without
`datasets`), :class:`HubUnavailableError` names the env id, the dataset tried and how to pass ``data_path=``.

| env id | hub dataset | config(s) | split | question field | gold answer |
| --- | --- | --- | --- | --- | --- |
| hicra/GSM8K-v0 | openai/gsm8k | main | test | question | text after ``####`` in ``answer`` |
| hicra/MATH-v0 | EleutherAI/hendrycks_math | the 7 subjects | test | problem | last ``\\boxed{}`` of ``solution`` |
| hicra/MATH500-v0 | HuggingFaceH4/MATH-500 | default | test | problem | ``answer`` |
| hicra/AIME24-v0 | HuggingFaceH4/aime_2024 | default | train | problem | ``answer`` |
| hicra/AIME25-v0 | opencompass/AIME2025 | AIME2025-I, AIME2025-II | test | question | ``answer`` |
| hicra/AMC23-v0 | math-ai/amc23 | default | test | question | ``answer`` |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..problem import Problem
from .base import HubUnavailableError, ListSource

MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)


def gsm8k_answer(text: str) -> str | None:
    """The number after ``####`` in a GSM8K answer, thousands separators removed."""
    match = re.search(r"####\s*(.+?)\s*$", text.strip())
    return match.group(1).replace(",", "") if match else None


def last_boxed_answer(text: str) -> str | None:
    """The content of the last ``\\boxed{}`` (MATH solutions), via the verifier's strict extractor."""
    from hicra.verifiers import extract_answer

    return extract_answer(text, mode="strict")


@dataclass(frozen=True)
class HubDataset:
    """Where an env id's problems live on the hub and how to read one row.

    Attributes:
        path: Hub dataset name (``"openai/gsm8k"``).
        configs: Config names to load and concatenate (``(None,)`` for the default config).
        split: Split to load.
        question: Row field holding the problem text.
        answer: Row field holding the gold (or the text to extract it from).
        extract: Turns the ``answer`` field into the gold; ``None`` keeps it as is.
        solution: Row field with a worked solution, if any.
    """

    path: str
    configs: tuple[str | None, ...] = (None,)
    split: str = "test"
    question: str = "problem"
    answer: str = "answer"
    extract: Callable[[str], str | None] | None = None
    solution: str | None = None

    def describe(self) -> str:
        configs = ", ".join(c for c in self.configs if c) or "default"
        return f"{self.path!r} (config {configs}, split {self.split!r})"


HUB_DATASETS: dict[str, HubDataset] = {
    "GSM8K": HubDataset("openai/gsm8k", ("main",), question="question", extract=gsm8k_answer),
    "MATH": HubDataset(
        "EleutherAI/hendrycks_math",
        MATH_SUBJECTS,
        answer="solution",
        extract=last_boxed_answer,
        solution="solution",
    ),
    "MATH500": HubDataset("HuggingFaceH4/MATH-500", solution="solution"),
    "AIME24": HubDataset("HuggingFaceH4/aime_2024", split="train", solution="solution"),
    "AIME25": HubDataset("opencompass/AIME2025", ("AIME2025-I", "AIME2025-II"), question="question"),
    "AMC23": HubDataset("math-ai/amc23", question="question"),
}
"""Hub dataset of each dataset env id (``hicra/<key>-v0``)."""


def _row_to_problem(spec: HubDataset, row: dict[str, Any], *, pid: str) -> Problem:
    raw = row[spec.answer]
    gold = spec.extract(str(raw)) if spec.extract else str(raw)
    if not gold:
        raise ValueError(f"{spec.path}: no gold answer could be read from row {pid!r}")
    level = row.get("level")
    subject = row.get("subject") or row.get("type")
    return Problem(
        id=pid,
        problem=str(row[spec.question]),
        answer=gold.strip(),
        solution=str(row[spec.solution]) if spec.solution and row.get(spec.solution) else None,
        level=None if level is None else str(level),
        subject=None if subject is None else str(subject),
    )


def load_hub_problems(key: str, *, load_dataset: Callable[..., Any] | None = None) -> list[Problem]:
    """All problems of ``HUB_DATASETS[key]``; ids are ``f"{key.lower()}-{i}"`` in hub order."""
    spec = HUB_DATASETS[key]
    env_id = f"hicra/{key}-v0"
    if load_dataset is None:
        try:
            from datasets import load_dataset
        except ImportError as exc:
            raise _unavailable(env_id, spec, "the optional package `datasets` is not installed") from exc
    rows: list[dict[str, Any]] = []
    try:
        for config in spec.configs:
            rows.extend(load_dataset(spec.path, config, split=spec.split))
    except Exception as exc:  # network, auth, missing config: all end in the same advice
        raise _unavailable(env_id, spec, f"{type(exc).__name__}: {exc}") from exc
    return [_row_to_problem(spec, row, pid=f"{key.lower()}-{i}") for i, row in enumerate(rows)]


def hub_source(key: str, *, load_dataset: Callable[..., Any] | None = None) -> ListSource:
    """A :class:`ListSource` over a hub dataset (see :data:`HUB_DATASETS`)."""
    return ListSource(HUB_DATASETS[key].path, load_hub_problems(key, load_dataset=load_dataset))


def _unavailable(env_id: str, spec: HubDataset, reason: str) -> HubUnavailableError:
    return HubUnavailableError(
        f"{env_id} could not load the Hugging Face dataset {spec.describe()}: {reason}. "
        f"Install the hub extra (pip install 'hicra[hub]') and go online, or pass a local copy: "
        f"gymnasium.make({env_id!r}, data_path='path/to/file.jsonl') "
        f"(JSONL or parquet with 'problem' and 'answer' fields)."
    )
