"""The gain's promises at their edges: no compute, NaN, the ladder's own ends, the fit's reach,
the interval's percentiles, and the anchored gain's open bounds. The laws are built by hand, so
every expected number follows from the formula (C_pred(L) = (A / (L - E))^(1 / alpha))."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sheetsync.errors import FitError
from sheetsync.science import gain as gain_module
from sheetsync.science.gain import (
    REACH,
    Bootstrap,
    anchored_gain,
    bootstrap,
    gain,
    gain_draws,
    interval_of,
    run_scatter,
    tone,
)
from sheetsync.science.scaling import Fit

E, A, ALPHA = 1.70, 1145.0, 0.155
LOW, HIGH = 1e18, 3e20  # the ladder's smallest and largest compute


def law_fit(
    form: str = "compute",
    tokens_per_param: float | None = None,
    rms: float = 0.0,
    runs: int = 7,
    floor: float | None = None,
) -> Fit:
    if form == "compute":
        params = {"E": E, "A": A, "alpha": ALPHA}
    else:
        params = {"E": 1.82, "A": 482.01, "alpha": 0.3478, "B": 2085.43, "beta": 0.3658}
    return Fit(form, params, runs, LOW, HIGH, rms, tokens_per_param, floor=floor)


def needs(loss: float, e: float = E, a: float = A) -> float:
    """The compute the law needs to reach `loss`."""
    return (a / (loss - e)) ** (1 / ALPHA)


def loss_at(compute: float) -> float:
    return E + A * compute**-ALPHA


def draws_of(**params: np.ndarray) -> Bootstrap:
    size = len(next(iter(params.values())))
    full = {k: np.full(size, v) for k, v in {"E": E, "A": A, "alpha": ALPHA}.items()}
    full.update(params)
    return Bootstrap("compute", full, None)


@pytest.mark.parametrize("compute", [0.0, -1e19, math.nan, math.inf])
def test_no_compute_gives_no_gain_and_no_error(compute):
    result = gain(law_fit(), compute, 2.0)
    assert result.gain is None and result.low is None and result.extrapolation is None
    assert result.note == "no compute or loss" and result.beyond_floor is False


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_a_loss_that_is_not_a_number_gives_no_gain(loss):
    result = gain(law_fit(), 1e19, loss)
    assert result.gain is None and result.note == "no compute or loss"
    assert result.beyond_floor is False


def test_a_run_on_the_law_gains_exactly_one():
    result = gain(law_fit(), 1e19, loss_at(1e19))
    assert result.gain == pytest.approx(1.0, rel=1e-9)
    assert result.low is None and result.high is None and result.note == ""
    assert result.beyond_floor is False


def test_gain_is_the_predicted_compute_over_the_runs():
    loss = loss_at(4e19)
    assert gain(law_fit(), 1e19, loss).gain == pytest.approx(4.0, rel=1e-9)
    assert gain(law_fit(), 8e19, loss).gain == pytest.approx(0.5, rel=1e-9)


@pytest.mark.parametrize("compute", [LOW, HIGH])
def test_a_run_at_exactly_the_ladders_ends_is_not_extrapolating(compute):
    result = gain(law_fit(), compute, loss_at(compute))
    assert result.extrapolation is None and result.note == ""
    assert result.gain == pytest.approx(1.0, rel=1e-9)


def test_extrapolation_factor_just_outside_each_end():
    above = gain(law_fit(), HIGH * 1.5, loss_at(HIGH))
    assert above.extrapolation == pytest.approx(1.5)
    assert above.note == "extrapolating 1.5x above the ladder"
    below = gain(law_fit(), LOW / 2, loss_at(LOW))
    assert below.extrapolation == pytest.approx(2.0)
    assert below.note == "extrapolating 2.0x below the ladder"


def test_the_floor_keeps_the_extrapolation_in_its_note():
    result = gain(law_fit(), HIGH * 2, E - 0.01)
    assert result.gain is None and result.beyond_floor is True
    assert result.extrapolation == pytest.approx(2.0)
    assert result.note == (
        "beyond the fit's floor (loss 1.6900 <= E = 1.7000); extrapolating 2.0x above the ladder"
    )


def test_exactly_at_the_fits_reach_is_still_a_gain(monkeypatch):
    """The law may need up to REACH times the ladder's largest compute; past that, no answer."""
    fit = law_fit()
    monkeypatch.setattr(gain_module, "compute_for_loss", lambda *_: REACH * HIGH)
    at = gain(fit, 1e19, 2.0)
    assert at.gain == pytest.approx(REACH * HIGH / 1e19) and at.note == ""
    monkeypatch.setattr(gain_module, "compute_for_loss", lambda *_: REACH * HIGH * 1.0001)
    past = gain(fit, HIGH * 2, 2.0)
    assert past.gain is None and past.beyond_floor is False
    assert past.extrapolation == pytest.approx(2.0)
    assert past.note.startswith(
        "beyond the fit's reach (the law needs 3e+24 FLOPs, more than 1e+04x"
    )
    assert past.note.endswith("; extrapolating 2.0x above the ladder")


