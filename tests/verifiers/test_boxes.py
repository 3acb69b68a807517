"""Boxes: finding them, and which neighbouring boxes state one answer (list, hedge or separate statements)."""

from __future__ import annotations

import pytest

from hicra.verifiers.boxes import Box, find_boxes, gap_kind, group_boxes, loose_list_gap, render


def test_find_boxes_gives_contents_and_spans():
    text = "so \\boxed{1} and \\fbox{a{b}c}"
    assert find_boxes(text) == [Box("1", 3, 12), Box("a{b}c", 17, 29)]
    assert text[3:12] == "\\boxed{1}"


def test_unclosed_box_is_read_only_when_asked():
    assert find_boxes("\\boxed{1}\\boxed{2") == [Box("1", 0, 9)]
    assert [b.content for b in find_boxes("\\boxed{1}\\boxed{2", unclosed=True)] == ["1", "2"]


@pytest.mark.parametrize(
    ("gap", "kind"),
    [
        (", ", "list"),
        (" and ", "list"),
        ("$, $", "list"),
        (" \\quad \\text{and} \\quad ", "list"),
        ("", "list"),  # adjacent boxes
        (" or ", "hedge"),
        (" or maybe ", "hedge"),
        ("$ or $", "hedge"),
        (" no wait ", None),
        (" wait, actually ", None),  # a comma inside prose does not make a list
        (". So the answer is ", None),
        (" \\text{ for part (a) and } ", None),
        (", " * 200, None),  # too long to be a separator
    ],
)
def test_gap_kind(gap, kind):
    assert gap_kind(gap) == kind


@pytest.mark.parametrize(
    ("gap", "before", "after", "joined"),
    [
        (" no ", "1", "2", True),  # under 10 characters
        (" \\text{ for part (a) and } ", "(3, 3)", "(1, 1)", True),
        (" papers and ", "1", "2", True),
        (" no no no no no ", "1", "2", False),  # 16 characters, no separator
        (". Hmm, actually: ", "1", "2", False),  # a sentence break
        (" \\text{ for part (a) and } ", "1", "1", False),  # the same answer again
        (", " + "x" * 70, "1", "2", False),  # too long
    ],
)
def test_loose_list_gap(gap, before, after, joined):
    assert loose_list_gap(gap, before, after) is joined


@pytest.mark.parametrize(
    ("text", "lists", "answers"),
    [
        ("\\boxed{1}, \\boxed{-2}", False, ["1, -2"]),
        ("\\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}", False, ["-2, 1"]),
        ("\\boxed{3} or \\boxed{5}", False, ["3 \\text{ or } 5"]),
        ("\\boxed{1}, \\boxed{2} or \\boxed{3}", False, ["1 \\text{ or } 2 \\text{ or } 3"]),  # a hedge as a whole
        ("\\boxed{3}. Wait, that is wrong: \\boxed{4}", False, ["3", "4"]),
        ("\\boxed{4} then \\boxed{4}", False, ["4", "4"]),
        ("\\boxed{4}, \\boxed{4}", False, ["4"]),  # the same box twice is one answer
        ("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", False, ["(3, 3)", "(1, 1)"]),
        ("\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}", True, ["(3, 3), (1, 1)"]),
        ("\\boxed{1} or \\boxed{2}", True, ["1, 2"]),  # for a list gold, "or" names the solutions
        ("\\boxed{1}. Hmm, no. \\boxed{2}", True, ["1", "2"]),
    ],
)
def test_group_boxes(text, lists, answers):
    assert [render(g) for g in group_boxes(text, find_boxes(text), lists=lists)] == answers
