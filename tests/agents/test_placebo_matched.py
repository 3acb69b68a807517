"""The matched placebo: HICRA's count, no planning token, nearest entropy one to one, ties by the generator, and the
global batch's selection when the batch is split over ranks (the gathers simulated)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hicra.agents import make_agent
from hicra.agents.placebo_matched import entropy_matched_mask, match_entropies

from .hand_batches import batch_of

# planning entropies .55 (1,1), .50 (0,0), .10 (1,0); row 2 holds no planning token; 9.0 lies on padding
ENTROPY = torch.tensor([[0.50, 0.48, 0.02, 0.30], [0.10, 0.55, 0.09, 9.0], [0.20, 0.47, 0.05, 0.60]])
PLANNING = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]], dtype=torch.bool)


def _batch(entropy=ENTROPY, planning=PLANNING):
    return batch_of([4, 3, 4], [1.0, 0.0, 1.0], [0, 0, 1], planning=planning, entropy=entropy)


def test_each_planning_token_takes_the_free_non_planning_token_of_nearest_entropy():
    # .55 first: .60 (2,3) is .05 away, .48 is .07; then .50 -> .48 (0,1); then .10 -> .09 (1,2)
    credit = make_agent("placebo_matched").credit(_batch(), torch.Generator().manual_seed(0))
    expected = [[False, True, False, False], [False, False, True, False], [False, False, False, True]]
    assert credit.amplified.tolist() == expected
    assert not (credit.amplified & PLANNING).any()
    # A = [.5, -.5 | 0]: the placebo tokens get A + .2|A|, the planning tokens keep A
    assert credit.advantages[0].tolist() == pytest.approx([0.5, 0.6, 0.5, 0.5])
    assert credit.advantages[1].tolist() == pytest.approx([-0.5, -0.5, -0.4, -0.5])


def test_planning_tokens_are_served_highest_entropy_first():
    # .55 and .45 to match with .50, .30, .62: .55 takes .50 (.05 < .07), then .45 takes .30 (.15 < .17).
    # Lowest first would give {.50, .62}.
    entropy, planning = np.array([0.55, 0.45, 0.50, 0.30, 0.62]), np.array([1, 1, 0, 0, 0]) > 0
    assert match_entropies(entropy, planning, np.zeros(5)).tolist() == [False, False, True, True, False]


def test_ties_are_broken_by_the_smaller_key():
    # .25 and .75 are equally near .5 (exact in binary): the smaller key wins
    entropy, planning = np.array([0.5, 0.25, 0.75]), np.array([1, 0, 0]) > 0
    assert match_entropies(entropy, planning, np.array([0.0, 0.3, 0.7])).tolist() == [False, True, False]
    assert match_entropies(entropy, planning, np.array([0.0, 0.7, 0.3])).tolist() == [False, False, True]
    # equal entropies, below and above the planning token: of the nearest, the smallest key
    entropy, planning = np.array([0.5, 0.25, 0.25, 0.25, 0.875]), np.array([1, 0, 0, 0, 0]) > 0
    assert match_entropies(entropy, planning, np.array([0, 0.9, 0.1, 0.5, 0])).tolist() == [0, 0, 1, 0, 0]
    entropy = np.array([0.5, 0.75, 0.75, 0.75, 0.125])
    assert match_entropies(entropy, planning, np.array([0, 0.9, 0.1, 0.5, 0])).tolist() == [0, 0, 1, 0, 0]


def _reference(entropy, planning, keys):
    """The definition, by brute force: planning tokens by (-entropy, key) each take the free candidate of least
    (distance, key)."""
    free, chosen = set(np.flatnonzero(~planning).tolist()), np.zeros(len(entropy), dtype=bool)
    for p in sorted(np.flatnonzero(planning).tolist(), key=lambda i: (-entropy[i], keys[i])):
        if free:
            best = min(free, key=lambda j: (abs(entropy[j] - entropy[p]), keys[j]))
            free.remove(best)
            chosen[best] = True
    return chosen


def test_matching_equals_the_brute_force_definition_on_random_batches_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        entropy, planning, keys = np.round(rng.random(n), 1), rng.random(n) < 0.4, rng.random(n)
        got = match_entropies(entropy, planning, keys)
        assert got.tolist() == _reference(entropy, planning, keys).tolist()
        assert got.sum() == min(planning.sum(), (~planning).sum()) and not (got & planning).any()


def test_the_seeded_generator_decides_ties_and_only_ties():
    flat = torch.full((3, 4), 0.25)  # every token ties: the generator decides which non-planning tokens
    agent = make_agent("placebo_matched")
    masks = [agent.credit(_batch(entropy=flat), torch.Generator().manual_seed(s)).amplified for s in range(6)]
    assert torch.equal(masks[0], agent.credit(_batch(entropy=flat), torch.Generator().manual_seed(0)).amplified)
    assert any(not torch.equal(masks[0], m) for m in masks[1:])
    for mask in masks:
        assert int(mask.sum()) == 3 and not (mask & PLANNING).any() and not (mask & ~_batch().response_mask).any()
    distinct = [agent.credit(_batch(), torch.Generator().manual_seed(s)).amplified for s in range(3)]
    assert all(torch.equal(distinct[0], m) for m in distinct)  # no ties: the same tokens whatever the seed


def test_fewer_candidates_than_planning_tokens_takes_them_all_and_no_planning_gives_none():
    planning = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)  # 8 planning, 3 others
    mask = make_agent("placebo_matched").credit(_batch(planning=planning), torch.Generator()).amplified
    assert torch.equal(mask, _batch().response_mask & ~planning)
    none = make_agent("placebo_matched").credit(_batch(planning=torch.zeros(3, 4, dtype=torch.bool)), torch.Generator())
    assert not none.amplified.any()


def test_it_needs_the_entropy_and_one_shape():
    agent = make_agent("placebo_matched")
    assert agent.reads_entropy
    with pytest.raises(ValueError, match=r"placebo_matched needs batch\.entropy"):
        agent.credit(batch_of([2], [1.0], [0]), torch.Generator())
    with pytest.raises(ValueError, match=r"one \[N, T\] shape, got \[3, 4\], \[3, 4\], \[3, 4\], \[3, 3\]"):
        entropy_matched_mask(ENTROPY, PLANNING, _batch().response_mask, torch.zeros(3, 3))


def _split_world(select, pieces):
    """Each rank's result when rank r holds ``pieces[r]``: a first pass records what each rank sends, the second
    answers every rank's gather with all of them (as ``torch.distributed`` would)."""
    sent = []
    for piece in pieces:
        select(*piece, gather=lambda x: (sent.append(x), ([x], 0))[1])
    return [select(*piece, gather=lambda x, r=r: (sent, r)) for r, piece in enumerate(pieces)]


def test_split_over_two_ranks_each_rank_selects_what_one_process_selects():
    response = _batch().response_mask
    keys = torch.rand(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    whole = entropy_matched_mask(ENTROPY, PLANNING, response, keys, gather=lambda x: ([x], 0))
    for split in (1, 2):
        pieces = [(t[:split] for t in (ENTROPY, PLANNING, response, keys)),
                  (t[split:] for t in (ENTROPY, PLANNING, response, keys))]  # fmt: skip
        pieces = [tuple(p) for p in pieces]
        assert torch.equal(torch.cat(_split_world(entropy_matched_mask, pieces)), whole), split
    # each rank alone would match its own planning tokens with its own tokens: rank 0 (rows 0-1) could not reach .60
    alone = [entropy_matched_mask(*(t[a:b] for t in (ENTROPY, PLANNING, response, keys)), gather=lambda x: ([x], 0))
             for a, b in ((0, 2), (2, 3))]  # fmt: skip
    assert not torch.equal(torch.cat(alone), whole)
