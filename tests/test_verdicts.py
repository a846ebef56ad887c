"""The does-it-scale verdict, the anchored gain and the projection, on synthetic methods whose
slope, gain and baseline law are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sheetsync.science.gain import (
    anchored_gain,
    bootstrap,
    compute_for_loss,
    gain,
    gain_draws,
    tone,
)
from sheetsync.science.scaling import Ladder, fit_ladder
from sheetsync.science.trend import (
    ABOVE_ONE,
    STABLE_SLOPE,
    budgets,
    draws_from_intervals,
    trend,
    verdict_of,
)

E, A, ALPHA = 1.70, 1145.0, 0.155
BUDGETS = (2e18, 8e18, 3e19, 2e20)  # four budgets inside the ladder's range


def law(c):
    return E + A * np.asarray(c, dtype=float) ** -ALPHA


def ladder_fit(seed: int, noise: float = 0.001):
    """A 7-rung ladder of the known law, each loss off by `noise` (relative, seeded)."""
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e18, 3e20, 7)
    fit = fit_ladder(Ladder(tuple(c), tuple(law(c) * np.exp(rng.normal(0, noise, 7)))))
    return fit, bootstrap(fit, resamples=400, seed=seed)


def method(
    slope, seed, noise=0.001, k0=1.1, at=BUDGETS, target=None, outlier=None, ladder_noise=0.001
):
    """A method whose true gain is k0 * (C / C_0)^slope at each budget; each run's loss off by
    `noise` (a seed's worth: 0.1% of the loss is about 1.5% of gain here); the trend against
    a noisy ladder's fit and its joint bootstrap."""
    fit, boot = ladder_fit(seed + 100, ladder_noise)
    rng = np.random.default_rng(seed)
    b = np.asarray(at, dtype=float)
    loss = law(b * k0 * (b / b[0]) ** slope) * np.exp(rng.normal(0, noise, b.size))
    if outlier is not None:
        loss[outlier[0]] *= outlier[1]
    gains = [gain(fit, c, lo, boot) for c, lo in zip(b, loss, strict=True)]
    # as the sheet does: the law's draws for the slope, each gain's own interval for the flag
    intervals = [(x.low, x.high or math.inf) for x in gains]
    return trend(b, [x.gain for x in gains], gain_draws(boot, b, loss), intervals, target=target)


@pytest.mark.parametrize(("slope", "expected"), [(0.05, "rising"), (-0.05, "falling")])
def test_a_known_slope_at_four_budgets_with_seed_noise_gets_its_verdict(slope, expected):
    for seed in range(5):
        t = method(slope, seed)
        assert t.verdict == expected, (seed, t)
        assert t.low < slope < t.high or abs(t.slope - slope) < 0.01
        assert t.budgets == 4


def test_a_flat_method_is_never_called_rising_or_falling_and_is_stable_when_precise():
    for seed in range(5):
        assert method(0.0, seed, noise=0.001).verdict in ("stable", "inconclusive")
    precise = [method(0.0, s, noise=0.0001, ladder_noise=0.0002).verdict for s in range(5)]
    assert precise.count("stable") >= 4, precise
    t = method(0.0, 0, noise=0.0001, ladder_noise=0.0002)
    assert t.low > -STABLE_SLOPE and t.high < STABLE_SLOPE


def test_two_budgets_are_too_few_whatever_the_slope():
    t = method(0.2, 0, at=(2e18, 2e20))
    assert t.verdict == "too few budgets" and t.budgets == 2
    assert t.slope == pytest.approx(0.2, abs=0.02) and t.low is None and t.high is None
    # runs within 10% of each other's compute are one budget
    assert method(0.2, 0, at=(2e18, 2.1e18, 2e20, 2.05e20)).verdict == "too few budgets"
    assert budgets([1e18, 1.05e18, 1e19, 1e20]) == 3


def test_one_noisy_point_makes_a_flat_method_inconclusive_not_rising():
    # the largest run's loss 0.4% low (gain about 6% high): a least-squares slope alone
    # would call it rising
    t = method(0.0, 1, noise=0.0002, outlier=(3, 0.996))
    assert t.slope > STABLE_SLOPE
    assert t.verdict == "inconclusive", t


def test_the_interval_counts_each_gains_own_uncertainty():
    """Gains exactly on a line have no scatter: the interval is the bootstrap's alone, and
    wider for a ladder with noisier rungs."""
    c = np.asarray(BUDGETS)
    widths = []
    for noise in (0.0005, 0.004):
        fit, boot = ladder_fit(3, noise)
        loss = law(c * 1.1)
        g = [gain(fit, x, lo).gain for x, lo in zip(c, loss, strict=True)]
        t = trend(c, g, gain_draws(boot, c, loss))
        widths.append(t.high - t.low)
    assert 0 < widths[0] < widths[1]


def test_verdict_words():
    assert verdict_of(0.01, 0.05) == "rising"
    assert verdict_of(-0.05, -0.01) == "falling"
    assert verdict_of(-0.001, 0.001) == "stable"
    assert verdict_of(-0.001, 0.05) == "inconclusive"
    assert verdict_of(-math.inf, math.inf) == "inconclusive"


def test_above_one_at_every_budget_only_when_every_interval_is():
    assert method(0.0, 0, k0=1.3).flag == ABOVE_ONE
    assert method(0.0, 0, k0=1.0).above_one is False
    assert trend([1e18, 1e19, 1e20], [1.2, 1.2, 1.2], intervals=[(1.1, 1.3)] * 3).above_one
    gap = [(1.1, 1.3), None, (1.1, 1.3)]
    assert not trend([1e18, 1e19, 1e20], [1.2, 1.2, 1.2], intervals=gap).above_one


def test_projection_of_a_constant_gain_is_that_gain():
    for seed in range(4):
        t = method(0.0, seed, noise=0.0003, k0=1.25, target=1e22)
        p = t.projection
        assert p is not None and p.compute == 1e22
        assert p.gain == pytest.approx(1.25, rel=0.08)
        assert p.low < 1.25 < p.high, (seed, p)
    assert t.projection.text().startswith("projected at 1e22: 1.2")
    assert method(0.0, 0, at=(2e18, 2e20), target=1e22).projection is None


def test_scatter_alone_when_no_bootstrap_and_cell_intervals_as_independent_draws():
    c = [1e18, 1e19, 1e20, 1e21]
    assert trend(c, [1.1, 1.15, 1.21, 1.27]).verdict == "rising"
    assert trend(c, [1.2, 1.2, 1.2, 1.2]).verdict == "stable"
    g = [1.10, 1.13, 1.16, 1.19]
    wide = draws_from_intervals(g, [(x * 0.8, x * 1.25) for x in g])
    assert trend(c, g, wide).verdict == "inconclusive"
    assert draws_from_intervals(g, [(1.0, 1.2), None, (1.0, 1.2), (1.0, 1.2)]) is None


def test_anchored_gain_equals_the_gain_when_the_baseline_run_is_on_the_law():
    fit, boot = ladder_fit(0, noise=0.0)
    c = 3e19
    plain = gain(fit, c, float(law(c * 1.2)), boot)
    anchored = anchored_gain(fit, c, float(law(c * 1.2)), c, float(law(c)), boot)
    assert anchored.gain == pytest.approx(plain.gain, rel=1e-6)
    assert anchored.low <= anchored.gain <= anchored.high


def test_anchored_gain_corrects_a_budget_where_the_baseline_sits_off_the_law():
    """At this budget both runs do 10% worse than the law (a data-loader change, a bad node):
    the plain gain books that as the method's, the anchored gain does not."""
    fit, boot = ladder_fit(0, noise=0.0)
    c = 3e19
    base_loss = float(law(c / 1.10))  # the baseline's own run needs 10% more compute
    run_loss = float(law(c * 1.2 / 1.10))
    plain = gain(fit, c, run_loss, boot)
    anchored = anchored_gain(fit, c, run_loss, c, base_loss, boot)
    assert plain.gain == pytest.approx(1.2 / 1.1, rel=1e-3)
    assert anchored.gain == pytest.approx(1.2, rel=1e-3)
    assert anchored.low < 1.2 < anchored.high
    # the formula, at equal compute: C_pred(L_run) / C_pred(L_base)
    from sheetsync.science.gain import compute_for_loss

    ratio = compute_for_loss(fit.params, "compute", run_loss) / compute_for_loss(
        fit.params, "compute", base_loss
    )
    assert anchored.gain == pytest.approx(ratio, rel=1e-9)


def test_anchored_gain_names_a_baseline_run_beyond_the_floor():
    fit, _ = ladder_fit(0, noise=0.0)
    result = anchored_gain(fit, 3e19, float(law(3e19)), 3e19, 1.0)
    assert result.gain is None and result.note.startswith("the baseline's run: beyond")


def test_the_anchored_interval_counts_the_baseline_runs_own_scatter():
    """A baseline run is one run: its loss lies off the law by a run's scatter. With the true
    anchored gain 1.2 and each baseline run off by that scatter, the 90% interval holds 1.2 in
    most trials (the law's draws alone nearly cancel in the ratio: about +-0.1%)."""
    noise = 0.003
    held, widths = 0, []
    for seed in range(30):
        fit, boot = ladder_fit(seed + 200, noise)
        rng = np.random.default_rng(seed)
        c = 3e19
        base_loss = float(law(c)) * math.exp(rng.normal(0, noise))
        run_loss = float(law(c * 1.2))  # the method's true anchored gain is 1.2
        anchored = anchored_gain(fit, c, run_loss, c, base_loss, boot)
        truth = compute_for_loss(fit.params, "compute", run_loss) / compute_for_loss(
            fit.params, "compute", float(law(c))
        )
        held += anchored.low <= truth <= anchored.high
        widths.append(anchored.high / anchored.low)
    assert held >= 24, held  # nominal 27 of 30
    assert min(widths) > 1.05  # a single run's scatter: several percent, not 0.1%


def test_the_anchored_interval_holds_the_true_gain_when_both_runs_are_seeds():
    """Both the method's run and the baseline's run lie off their curves by a seed's noise:
    the interval, counting both runs' scatter, holds the true anchored gain 1.2 (the fitted
    law's answer for the two true losses) in most trials."""
    noise = 0.003
    held = 0
    for seed in range(30):
        fit, boot = ladder_fit(seed + 250, noise)
        rng = np.random.default_rng(seed)
        c = BUDGETS[seed % 4]
        base_loss, run_loss = law([c, c * 1.2]) * np.exp(rng.normal(0, noise, 2))
        anchored = anchored_gain(fit, c, float(run_loss), c, float(base_loss), boot)
        truth = compute_for_loss(fit.params, "compute", float(law(c * 1.2))) / compute_for_loss(
            fit.params, "compute", float(law(c))
        )
        held += anchored.low <= truth <= anchored.high
    assert held >= 24, held  # nominal 27 of 30; 28 here (23 with the baseline run's alone)


def test_the_plain_interval_holds_the_true_gain_and_a_seed_does_not_turn_one_green():
    """One run per trial, its loss off by a seed's noise (0.2% of loss, about 3% of gain),
    against a ladder as noisy: the 90% interval holds the true gain (1.0 and 1.1, at each of
    the four budgets in turn) in about nine trials of ten, and a run whose true gain is 1.0
    is coloured green (its whole interval above 1) in about one trial of twenty, not more
    than one of ten (here: 29 and 26 held, 1 green). The law's draws alone held the truth in
    21 and 21 of 30, and coloured 5 of 30 true-1.0 runs green."""
    noise = 0.002
    held, green = {1.0: 0, 1.1: 0}, 0
    for seed in range(30):
        fit, boot = ladder_fit(seed + 300, noise)
        rng = np.random.default_rng(seed)
        c = BUDGETS[seed % 4]
        for k in held:
            g = gain(fit, c, float(law(c * k)) * math.exp(rng.normal(0, noise)), boot)
            held[k] += g.low <= k <= g.high
            green += k == 1.0 and tone(g.low, g.high) == "better"
    assert held[1.0] >= 24 and held[1.1] >= 24, held  # nominal 27 of 30
    assert green <= 3, green


def test_the_verdicts_interval_is_calibrated_at_seed_noise():
    """Over 40 flat methods (four budgets, each run off by a seed's noise), a 90% interval
    calls about 10% of them rising or falling (5% a side): at most twice that. A real slope
    of 0.05 is found in most trials and never called falling."""
    flat = [method(0.0, seed, noise=0.002).verdict for seed in range(40)]
    wrong = sum(v in ("rising", "falling") for v in flat)
    assert wrong <= 8, flat
    real = [method(0.05, seed, noise=0.002).verdict for seed in range(40)]
    assert real.count("rising") >= 28 and "falling" not in real, real


def test_the_projections_interval_holds_the_true_gain_at_the_target_in_most_trials():
    """A method whose gain grows 0.03 per log-compute unit, at four budgets with seed noise,
    projected to 1e23 (three decades past its runs): the 90% interval holds the true gain
    there in about nine trials of ten (36 of 40 here)."""
    held = 0
    for seed in range(40):
        p = method(0.03, seed, noise=0.002, target=1e23).projection
        truth = 1.1 * (1e23 / BUDGETS[0]) ** 0.03
        held += (p.low or 0.0) <= truth <= (p.high or math.inf)
    assert held >= 32, held
