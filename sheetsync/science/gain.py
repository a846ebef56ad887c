"""Compute-efficiency gain of a run against a fit, with its 90% interval.

gain = C_predicted / C_observed, where C_predicted is the compute the fitted baseline law
needs to reach the run's loss. A gain above 1 means the run reached its loss with less compute.

A gain's interval counts two uncertainties: the law's (each bootstrap draw of the ladder's fit)
and the run's own (one run is one seed: its loss lies off the method's curve by a run's
scatter, estimated from the ladder's runs about their law, `run_scatter`). Each draw of a gain
is one draw of the law at the run's loss moved by one draw of that scatter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sheetsync.errors import FitError
from sheetsync.science.scaling import Fit

RESAMPLES = 1000
LEVEL = 0.90
REACH = 1e4  # a predicted compute beyond this many times the ladder's largest is no answer
SCATTER_SEED = 0  # the scatter draws: row 0 the run's own, row 1 the baseline run's


@dataclass(frozen=True)
class Gain:
    """A run's gain; None (with `note`) when there is no finite answer."""

    gain: float | None
    low: float | None
    high: float | None
    extrapolation: float | None  # factor outside the ladder's compute range
    beyond_floor: bool
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "gain": self.gain,
            "low": self.low,
            "high": self.high,
            "extrapolation": self.extrapolation,
            "beyond_floor": self.beyond_floor,
            "note": self.note,
        }


_INTERVAL = re.compile(r"^\s*(?P<low>\d+(?:\.\d+)?)-(?P<high>\d+(?:\.\d+)?|inf)x")


def interval_of(text: object) -> tuple[float, float] | None:
    """The (low, high) of a gain interval cell (`0.950-1.120x; ...`; `inf` as a high), if any."""
    match = _INTERVAL.match(str(text or ""))
    if match is None:
        return None
    return float(match["low"]), float(match["high"])


def tone(low: float | None, high: float | None) -> str | None:
    """`better` only when the whole interval is above 1, `worse` only when it is all below 1;
    None otherwise (a gain whose interval holds 1 is not evidence either way)."""
    if low is not None and low > 1:
        return "better"
    if high is not None and high < 1:
        return "worse"
    return None


def compute_for_loss(
    params: dict[str, float], form: str, loss: float, tokens_per_param: float | None = None
) -> float | None:
    """The compute at which the law reaches `loss`; None when `loss` is at or below its floor
    (within a relative `FLOOR_RTOL` of E, see `law.beyond_floor`: a fitted E can land a hair
    below a true floor)."""
    from sheetsync.science.law import predicted_compute

    return predicted_compute(params, form, loss, tokens_per_param or 20.0)


@dataclass(frozen=True)
class Bootstrap:
    """Parameter sets of fits on resampled ladders: computed once per fit, reused per run."""

    form: str
    params: dict[str, np.ndarray]
    tokens_per_param: float | None


def bootstrap(fit: Fit, resamples: int = RESAMPLES, seed: int = 0) -> Bootstrap:
    """Refit on `resamples` ladders resampled with replacement (multinomial weights on the
    ladder's runs, seeded), all in one batch warm-started from the fit (with its floor, when
    pinned); resamples whose runs sit at fewer than 3 sizes cannot identify a law and are
    dropped."""
    from sheetsync.science.fitting import fit_many
    from sheetsync.science.law import bootstrap_weights
    from sheetsync.science.scaling import ladder_sizes

    ladder = fit.ladder
    if ladder is None:
        raise FitError("this fit does not carry its ladder, so it cannot be bootstrapped")
    weights = bootstrap_weights(len(ladder), resamples, seed, sizes=ladder.compute)
    sizes = ladder_sizes(ladder, fit.form)
    params = fit_many(sizes, ladder.loss, weights, fit.form, fit.params, floor=fit.floor)
    ok = np.isfinite(params["E"])
    return Bootstrap(fit.form, {k: v[ok] for k, v in params.items()}, fit.tokens_per_param)


def _gains(boot: Bootstrap, compute: float, loss: float | np.ndarray) -> np.ndarray:
    """Each draw's gain; `loss` one for all draws, or one per draw."""
    from sheetsync.science.law import predicted_compute_many

    ratio = boot.tokens_per_param or 20.0
    return predicted_compute_many(boot.params, boot.form, loss, ratio) / compute


def gain(fit: Fit, compute: float, loss: float, boot: Bootstrap | None = None) -> Gain:
    """The run's gain against `fit`, its 90% interval (with `boot`), and extrapolation.

    The interval: each bootstrap draw of the law at the run's loss moved by one draw of a run's
    scatter (`scatter_offsets`). The law's draws alone would say how well the law is known, not
    how well one run measures the method: a 1.02x run would read as above 1 while a seed moves
    its gain by a few percent."""
    if compute <= 0 or not math.isfinite(compute) or not math.isfinite(loss):
        return Gain(None, None, None, None, False, "no compute or loss")
    extrapolation = None
    if compute > fit.compute_max:
        extrapolation = compute / fit.compute_max
    elif compute < fit.compute_min:
        extrapolation = fit.compute_min / compute
    where = ""
    if extrapolation is not None:
        side = "above" if compute > fit.compute_max else "below"
        where = f"extrapolating {extrapolation:.1f}x {side} the ladder"
    predicted = compute_for_loss(fit.params, fit.form, loss, fit.tokens_per_param)
    if predicted is None:
        note = f"beyond the fit's floor (loss {loss:.4f} <= E = {fit.params['E']:.4f})"
        return Gain(None, None, None, extrapolation, True, "; ".join(filter(None, [note, where])))
    if predicted > REACH * fit.compute_max:
        note = (
            f"beyond the fit's reach (the law needs {predicted:.2g} FLOPs, more than "
            f"{REACH:.0e}x the ladder's largest)"
        )
        return Gain(None, None, None, extrapolation, False, "; ".join(filter(None, [note, where])))
    value = predicted / compute
    low = high = None
    draws = _draws(boot)
    if boot is not None and draws:
        moved = loss * np.exp(scatter_offsets(fit, draws)[0])
        low, high = _interval(_gains(boot, compute, moved))
        if low is not None and high is None:
            note = "upper bound beyond the floor in resamples"
            where = "; ".join(filter(None, [where, note]))
    return Gain(value, low, high, extrapolation, False, where)


