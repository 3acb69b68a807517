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
