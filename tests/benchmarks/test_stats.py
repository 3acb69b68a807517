import math

import numpy as np
import pytest
from scipy import stats as sps

from hicra.benchmarks.stats import (
    holm,
    mean,
    pair_by_seed,
    paired_differences,
    paired_t,
    paired_t_power,
    sd,
    seeds_needed,
    sign_test,
)


def test_pair_by_seed_keeps_common_finite_seeds_in_order():
    agent = {3: 0.5, 1: 0.4, 2: math.nan, 7: 0.9}
    reference = {1: 0.3, 2: 0.1, 3: 0.25, 5: 0.0}
    seeds, d = pair_by_seed(agent, reference)
    assert seeds == [1, 3]  # 2: agent has no value; 5, 7: only one agent ran them
    np.testing.assert_allclose(d, [0.1, 0.25])


def test_paired_differences_subtract_and_refuse_mismatched_shapes():
    np.testing.assert_allclose(paired_differences([0.5, 0.7], [0.25, 0.75]), [0.25, -0.05])
    with pytest.raises(ValueError, match=r"expected two 1-D arrays of one length, got shapes \(2,\) and \(3,\)"):
        paired_differences([1.0, 2.0], [1.0, 2.0, 3.0])


def test_mean_and_sample_sd():
    assert mean([1.0, 2.0, 3.0, 6.0]) == 3.0
    assert sd([1.0, 2.0, 3.0, 6.0]) == pytest.approx(math.sqrt(14 / 3))  # squares 4 + 1 + 0 + 9 over n - 1 = 3
    assert math.isnan(sd([1.0])) and math.isnan(mean([]))


def test_paired_t_with_two_pairs_is_a_cauchy_tail():
    # d = 1, 3: mean 2, sd sqrt(2), se 1, t = 2 on 1 df; P(|T| > 2) = 1 - (2 / pi) atan(2)
    r = paired_t([1.0, 3.0])
    assert (r.n, r.mean, r.t) == (2, 2.0, pytest.approx(2.0))
    assert r.p == pytest.approx(1 - 2 / math.pi * math.atan(2))
    assert (r.low, r.high) == (pytest.approx(2 - 12.7062, abs=1e-3), pytest.approx(2 + 12.7062, abs=1e-3))


def test_paired_t_with_three_pairs_matches_the_closed_form_for_two_df():
    # d = 1, 2, 3: mean 2, sd 1, t = 2 sqrt(3); for 2 df, P(|T| > t) = 1 - t / sqrt(t^2 + 2)
    r = paired_t([1.0, 2.0, 3.0])
    t = 2 * math.sqrt(3)
    assert r.t == pytest.approx(t) and r.p == pytest.approx(1 - t / math.sqrt(t * t + 2))
    assert r.high - r.mean == pytest.approx(4.3027 / math.sqrt(3), abs=1e-4)  # table t(0.975, 2) = 4.3027
    check = sps.ttest_rel([3.0, 4.0, 5.0], [2.0, 2.0, 2.0])  # the same differences, by scipy's own paired test
    assert r.p == pytest.approx(check.pvalue) and r.t == pytest.approx(check.statistic)


def test_paired_t_is_undefined_for_one_pair_or_no_spread():
    one = paired_t([0.1])
    assert one.mean == 0.1 and math.isnan(one.p) and math.isnan(one.low)
    flat = paired_t([0.05, 0.05, 0.05])
    assert (flat.low, flat.high) == (pytest.approx(0.05), pytest.approx(0.05)) and math.isnan(flat.p)


def test_sign_test_is_exact_and_leaves_ties_out():
    assert sign_test([0.1] * 5) == sign_test([0.1, 0.2, 0.3, 0.4, 0.5])
    assert sign_test([0.1] * 5).p == pytest.approx(2 / 32)  # 5 of 5: two-sided 0.0625, never below 0.05
    r = sign_test([0.1, 0.2, -0.1, 0.0, 0.3])  # 3 wins, 1 loss, 1 tie: 2 * (1 + 4) / 16
    assert (r.wins, r.losses, r.ties, r.p) == (3, 1, 1, pytest.approx(10 / 16))
    assert sign_test([0.0, 0.0]).p == 1.0
    assert sign_test([1.0] * 6 + [-1.0] * 2).p == pytest.approx(sps.binomtest(6, 8).pvalue)


def test_holm_steps_down_and_keeps_input_order():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    adjusted = holm([0.5, math.nan, 0.02])  # NaN stays NaN and does not count in m
    assert adjusted[0] == pytest.approx(0.5) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    assert holm([0.6, 0.7]) == [1.0, 1.0] and holm([]) == []


def test_issue_figures_hicra_vs_grpo_is_not_significant_after_holm():
    # issue 18: p ~ 0.026 for HICRA - GRPO over 5 seeds; Holm over 4 contrasts multiplies the smallest p by 4
    assert holm([0.026, 0.2, 0.4, 0.6])[0] == pytest.approx(0.104)


@pytest.mark.parametrize(("effect", "n", "power"), [(0.5, 34, 0.8078), (0.8, 15, 0.8213), (1.0, 10, 0.8031)])
def test_seeds_needed_matches_gpower_tables(effect, n, power):
    # G*Power 3.1, t test "difference from constant" (one sample / paired), alpha 0.05 two-tailed, power 0.8:
    # total sample size and actual power; the normal approximation ((1.96 + 0.8416) / effect)^2 would say 32, 13, 8
    assert seeds_needed(effect * 0.04, 0.04) == n
    assert paired_t_power(n, effect * 0.04, 0.04) == pytest.approx(power, abs=1e-4)
    assert paired_t_power(n - 1, effect * 0.04, 0.04) < 0.8


def test_paired_t_power_agrees_with_a_simulation():
    rng = np.random.default_rng(0)
    d = rng.normal(0.03, 0.05, size=(20_000, 8))  # 8 pairs, true difference 0.03, sd 0.05
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(8))
    rejected = np.mean(np.abs(t) > sps.t.ppf(0.975, 7))
    assert paired_t_power(8, 0.03, 0.05) == pytest.approx(rejected, abs=0.01)
    assert paired_t_power(8, 0.0, 0.05) == pytest.approx(0.05)  # no effect: the test's own size


def test_power_inputs_are_checked():
    with pytest.raises(ValueError, match="n: expected at least 2 pairs, got 1"):
        paired_t_power(1, 0.1, 0.1)
    with pytest.raises(ValueError, match="expected delta != 0"):
        seeds_needed(0.0, 0.1)