def _interval(samples: np.ndarray) -> tuple[float | None, float | None]:
    """The central LEVEL interval of the resampled gains (NaN draws left out): (None, None)
    without any, and an upper bound that is not finite as None."""
    samples = samples[~np.isnan(samples)]
    if not samples.size:
        return None, None
    tail = (1 - LEVEL) / 2
    low = float(np.quantile(samples, tail))
    high = float(np.quantile(samples, 1 - tail))
    return low, high if math.isfinite(high) else None


def _draws(boot: Bootstrap | None) -> int:
    """How many draws of the law the bootstrap holds (0 without one)."""
    return len(next(iter(boot.params.values()))) if boot is not None else 0


def scatter_offsets(fit: Fit, draws: int, runs: int = 1) -> np.ndarray:
    """(runs, draws) offsets in log loss, each row one run's scatter about the law, seeded: the
    same draws at every call, independent rows for independent runs (row 0 the run's own, row 1
    the baseline run's in an anchored gain). t-distributed with the ladder's degrees of freedom
    and scale `run_scatter(fit)`: the scatter is estimated from a handful of rungs, and a
    normal draw would take that estimate for the truth (on a 7-rung ladder, 88% coverage at
    its smallest budget instead of 90%)."""
    rng = np.random.default_rng(SCATTER_SEED)
    dof = _dof(fit)
    if dof <= 0:
        return np.zeros((runs, draws))
    return run_scatter(fit) * rng.standard_t(dof, (runs, draws))


def gain_draws(boot: Bootstrap, compute: Sequence[float], loss: Sequence[float]) -> np.ndarray:
    """Every point's gain under every bootstrap draw of the law, (R, n): one row gives all the
    gains of a method at once, as one refit of the ladder would (their errors are correlated).
    inf where a loss is beyond a draw's floor, NaN where a draw failed.

    The law's uncertainty only, not the runs' scatter (unlike `gain`'s interval): the trend
    counts the scatter from the method's own residuals about its line (`science.trend`), so
    moving each loss here as well would count it twice."""
    cols = [_gains(boot, c, lo) for c, lo in zip(compute, loss, strict=True)]
    rows = len(next(iter(boot.params.values())))
    return np.stack(cols, axis=1) if cols else np.empty((rows, 0))


def _dof(fit: Fit) -> int:
    """The ladder's degrees of freedom: its runs less the law's fitted parameters."""
    return fit.n_runs - (len(fit.params) - (1 if fit.floor is not None else 0))


def run_scatter(fit: Fit) -> float:
    """How far one run's loss lies from the law, in log loss: the ladder's residual RMS over
    its degrees of freedom (its runs less the law's fitted parameters); 0 with none left."""
    dof = _dof(fit)
    if dof <= 0 or not math.isfinite(fit.residual_rms):
        return 0.0
    return fit.residual_rms * math.sqrt(fit.n_runs / dof)


def anchored_gain(
    fit: Fit,
    compute: float,
    loss: float,
    base_compute: float,
    base_loss: float,
    boot: Bootstrap | None = None,
) -> Gain:
    """The gain anchored to the baseline's own run at (nearly) the same budget:
    C_pred(L_run) / C_pred(L_base) at equal compute, in general the run's gain over the
    baseline run's, so the law's residual at that budget is not booked as the method's gain.

    The interval: each bootstrap draw's ratio, with the run's loss and the baseline run's
    each moved by an independent draw of a run's scatter about the law (`scatter_offsets`).
    Two runs stand for the method and the baseline at that budget, and the law's draws nearly
    cancel in a ratio: without their scatter the interval would claim a precision no pair of
    single runs has."""
    mine = gain(fit, compute, loss)
    theirs = gain(fit, base_compute, base_loss)
    if mine.gain is None:
        return mine
    if theirs.gain is None:
        note = f"the baseline's run: {theirs.note}"
        return Gain(None, None, None, mine.extrapolation, theirs.beyond_floor, note)
    value = mine.gain / theirs.gain
    low = high = None
    note = mine.note
    draws = _draws(boot)
    if boot is not None and draws:
        run, base = np.exp(scatter_offsets(fit, draws, runs=2))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = _gains(boot, compute, loss * run) / _gains(boot, base_compute, base_loss * base)
        low, high = _interval(ratio)
        if low is not None and (not math.isfinite(low) or low <= 0):
            low = 0.0
    return Gain(value, low, high, mine.extrapolation, False, note)
