"""Named solution strategies: each writes its own opener, which holds its own Strategic Grams (or none).

A problem of a strategy family (:mod:`hicra_env.sources.miniature`, :mod:`hicra_env.sources.miniature_v2`) can
be worked by several strategies. Every worked solution of strategy ``s`` holds ``s.opener`` once: at its start in
the first miniature, after the shared preamble in the second. The opener holds the Strategic Grams ``s.grams`` from
the paper's list (Wang et al., "Emergent Hierarchical Reasoning in LLMs through RL", the 249 grams shipped as
``hicra/agents/data/strategic_grams.json``); no other strategy's solution contains them, and the rest of every
solution holds no gram at all. So which grams a response uses tells which strategy it chose (a response with no
gram took a strategy whose ``grams`` are empty). In the first miniature the planning tokens (tokens overlapping a
gram) are not exactly the opening: the grams "work our way" and "should look for" leave out the opening word "We"
of ``backward`` and ``pattern``, so the token that decides between them and the other strategy is no planning
token. In the second miniature the first token where two strategies' solutions differ lies inside the gram of
every strategy that has one (a test checks it at token level).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Strategy:
    """One way to work a problem.

    Attributes:
        name: Key in :data:`STRATEGIES` and in ``strategy_solutions`` results (``"backward"``).
        opener: The words every worked solution of this strategy holds once (at its start, or after a preamble).
        grams: The Strategic Grams (lower case, as in the paper's list) that ``opener`` contains; empty for a
            strategy that writes no gram.
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
        Strategy(
            "apply",
            "Applying the steps:",
            (),
            "carry out the steps in the order given (no Strategic Gram; second miniature)",
        ),
        Strategy(
            "backtrack",
            "Go back to the start:",
            ("go back to the",),
            "undo the steps from the number the problem gives, in reverse order (second miniature)",
        ),
        Strategy(
            "remainder",
            "Note that",
            ("note that",),
            "divide the position by the period and read the digit at the remainder (second miniature)",
        ),
        Strategy(
            "write_out",
            "Writing them out:",
            (),
            "write every digit up to the position (no Strategic Gram; second miniature)",
        ),
        Strategy(
            "subtract",
            "A more direct approach is to subtract:",
            ("a more direct approach is",),
            "subtract the empty seats from the row (second miniature)",
        ),
        Strategy(
            "count_up",
            "Counting them one by one:",
            (),
            "list every taken seat (no Strategic Gram; second miniature)",
        ),
    )
}
"""Every strategy by name: ``forward``, ``backward``, ``pattern``, ``complement`` (first miniature); ``apply``,
``backtrack``, ``remainder``, ``write_out``, ``subtract``, ``count_up`` (second miniature)."""
