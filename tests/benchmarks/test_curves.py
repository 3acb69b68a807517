import math

import numpy as np
import pytest

from hicra.benchmarks.curves import (
    mean_interval,
    plateau_step,
    rise_step,
    smooth,
    steps_to_reach,
    window_mean,
)


def test_mean_interval_uses_the_student_t_quantile():
    # mean 2, sample sd 1, n=3: half-width = 4.303 * 1 / sqrt(3)
    iv = mean_interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.half_width == pytest.approx(4.303 / math.sqrt(3))
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


def test_plateau_step_finds_where_a_falling_curve_flattens():
    ppl = np.array([2.0, 1.5, 1.2, 1.01, 1.0, 1.0, 1.0])
    assert plateau_step(ppl, 1, 0.02) == 3  # 1.01 is within 2% of the later minimum 1.0
    assert plateau_step(ppl, 1, 0.0) == 4


def test_a_curve_that_never_falls_has_no_plateau():
    rising = np.array([1.0, 1.005, 1.01, 1.02, 1.02])  # the miniature's execution perplexity: it drifts up
    assert plateau_step(rising, 1, 0.02) is None
    assert plateau_step(np.array([1.0, 0.99, 1.0, 0.995]), 1, 0.02) is None  # falls by less than the tolerance
    assert plateau_step(np.array([np.nan, 1.2, 1.0, 1.0]), 1, 0.02) == 2  # the first finite step starts the curve


def test_rise_step_finds_the_last_minimum_before_a_lasting_rise():
    sem = np.array([1.0, 0.6, 0.5, 0.7, 0.9, 1.2])
    assert rise_step(sem, 1, 0.1) == 2
    assert rise_step(np.array([1.0, 0.8, 0.6]), 1, 0.1) is None  # still falling
