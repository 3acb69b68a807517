"""Named, versioned prompt templates. Model-agnostic: chat formatting belongs to the policy, not the env.

Select one per env with ``gymnasium.make(id, template="boxed-v1")``. Registered names:

* ``"plain-v1"``: the problem text alone.
* ``"boxed-v1"`` (default): the problem, a blank line, then the standard instruction
  ``Please reason step by step, and put your final answer within \\boxed{}.``
* ``"fewshot-v1"``: two short worked examples (problem, worked solution ending in ``\\boxed{}``) before the
  problem, then the boxed instruction.

A bare family name (``"boxed"``) picks its newest version. Users may pass their own :class:`PromptTemplate`.
"""

from __future__ import annotations

from dataclasses import dataclass

BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

_FEWSHOT_EXAMPLES = (
    ("What is 7 + 5 - 3?", "7 + 5 = 12, 12 - 3 = 9. The answer is \\boxed{9}."),
    (
        "Compute 36 * 25.",
        "Notice that 25 = 100 / 4, so 36 * 25 = 3600 / 4 = 900. The answer is \\boxed{900}.",
    ),
)


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt format: ``prefix + problem + suffix``.

    Attributes:
        name: Family name (``"boxed"``).
        version: Integer version; the registered key is ``f"{name}-v{version}"``. A change to the text gets a
            new version so that results stay comparable.
        prefix: Text before the problem.
        suffix: Text after the problem.
    """

    name: str
    version: int
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        if not self.name or "-" in self.name:
            raise ValueError(f"PromptTemplate.name must be non-empty without '-', got {self.name!r}")
        if self.version < 1:
            raise ValueError(f"PromptTemplate.version must be >= 1, got {self.version}")

    @property
    def key(self) -> str:
        return f"{self.name}-v{self.version}"

    def format(self, problem: str) -> str:
        """The prompt for ``problem``."""
        return f"{self.prefix}{problem}{self.suffix}"


def _fewshot_prefix() -> str:
    shots = [f"Problem: {q}\nSolution: {a}\n\n" for q, a in _FEWSHOT_EXAMPLES]
    return "".join(shots) + "Problem: "


TEMPLATES: dict[str, PromptTemplate] = {
    t.key: t
    for t in (
        PromptTemplate("plain", 1),
        PromptTemplate("boxed", 1, suffix="\n\n" + BOXED_INSTRUCTION),
        PromptTemplate("fewshot", 1, prefix=_fewshot_prefix(), suffix="\n" + BOXED_INSTRUCTION + "\nSolution:"),
    )
}
"""Every built-in template by key (``"boxed-v1"``)."""

DEFAULT_TEMPLATE = "boxed-v1"


def get_template(template: str | PromptTemplate) -> PromptTemplate:
    """Resolve a key (``"boxed-v1"``), a bare name (newest version) or a :class:`PromptTemplate`."""
    if isinstance(template, PromptTemplate):
        return template
    if not isinstance(template, str):
        raise TypeError(f"template must be a str or PromptTemplate, got {type(template).__name__}")
    if template in TEMPLATES:
        return TEMPLATES[template]
    versions = [t for t in TEMPLATES.values() if t.name == template]
    if versions:
        return max(versions, key=lambda t: t.version)
    raise ValueError(f"unknown prompt template {template!r}; expected one of: {', '.join(sorted(TEMPLATES))}")
