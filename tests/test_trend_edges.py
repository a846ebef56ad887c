"""The does-it-scale answer at its edges: how budgets are counted, exactly two and exactly three
budgets, the stable band of 2% per 10x, the verdict's interval bounds, the 90% interval and the
projection on draws whose answer is known, and the above-1 flag."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sheetsync.science.trend import (
    ABOVE_ONE,
    STABLE_SLOPE,
    TOO_FEW,
    Projection,
    Trend,
    budgets,
    draws_from_intervals,
    trend,
    verdict_of,
)

C = [1e18, 1e19, 1e20, 1e21]


def on_line(slope: float, k: float = 1.2, compute: list[float] = C) -> list[float]:
    """Gains exactly k * (C / C_0)^slope."""
    return [k * (c / compute[0]) ** slope for c in compute]


def spread_draws(gains: list[float], compute: list[float], slopes, levels) -> np.ndarray:
    """Draws whose log gains are the gains' own plus, in draw r, `slopes[r]` per unit of log
    compute (about the mean log compute) and `levels[r]` overall."""
    x = np.log(compute) - np.log(compute).mean()
    ly = np.log(gains)[None, :] + np.outer(slopes, x) + np.asarray(levels)[:, None]
    return np.exp(ly)


def test_budgets_count_runs_more_than_ten_percent_apart():
    assert budgets([]) == 0
    assert budgets([1e18]) == 1
    assert budgets([1e18, 1.09e18]) == 1  # within 10%: one budget
    assert budgets([1e18, 1.11e18]) == 2
    assert budgets([1e18, 1.09e18, 1.18e18]) == 2  # each compared with its budget's first
    assert budgets([1e20, 1e18, 1e19, 1.05e18]) == 3  # order does not matter


def test_budgets_leave_out_no_compute():
    assert budgets([0.0, 1e18]) == 1
    assert budgets([-1e18, math.nan, math.inf, 1e18, 1e19]) == 2


def test_one_budget_has_no_slope():
    t = trend([1e18, 1.05e18], [1.1, 1.3])
    assert t.slope is None and t.low is None and t.high is None
    assert t.verdict == TOO_FEW and t.budgets == 1


def test_exactly_two_budgets_give_a_slope_but_no_interval_or_verdict():
    t = trend(C[:2], on_line(0.05, compute=C[:2]))
    assert t.slope == pytest.approx(0.05)
    assert t.low is None and t.high is None
    assert t.verdict == TOO_FEW and t.budgets == 2
    assert t.slope_text() == "+0.050"


def test_exactly_three_budgets_get_a_verdict():
    t = trend(C[:3], on_line(0.05, compute=C[:3]))
    assert t.budgets == 3 and t.verdict == "rising"
    assert t.low == pytest.approx(0.05) and t.high == pytest.approx(0.05)
    assert t.slope_text() == "+0.050 [+0.050, +0.050]"


def test_points_without_a_compute_or_a_gain_are_left_out():
    clean = trend(C[:3], [1.2, 1.3, 1.4])
    for compute, gain in [
        ([0.0, *C[:3]], [5.0, 1.2, 1.3, 1.4]),
        ([*C[:3], 1e22], [1.2, 1.3, 1.4, 0.0]),
        ([*C[:3], math.nan], [1.2, 1.3, 1.4, 2.0]),
        ([*C[:3], 1e22], [1.2, 1.3, 1.4, math.nan]),
    ]:
        t = trend(compute, gain)
        assert (t.slope, t.low, t.high, t.budgets) == (clean.slope, clean.low, clean.high, 3)


def test_a_dropped_point_takes_its_draws_and_interval_along():
    draws = np.full((5, 4), 1.5)
    draws[:, 0] = 0.5  # the dropped point's draws would spoil the flag
    t = trend([0.0, *C[:3]], [5.0, 1.5, 1.5, 1.5], draws)
    assert t.above_one and t.verdict == "stable"
    gap = [(0.5, 0.6), (1.1, 1.3), (1.1, 1.3), (1.1, 1.3)]
    assert trend([0.0, *C[:3]], [5.0, 1.5, 1.5, 1.5], intervals=gap).above_one


def test_inputs_that_do_not_line_up_are_refused():
    with pytest.raises(ValueError, match="one gain per compute"):
        trend(C, [1.2, 1.3])
    with pytest.raises(ValueError, match="one column per point"):
        trend(C, on_line(0.0), np.ones((5, 3)))
    with pytest.raises(ValueError):
        trend(C, on_line(0.0), intervals=[(1.1, 1.3)] * 3)


def test_the_stable_band_is_two_percent_per_tenfold_compute():
    one_percent = math.log(1.01) / math.log(10)
    three_percent = math.log(1.03) / math.log(10)
    assert verdict_of(one_percent * 0.9, one_percent) == "stable"
    assert verdict_of(-one_percent, -one_percent * 0.9) == "stable"
    assert verdict_of(three_percent * 0.9, three_percent) == "rising"
    assert verdict_of(-three_percent, -three_percent * 0.9) == "falling"


def test_the_verdict_at_the_intervals_bounds():
    """An interval touching a bound says nothing past it: stable needs the interval strictly
    inside the band; rising, falling strictly above, below zero."""
    assert verdict_of(-STABLE_SLOPE, 0.0) == "inconclusive"
    assert verdict_of(0.0, STABLE_SLOPE) == "inconclusive"
    assert verdict_of(0.001, STABLE_SLOPE) == "rising"
    assert verdict_of(-STABLE_SLOPE, -0.001) == "falling"
    assert verdict_of(0.0, 0.05) == "inconclusive"
    assert verdict_of(-0.05, 0.0) == "inconclusive"
    assert verdict_of(1e-9, 0.05) == "rising"
    assert verdict_of(-0.05, -1e-9) == "falling"


def test_scatter_alone_gives_the_t_interval_at_90_percent():
    """Without draws of the law, the interval is the slope's t interval from the residuals
    (n - 2 degrees of freedom), 5th to 95th percentile."""
    compute = [1e18, 1e19, 1e20, 1e21]
    gains = [1.10, 1.21, 1.19, 1.34]
    x, y = np.log(compute), np.log(gains)
    fit = stats.linregress(x, y)
    half = stats.t.ppf(0.95, len(x) - 2) * fit.stderr
    t = trend(compute, gains)
    assert t.slope == pytest.approx(fit.slope)
    assert t.slope - t.low == pytest.approx(half, rel=0.1)
    assert t.high - t.slope == pytest.approx(half, rel=0.1)
    assert t.verdict == verdict_of(t.low, t.high)


def test_draws_of_the_law_give_the_interval_of_their_slopes_about_the_fits_own():
    """Gains exactly on a line (no scatter) and draws whose slopes are the fit's plus 0..0.2
    evenly: the draws are centred on the fit's slope (their median taken off), so the 90%
    interval is the slope -0.09..+0.09. Gains below 1 are counted as they are."""
    gains = on_line(0.03, k=0.5)
    draws = spread_draws(gains, C, np.linspace(0.0, 0.2, 101), np.zeros(101))
    t = trend(C, gains, draws)
    assert t.slope == pytest.approx(0.03)
    assert t.low == pytest.approx(0.03 - 0.09) and t.high == pytest.approx(0.03 + 0.09)
    assert t.verdict == "inconclusive"


def test_draws_that_all_failed_leave_the_interval_open():
    t = trend(C, on_line(0.05), np.full((20, 4), np.nan))
    assert t.slope == pytest.approx(0.05)
    assert (t.low, t.high) == (-math.inf, math.inf) and t.verdict == "inconclusive"
    assert t.slope_text() == "+0.050 [-inf, +inf]"


def test_projection_of_known_draws():
    """The projection is the line's value at the target; its interval the draws' spread of
    level and slope there, each taken about its median."""
    gains = on_line(0.02, k=1.1)
    slopes, levels = np.linspace(0.0, 0.2, 101), np.linspace(0.0, 0.1, 101)
    t = trend(C, gains, spread_draws(gains, C, slopes, levels), target=1e23)
    x0 = math.log(1e23) - np.log(C).mean()
    point = math.log(1.1) + 0.02 * (math.log(1e23) - math.log(C[0]))
    p = t.projection
    assert p is not None and p.compute == 1e23
    assert p.gain == pytest.approx(math.exp(point))
    assert p.low == pytest.approx(math.exp(point - 0.045 - 0.09 * x0))
    assert p.high == pytest.approx(math.exp(point + 0.045 + 0.09 * x0))


def test_projection_of_scatter_alone_widens_away_from_the_data():
    gains = [1.10, 1.21, 1.19, 1.34]
    near = trend(C, gains, target=3e19).projection
    far = trend(C, gains, target=1e25).projection
    assert near.low < near.gain < near.high and far.low < far.gain < far.high
    assert far.high / far.low > near.high / near.low


@pytest.mark.parametrize("target", [None, 0.0, -1e22, math.nan, math.inf])
def test_no_projection_without_a_finite_target(target):
    assert trend(C, on_line(0.0), target=target).projection is None


def test_no_projection_below_three_budgets():
    assert trend(C[:2], on_line(0.0, compute=C[:2]), target=1e22).projection is None


def test_projection_text():
    assert Projection(1e23, 1.051, 0.98, 1.12).text() == "projected at 1e23: 1.05x [0.98-1.12]"
    assert Projection(2.5e21, 1.2, None, None).text() == "projected at 2.5e21: 1.20x [0-inf]"
    assert Projection(3e22, 0.9, 0.5, None).text() == "projected at 3e22: 0.90x [0.50-inf]"
    assert Projection(3e22, 0.9, None, 1.5).text() == "projected at 3e22: 0.90x [0-1.50]"


def test_slope_text_and_a_trend_of_nothing():
    nothing = Trend(None, None, None, TOO_FEW)
    assert nothing.slope_text() == "" and nothing.budgets == 0
    assert nothing.above_one is False and nothing.flag == ""
    assert Trend(0.2, None, None, TOO_FEW, 2).slope_text() == "+0.200"
    assert Trend(-0.2, -0.3, None, TOO_FEW, 2).slope_text() == "-0.200"
    full = Trend(0.017, -0.002, 0.035, "inconclusive", 4)
    assert full.slope_text() == "+0.017 [-0.002, +0.035]"
    assert full.to_dict()["projection"] is None and full.to_dict()["budgets"] == 4


def test_above_one_needs_a_gain_and_an_interval_above_one_at_each():
    assert trend([], [], intervals=[]).above_one is False
    assert trend(C, on_line(0.0, k=1.5)).above_one is False  # no interval at all
    assert trend(C, on_line(0.0, k=1.5), np.empty((0, 4))).above_one is False
    at_one = [(1.0, 1.3)] * 4
    assert trend(C, on_line(0.0), intervals=at_one).above_one is False
    assert trend(C, on_line(0.0), intervals=[(1.0001, 1.3)] * 4).flag == ABOVE_ONE
    ones = np.ones((10, 4))
    assert trend(C, on_line(0.0), ones).above_one is False
    assert trend(C, on_line(0.0), ones * 1.0001).above_one is True
    low_one = np.ones((100, 4)) * 1.2
    low_one[:10, 2] = 0.9  # the 5th percentile of one point below 1
    assert trend(C, on_line(0.0), low_one).above_one is False


def test_draws_from_intervals_are_log_normal_about_each_gain():
    gains = [1.1, 2.0]
    intervals = [(1.0, 1.21), (1.0, 4.0)]
    draws = draws_from_intervals(gains, intervals, draws=20_000)
    assert draws.shape == (20_000, 2)
    logs = np.log(draws)
    np.testing.assert_allclose(np.median(logs, axis=0), np.log(gains), atol=0.01)
    q = np.quantile(logs, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(q[1] - q[0], np.log([1.21, 4.0]), rtol=0.05)
    again = draws_from_intervals(gains, intervals, draws=20_000)
    np.testing.assert_array_equal(draws, again)  # seeded: a sheet reads the same each time


@pytest.mark.parametrize(
    "intervals",
    [
        [],
        [(1.0, 1.2), None],
        [(0.0, 1.2), (1.0, 1.2)],
        [(1.0, math.inf), (1.0, 1.2)],
        [(1.3, 1.2), (1.0, 1.2)],
    ],
)
def test_no_draws_from_intervals_unless_each_is_finite_and_positive(intervals):
    assert draws_from_intervals([1.1] * len(intervals), intervals) is None


def test_a_zero_width_interval_is_the_gain_itself():
    draws = draws_from_intervals([1.1, 1.2], [(1.1, 1.1), (1.2, 1.2)], draws=4)
    np.testing.assert_allclose(draws, [[1.1, 1.2]] * 4)