def test_reach_is_ten_thousand_times_the_ladder():
    fit = law_fit()
    assert gain(fit, 1e19, loss_at(HIGH * 9_990)).gain == pytest.approx(HIGH * 9_990 / 1e19)
    assert gain(fit, 1e19, loss_at(HIGH * 10_000.5)).gain is None


def test_a_parametric_fit_without_tokens_per_param_reads_along_twenty():
    fit = law_fit("parametric")
    assert gain(fit, 1e19, fit.predict(1e19)).gain == pytest.approx(1.0, rel=1e-6)
    assert gain(fit, 1e19, fit.predict(3e19)).gain == pytest.approx(3.0, rel=1e-6)
    params = {k: np.full(5, v) for k, v in fit.params.items()}
    boot = Bootstrap("parametric", params, None)
    result = gain(fit, 1e19, fit.predict(3e19), boot)
    assert result.low == pytest.approx(3.0, rel=1e-6) and result.high == pytest.approx(
        3.0, rel=1e-6
    )


def test_the_interval_is_the_5th_to_95th_percentile_of_the_resampled_gains():
    """Draws of the law whose gains are 0.5x..1.5x the fit's, evenly: the 90% interval is
    0.55x..1.45x of it."""
    spread = np.linspace(0.5, 1.5, 101)
    boot = draws_of(A=A * spread**ALPHA)
    result = gain(law_fit(), 1e19, loss_at(2e19), boot)
    assert result.gain == pytest.approx(2.0)
    assert result.low == pytest.approx(2.0 * 0.55) and result.high == pytest.approx(2.0 * 1.45)
    assert result.note == "" and result.beyond_floor is False


def test_an_upper_bound_beyond_the_floor_in_resamples_is_open():
    floors = np.where(np.arange(100) < 90, E, 2.5)  # 10 draws put the floor above the loss
    result = gain(law_fit(), 1e19, 2.2, draws_of(E=floors))
    assert result.gain == pytest.approx(needs(2.2) / 1e19)
    assert result.low == pytest.approx(result.gain) and result.high is None
    assert result.note == "upper bound beyond the floor in resamples"
    assert result.beyond_floor is False


def test_a_bootstrap_whose_resamples_all_failed_gives_no_interval():
    empty = draws_of(A=np.array([]))
    result = gain(law_fit(), 1e19, loss_at(2e19), empty)
    assert result.gain == pytest.approx(2.0) and result.low is None and result.high is None


def test_a_fit_without_its_ladder_cannot_be_bootstrapped():
    with pytest.raises(FitError, match="does not carry its ladder"):
        bootstrap(law_fit())


def test_gain_draws_one_column_per_point_and_one_row_per_draw():
    spread = np.linspace(0.5, 1.5, 11)
    boot = draws_of(A=A * spread**ALPHA)
    draws = gain_draws(boot, [1e19, 2e19, 1e19], [loss_at(2e19), loss_at(2e19), E - 0.1])
    assert draws.shape == (11, 3)
    np.testing.assert_allclose(draws[:, 0], 2.0 * spread)
    np.testing.assert_allclose(draws[:, 1], spread)
    assert np.isinf(draws[:, 2]).all()
    assert gain_draws(boot, [], []).shape == (11, 0)
    with pytest.raises(ValueError):
        gain_draws(boot, [1e19, 2e19], [2.0])


