import math

import numpy as np
import pytest

from hicra.benchmarks.curves import (
    change_point,
    mean_interval,
    min_segment_length,
    smooth,
    steps_to_reach,
    window_mean,
)


def test_mean_interval_uses_the_student_t_quantile():
    # mean 2, sample sd 1, n=3: half-width = 4.303 * 1 / sqrt(3)
    iv = mean_interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.half_width == pytest.approx(4.302653 / math.sqrt(3))  # t(0.975, 2) = 4.302653 (tables: 4.303)
    assert mean_interval(np.arange(41.0)).half_width == pytest.approx(
        2.021075 * np.arange(41.0).std(ddof=1) / math.sqrt(41)
    )
    assert str(iv) == "2.000 ± 2.484"


def test_mean_interval_of_one_seed_has_no_width_and_nans_are_dropped():
    assert mean_interval([0.25, math.nan]).half_width == 0.0
    assert mean_interval([0.25, math.nan]).mean == 0.25
    assert math.isnan(mean_interval([]).mean)


def test_smooth_is_a_trailing_moving_average():
    np.testing.assert_allclose(smooth(np.array([0.0, 2.0, 4.0, 6.0]), 2), [0.0, 1.0, 3.0, 5.0])
    np.testing.assert_allclose(smooth(np.array([1.0, math.nan, 3.0]), 3), [1.0, 1.0, 2.0])


def test_window_mean_takes_first_or_last_fraction():
    x = np.arange(8, dtype=float)  # 0..7
    assert window_mean(x, 0.25, tail=False) == 0.5  # steps 0,1
    assert window_mean(x, 0.25, tail=True) == 6.5  # steps 6,7
    assert window_mean(x, 0.01, tail=True) == 7.0  # at least one step


def test_steps_to_reach_uses_the_smoothed_curve():
    acc = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    # 2-step smoothing: 0, .5, .5, .5, 1 -> first >= 0.75 at step 4; >= 0.5 at step 1
    assert steps_to_reach(acc, 0.75, 2) == 4
    assert steps_to_reach(acc, 0.5, 2) == 1
    assert steps_to_reach(acc, 1.1, 2) is None


def _noisy(y: np.ndarray, sd: float, seed: int) -> np.ndarray:
    return y + np.random.default_rng(seed).normal(0.0, sd, y.size)


X = np.arange(150, dtype=float)


def test_change_point_of_an_exact_hinge_is_its_knot_and_slopes():
    # falls by 1 a step to step 3, then rises by 0.5: RSS of the two segments is 0 at knot 3 (min segment 3:
    # knots 2..4), one line leaves RSS > 0
    b = change_point(np.array([3.0, 2.0, 1.0, 0.0, 0.5, 1.0, 1.5]), min_segment=3)
    assert b.step == 3 and b.slope_before == pytest.approx(-1.0) and b.slope_after == pytest.approx(0.5)
    assert b.stops_falling and not b.starts_rising  # rises slower than it fell: a flattening, not a rise
    assert str(b) == "step 3 (slope -1 -> +0.5 per step)"
    v = change_point(np.array([3.0, 2.0, 1.0, 0.0, 2.0, 4.0, 6.0]), min_segment=3)
    assert (v.step, v.slope_after) == (3, pytest.approx(2.0)) and v.stops_falling and v.starts_rising
    flat = change_point(np.array([3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0]), min_segment=3)
    assert flat.step == 3 and flat.stops_falling and not flat.starts_rising


def test_change_point_reports_logged_steps_and_skips_nans():
    y = np.array([3.0, 2.0, np.nan, 0.0, 0.0, 0.0, 0.0, 0.0])  # step 20 unlogged; the knot is at step 30
    b = change_point(y, np.array([0, 10, 20, 30, 40, 50, 60, 70]), min_segment=3)
    assert b.step == 30 and b.slope_before == pytest.approx(-0.1)  # per logged step, 10 apart


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_change_point_finds_a_known_break_through_noise(seed):
    truth = np.where(X < 60, 1.0 - 0.004 * X, 1.0 - 0.004 * 60)  # falls, flat from step 60
    b = change_point(_noisy(truth, 0.02, seed))
    assert abs(b.step - 60) <= 5
    assert b.slope_before == pytest.approx(-0.004, abs=0.0008) and b.slope_after == pytest.approx(0.0, abs=0.0008)
    assert b.bic_break < b.bic_line and b.stops_falling


@pytest.mark.parametrize("seed", range(5))
def test_a_straight_line_has_no_break(seed):
    assert change_point(_noisy(0.5 + 0.002 * X, 0.05, seed)) is None
    assert change_point(0.5 + 0.002 * X) is None  # exact line
    assert change_point(np.full(20, 0.7)) is None  # constant


def test_the_break_of_a_rise_is_not_the_curves_minimum():
    # flat until step 40, then rising: noise puts the minimum elsewhere; the old "last running minimum" reported it
    y = _noisy(np.where(X < 40, 1.0, 1.0 + 0.01 * (X - 40)), 0.03, 0)
    assert abs(int(np.argmin(y)) - 40) > 10  # the test means something: the minimum is far from the break
    b = change_point(y)
    assert abs(b.step - 40) <= 4 and b.starts_rising
    assert b.slope_before == pytest.approx(0.0, abs=0.002) and b.slope_after == pytest.approx(0.01, abs=0.001)


def test_a_rise_that_stops_is_a_break_but_not_a_start_of_rising():
    # the GRPO case: semantic entropy rises over the first 30 steps, then drifts down
    y = _noisy(np.where(X < 30, 0.5 + X / 30, 1.5 - 0.003 * (X - 30)), 0.05, 0)
    b = change_point(y)
    assert abs(b.step - 30) <= 4 and b.slope_before > 0 > b.slope_after
    assert not b.starts_rising and not b.stops_falling


def test_change_point_needs_two_minimum_segments():
    assert change_point(np.array([3.0, 2.0, 1.0, 1.0]), min_segment=3) is None  # 4 points < 2 * 3 - 1
    assert min_segment_length(150) == 15 and min_segment_length(7) == 3
