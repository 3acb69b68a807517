"""Evaluation suites: which env, how many samples and how to sample, following the field's conventions.

Every suite samples at temperature 0.6 and top-p 0.95 with the boxed-answer instruction template
(``boxed-v1``: "Please reason step by step, and put your final answer within \\boxed{}.") and scores with
strict extraction (the last ``\\boxed{}`` only). The number of samples per problem n (reported as avg@n):

=========  ===================  ====  ===============================================================
suite      env id               n     why
=========  ===================  ====  ===============================================================
aime24     hicra/AIME24-v0      32    30 problems: avg@32 is the field's standard (DeepSeek-R1, DAPO)
aime25     hicra/AIME25-v0      32    same as AIME24
amc23      hicra/AMC23-v0       4     40 problems: avg@4, as commonly reported
math500    hicra/MATH500-v0     4     500 problems: avg@4 keeps the standard error small at 4x cost
gsm8k      hicra/GSM8K-v0       1     1319 easy problems: one sample already gives a tight estimate
=========  ===================  ====  ===============================================================

``max_new_tokens`` defaults to 4096, enough for most reasoning traces of small models (long-CoT models need
more: raise it with ``--max-new-tokens``). Every value is overridable from ``hicra eval``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_TEMPERATURE = 0.6
DEFAULT_TOP_P = 0.95
DEFAULT_MAX_NEW_TOKENS = 4096
DEFAULT_TEMPLATE = "boxed-v1"


@dataclass(frozen=True)
class Suite:
    """One benchmark: the env that poses it and how its responses are sampled and scored."""

    name: str
    """Short name used on the command line and as the output folder (``aime24``)."""
    env_id: str
    """Gymnasium id registered by ``hicra_env``."""
    n: int
    """Samples per problem; the headline metric is avg@n."""
    temperature: float = DEFAULT_TEMPERATURE
    """Sampling temperature (0: greedy)."""
    top_p: float = DEFAULT_TOP_P
    """Nucleus sampling mass in (0, 1]."""
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    """Longest response in tokens; longer ones are cut and usually score as no_answer."""
    template: str = DEFAULT_TEMPLATE
    """Prompt template key of ``hicra_env.templates``."""

    def __post_init__(self) -> None:
        for name in ("n", "max_new_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        if not (isinstance(self.temperature, int | float) and 0 <= self.temperature <= 100):
            raise ValueError(f"temperature: expected a number in [0, 100], got {self.temperature!r}")
        if not (isinstance(self.top_p, int | float) and 0 < self.top_p <= 1):
            raise ValueError(f"top_p: expected a number in (0, 1], got {self.top_p!r}")

    def default_ks(self) -> list[int]:
        """k values reported by default: 1, the powers of two below n, and n (``[1, 2, 4, 8, 16, 32]``)."""
        ks = {1, self.n}
        k = 2
        while k < self.n:
            ks.add(k)
            k *= 2
        return sorted(ks)

    def data_path(self, data_dir: str | Path | None) -> Path | None:
        """``<data_dir>/<name>.jsonl`` (must exist), or None to load from the hub through the env."""
        if data_dir is None:
            return None
        folder = Path(data_dir)
        if not folder.is_dir():
            raise NotADirectoryError(f"data_dir: expected a folder of <suite>.jsonl files, got {str(folder)!r}")
        path = folder / f"{self.name}.jsonl"
        if not path.is_file():
            present = sorted(p.name for p in folder.glob("*.jsonl")) or ["no .jsonl files"]
            raise FileNotFoundError(
                f"data_dir: suite {self.name!r} expected {str(path)!r}, which does not exist "
                f"(found: {', '.join(present)}); add it or leave data_dir unset to load from the hub"
            )
        return path


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("aime24", "hicra/AIME24-v0", n=32),
        Suite("aime25", "hicra/AIME25-v0", n=32),
        Suite("amc23", "hicra/AMC23-v0", n=4),
        Suite("math500", "hicra/MATH500-v0", n=4),
        Suite("gsm8k", "hicra/GSM8K-v0", n=1),
    )
}
"""Every built-in suite by name."""


def get_suites(names: list[str]) -> list[Suite]:
    """The suites called ``names``, in order, without duplicates; ``KeyError`` names an unknown one."""
    for name in names:
        if name not in SUITES:
            raise KeyError(f"unknown suite {name!r}; expected one of: {', '.join(SUITES)}")
    return [SUITES[name] for name in dict.fromkeys(names)]


def override(
    suite: Suite,
    *,
    n: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_new_tokens: int | None = None,
    template: str | None = None,
) -> Suite:
    """``suite`` with the given fields replaced (None keeps the suite's default); bad values raise ValueError."""
    if template is not None:
        from hicra_env.templates import get_template

        get_template(template)  # an unknown template names the known ones
    changes = {"n": n, "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens,
               "template": template}  # fmt: skip
    return replace(suite, **{k: v for k, v in changes.items() if v is not None})