def test_anchored_gain_is_the_runs_gain_over_the_baseline_runs():
    fit = law_fit()
    result = anchored_gain(fit, 1e19, loss_at(3e19), 1e19, loss_at(1.5e19))
    assert result.gain == pytest.approx(2.0, rel=1e-9)
    assert result.low is None and result.high is None and result.beyond_floor is False
    outside = anchored_gain(fit, HIGH * 2, loss_at(HIGH * 6), HIGH * 2, loss_at(HIGH * 3))
    assert outside.gain == pytest.approx(2.0, rel=1e-9)
    assert outside.extrapolation == pytest.approx(2.0)
    assert outside.note == "extrapolating 2.0x above the ladder"


def test_anchored_gain_without_a_run_gain_is_the_runs_answer():
    fit = law_fit()
    mine = anchored_gain(fit, 0.0, 2.0, 1e19, loss_at(1e19))
    assert mine == gain(fit, 0.0, 2.0)
    floor = anchored_gain(fit, 1e19, E - 0.1, 1e19, loss_at(1e19))
    assert floor.gain is None and floor.beyond_floor is True


def test_anchored_gain_names_a_baseline_run_without_a_gain():
    fit = law_fit()
    result = anchored_gain(fit, HIGH * 2, loss_at(HIGH), 0.0, 2.0)
    assert result.gain is None and result.beyond_floor is False
    assert result.extrapolation == pytest.approx(2.0)
    assert result.note == "the baseline's run: no compute or loss"


def test_anchored_interval_is_the_5th_to_95th_percentile_of_each_draws_ratio():
    floors = np.linspace(1.60, 1.75, 101)
    boot = draws_of(E=floors)
    run, base = 2.2, 2.3
    result = anchored_gain(law_fit(), 1e19, run, 2e19, base, boot)
    assert result.gain == pytest.approx(needs(run) / needs(base) * 2)
    ratio = [needs(run, e) / needs(base, e) * 2 for e in floors]
    assert result.low == pytest.approx(np.quantile(ratio, 0.05))
    assert result.high == pytest.approx(np.quantile(ratio, 0.95))
    assert result.low < result.gain < result.high
    assert result.beyond_floor is False


def test_anchored_interval_is_open_where_draws_put_a_floor_between_the_two_losses():
    """A run worse than the baseline's: draws whose floor lies between the two losses give a
    ratio of 0 (the baseline's loss unreachable), draws with a floor above both are left out."""
    floors = np.concatenate([np.full(80, E), np.full(15, 2.25), np.full(5, 2.5)])
    result = anchored_gain(law_fit(), 1e19, 2.3, 1e19, 2.2, draws_of(E=floors))
    assert result.gain == pytest.approx(needs(2.3) / needs(2.2))
    assert result.low == 0.0 and result.high == pytest.approx(result.gain)
    floors = np.concatenate([np.full(80, E), np.full(20, 2.25)])
    upper = anchored_gain(law_fit(), 1e19, 2.2, 1e19, 2.3, draws_of(E=floors))
    assert upper.low == pytest.approx(upper.gain) and upper.high is None


def test_an_anchored_interval_with_every_draw_left_out_is_no_interval():
    floors = np.full(10, 2.5)
    result = anchored_gain(law_fit(), 1e19, 2.2, 1e19, 2.3, draws_of(E=floors))
    assert result.gain == pytest.approx(needs(2.2) / needs(2.3))
    assert result.low is None and result.high is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.950-1.120x; 12 resamples", (0.95, 1.12)),
        ("  1-infx", (1.0, math.inf)),
        ("1.2x", None),
        ("", None),
        (None, None),
    ],
)
def test_interval_of_a_cell(text, expected):
    assert interval_of(text) == expected


def test_tone_needs_the_whole_interval_on_one_side_of_one():
    assert tone(1.01, None) == "better" and tone(1.01, 2.0) == "better"
    assert tone(None, 0.99) == "worse" and tone(0.5, 0.99) == "worse"
    assert tone(1.0, 1.2) is None and tone(0.8, 1.0) is None
    assert tone(None, None) is None and tone(0.9, 1.1) is None


