"""Named solution strategies: each opens its worked solutions with its own Strategic Grams.

A problem of a strategy family (:mod:`hicra_env.sources.miniature`) can be worked by several strategies. Every
worked solution of strategy ``s`` starts with ``s.opener``, which holds the Strategic Grams ``s.grams`` from the
paper's list (Wang et al., "Emergent Hierarchical Reasoning in LLMs through RL", the 249 grams shipped as
``hicra/agents/data/strategic_grams.json``); no other strategy's solution contains them, and the rest of every
solution holds no gram at all. So which grams a response uses tells which strategy it chose, and the planning
tokens of a response are exactly its strategy's opening.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Strategy:
    """One way to work a problem.

    Attributes:
        name: Key in :data:`STRATEGIES` and in ``strategy_solutions`` results (``"backward"``).
        opener: The words every worked solution of this strategy starts with.
        grams: The Strategic Grams (lower case, as in the paper's list) that ``opener`` contains.
        description: One line for the docs.
    """

    name: str
    opener: str
    grams: tuple[str, ...]
    description: str


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "forward",
            "Let's break this down:",
            ("let's break this down",),
            "carry out what the problem describes, one step at a time, in the order given",
        ),
        Strategy(
            "backward",
            "We work our way back from",
            ("work our way",),
            "start from the number the problem gives and undo its operations in reverse order",
        ),
        Strategy(
            "pattern",
            "We should look for a pattern:",
            ("should look for",),
            "find the period of a repeating block and jump to the position by division with remainder",
        ),
        Strategy(
            "complement",
            "A simpler approach is to count",
            ("a simpler approach is",),
            "count what is missing and subtract it from the whole",
        ),
    )
}
"""Every strategy by name."""