def test_a_runs_scatter_is_the_ladders_residual_over_its_degrees_of_freedom():
    assert run_scatter(law_fit(rms=0.01)) == pytest.approx(0.01 * math.sqrt(7 / 4))
    assert run_scatter(law_fit(rms=0.01, floor=E)) == pytest.approx(0.01 * math.sqrt(7 / 5))
    five = law_fit("parametric", rms=0.01, runs=6)
    assert run_scatter(five) == pytest.approx(0.01 * math.sqrt(6 / 1))
    assert run_scatter(law_fit(rms=0.01, runs=4)) == pytest.approx(0.02)
    assert run_scatter(law_fit(rms=0.01, runs=3)) == 0.0  # no degree of freedom left
    assert run_scatter(law_fit(rms=0.01, runs=2)) == 0.0
    assert run_scatter(law_fit(rms=math.nan)) == 0.0
    assert run_scatter(law_fit(rms=math.inf)) == 0.0
    assert run_scatter(law_fit(rms=0.0)) == 0.0


T95_4 = 2.1318  # the 95th percentile of Student's t with 4 degrees of freedom (7 rungs - 3)


def test_the_plain_interval_counts_the_runs_own_scatter():
    """Draws of the law that all agree: the interval is the run's own scatter alone, its loss
    moved by t(4) scatters (log; the ladder's 7 runs less 3 parameters) either way for the 5th
    and 95th percentiles."""
    sigma = 0.002 * math.sqrt(7 / 4)
    boot = draws_of(A=np.full(4000, A))
    run = 2.2
    result = gain(law_fit(rms=0.002), 1e19, run, boot)
    assert result.gain == pytest.approx(needs(run) / 1e19)
    low = needs(run * math.exp(T95_4 * sigma)) / 1e19
    high = needs(run * math.exp(-T95_4 * sigma)) / 1e19
    assert result.low == pytest.approx(low, rel=0.01) and result.high == pytest.approx(
        high, rel=0.01
    )
    exact = gain(law_fit(rms=0.0), 1e19, run, boot)
    assert exact.low == pytest.approx(exact.gain) and exact.high == pytest.approx(exact.gain)


def test_the_anchored_interval_counts_both_runs_scatter():
    """Draws of the law that all agree: the interval is the two runs' scatter alone, each loss
    moved by its own t(4) draw of one run's scatter (log), so wider than either run's alone."""
    sigma = 0.002 * math.sqrt(7 / 4)
    boot = draws_of(A=np.full(4000, A))
    run, base = 2.2, 2.3
    result = anchored_gain(law_fit(rms=0.002), 1e19, run, 1e19, base, boot)
    assert result.gain == pytest.approx(needs(run) / needs(base))
    t = np.random.default_rng(99).standard_t(4, (2, 200_000)) * sigma
    ratios = needs(run * np.exp(t[0])) / needs(base * np.exp(t[1]))
    low, high = np.quantile(ratios, [0.05, 0.95])
    assert result.low == pytest.approx(low, rel=0.01) and result.high == pytest.approx(
        high, rel=0.01
    )
    assert result.low < result.gain < result.high
    base_only = needs(run) / needs(base * math.exp(-T95_4 * sigma))
    assert result.low < base_only  # one run's scatter is not the pair's
    exact = anchored_gain(law_fit(rms=0.0), 1e19, run, 1e19, base, boot)
    assert exact.low == pytest.approx(exact.gain) and exact.high == pytest.approx(exact.gain)


def test_a_ladder_with_no_degree_of_freedom_left_gives_the_laws_interval_alone():
    """Three rungs for three parameters: no scatter can be estimated, so none is drawn."""
    spread = np.linspace(0.5, 1.5, 101)
    boot = draws_of(A=A * spread**ALPHA)
    fit = law_fit(rms=0.01, runs=3)
    result = gain(fit, 1e19, loss_at(2e19), boot)
    assert result.low == pytest.approx(2.0 * 0.55) and result.high == pytest.approx(2.0 * 1.45)
    anchored = anchored_gain(
        fit, 1e19, loss_at(2e19), 1e19, loss_at(1e19), draws_of(A=np.full(9, A))
    )
    assert anchored.low == pytest.approx(2.0) and anchored.high == pytest.approx(2.0)
