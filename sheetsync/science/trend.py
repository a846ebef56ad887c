"""Does a method scale: the slope of log(gain) against log(compute), its 90% interval, and a
verdict that never says more than that interval.

The interval counts two kinds of uncertainty. Each gain is uncertain because the baseline's
law is: every bootstrap draw of the law gives every gain of the method at once (the gains
share the law, so their errors are correlated), and one slope per draw. And the method's runs
scatter about a line (seeds, data order): the residuals give the slope a t-distributed error
with n - 2 degrees of freedom. A draw of the slope is one bootstrap slope plus one draw of
that error; the interval is the 5th to 95th percentile of the draws. Pure numpy, seeded.

The draws of the law must not also move each run's loss by a run's scatter (as a gain's own
interval does, `science.gain.gain`): the residuals already hold that scatter, and the t term
counts it; moving the losses too would count it twice. The above-1 flag, on the other hand,
reads each gain's own interval, scatter included (`intervals`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.90
# A gain that changes by less than 2% per 10x of compute reads as stable.
STABLE_SLOPE = math.log(1.02) / math.log(10)
BUDGET_TOLERANCE = 0.10  # runs within 10% of each other's compute share a budget
MIN_BUDGETS = 3
DRAWS = 4000  # scatter-only draws, when no bootstrap of the law is at hand

RISING, FALLING, STABLE = "rising", "falling", "stable"
INCONCLUSIVE, TOO_FEW = "inconclusive", "too few budgets"
VERDICTS = (RISING, FALLING, STABLE, INCONCLUSIVE, TOO_FEW)
ABOVE_ONE = "above 1 at every budget"


@dataclass(frozen=True)
class Projection:
    """The method's gain projected to a target compute, with its 90% interval (None: open)."""

    compute: float
    gain: float
    low: float | None
    high: float | None

    def text(self) -> str:
        """`projected at 1e23: 1.05x [0.98-1.12]`."""
        low = f"{self.low:.2f}" if self.low is not None else "0"
        high = f"{self.high:.2f}" if self.high is not None else "inf"
        return f"projected at {_budget(self.compute)}: {self.gain:.2f}x [{low}-{high}]"

    def to_dict(self) -> dict[str, float | None]:
        return {"compute": self.compute, "gain": self.gain, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Trend:
    """A method's does-it-scale answer. `slope` is None below two budgets; `low`/`high` are
    None below three (no interval, so no verdict but `too few budgets`)."""

    slope: float | None
    low: float | None
    high: float | None
    verdict: str  # one of VERDICTS
    budgets: int = 0  # distinct compute budgets among the points
    above_one: bool = False  # every gain's interval lies above 1
    projection: Projection | None = None

    @property
    def flag(self) -> str:
        """`above 1 at every budget`, or nothing."""
        return ABOVE_ONE if self.above_one else ""

    def slope_text(self) -> str:
        """`+0.017 [-0.002, +0.035]`, the slope alone without an interval, or nothing."""
        if self.slope is None:
            return ""
        if self.low is None or self.high is None:
            return f"{self.slope:+.3f}"
        return f"{self.slope:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"  # inf: +inf, -inf

    def to_dict(self) -> dict[str, object]:
        return {
            "slope": self.slope,
            "low": self.low,
            "high": self.high,
            "verdict": self.verdict,
            "budgets": self.budgets,
            "above_one": self.above_one,
            "projection": self.projection.to_dict() if self.projection else None,
        }


def _budget(compute: float) -> str:
    """1e23, 3e22, 2.5e21: the shortest exact-looking form of a target budget."""
    text = f"{compute:.1e}".replace(".0e", "e").replace("e+", "e")
    return text


def budgets(compute: Sequence[float]) -> int:
    """Distinct budgets: sorted computes, a new budget wherever one is over 10% above the last."""
    values = sorted(c for c in compute if c > 0 and math.isfinite(c))
    count, last = 0, None
    for c in values:
        if last is None or c > last * (1 + BUDGET_TOLERANCE):
            count += 1
            last = c
    return count


def verdict_of(low: float, high: float) -> str:
    """stable: the interval inside the band (the gain changes under 2% per 10x), checked first,
    so a slope known to be tiny reads as stable; rising / falling: above / below zero."""
    if low > -STABLE_SLOPE and high < STABLE_SLOPE:
        return STABLE
    if low > 0:
        return RISING
    if high < 0:
        return FALLING
    return INCONCLUSIVE


def _quantiles(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` interval of draws; NaN draws (a fit that failed) are left out."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return -math.inf, math.inf
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _log_draws(draws: np.ndarray) -> np.ndarray:
    """log gains of draws; an infinite gain (a loss beyond a resample's floor) counts as huge,
    so it pulls the slope and the projection where it would, and a NaN row stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.clip(draws, 1e-300, 1e300))


def trend(
    compute: Sequence[float],
    gain: Sequence[float],
    draws: np.ndarray | None = None,
    intervals: Sequence[tuple[float, float] | None] | None = None,
    target: float | None = None,
    level: float = LEVEL,
    seed: int = 0,
) -> Trend:
    """The slope of log gain on log compute with its `level` interval, and a verdict.

    `draws` (R, n): the gains of every bootstrap draw of the baseline's law, one column per
    point (see `gain.gain_draws`: the law's uncertainty, not the runs' scatter, which the
    residuals give); without them only the scatter is counted. `intervals`: each gain's (low,
    high) with the run's own scatter (`gain.gain`), for the above-1 flag (default: from
    `draws`, which then say only how well the law is known). `target`: a compute to project
    the gain to (needs 3 budgets)."""
    c = np.asarray(compute, dtype=float)
    g = np.asarray(gain, dtype=float)
    if c.shape != g.shape:
        raise ValueError("one gain per compute")
    keep = np.isfinite(c) & np.isfinite(g) & (c > 0) & (g > 0)
    if draws is not None:
        draws = np.atleast_2d(np.asarray(draws, dtype=float))
        if draws.shape[1] != c.size:
            raise ValueError("draws need one column per point")
        draws = draws[:, keep]
    if intervals is not None:
        intervals = [iv for iv, k in zip(intervals, keep, strict=True) if k]
    c, g = c[keep], g[keep]
    above = _above_one(g, draws, intervals, level)
    n_budgets = budgets(c.tolist())
    x, y = np.log(c), np.log(g)
    if n_budgets < 2:
        return Trend(None, None, None, TOO_FEW, n_budgets, above)
    mx = x.mean()
    xc = x - mx
    sxx = float((xc**2).sum())
    slope = float((xc * (y - y.mean())).sum() / sxx)
    if n_budgets < MIN_BUDGETS:
        return Trend(slope, None, None, TOO_FEW, n_budgets, above)
    n = x.size  # at least 3: one point per budget
    resid = y - (y.mean() + slope * xc)
    s = math.sqrt(float((resid**2).sum()) / (n - 2))
    rng = np.random.default_rng(seed)
    if draws is not None and draws.shape[0]:
        ly = _log_draws(draws)
        slopes = (ly - ly.mean(axis=1, keepdims=True)) @ xc / sxx
        intercepts = ly.mean(axis=1)
        # the draws' spread about the fit's own answer: a small ladder's bootstrap is biased
        # (its median slope is not the fit's), and an interval that misses its own point
        # estimate would read as a contradiction
        slopes = slope + slopes - np.nanmedian(slopes)
        intercepts = float(y.mean()) + intercepts - np.nanmedian(intercepts)
    else:
        slopes = np.full(DRAWS, slope)
        intercepts = np.full(DRAWS, float(y.mean()))
    t_slope, t_level = rng.standard_t(n - 2, (2, slopes.size))
    combined = slopes + s / math.sqrt(sxx) * t_slope
    low, high = _quantiles(combined, level)
    projection = None
    if target is not None and target > 0 and math.isfinite(target):
        x0 = math.log(target) - mx
        point = float(y.mean() + slope * x0)
        at = intercepts + slopes * x0 + s * (t_level / math.sqrt(n) + x0 * t_slope / math.sqrt(sxx))
        plow, phigh = _quantiles(at, level)
        projection = Projection(
            float(target),
            math.exp(point),
            math.exp(plow) if plow > -700 else None,
            math.exp(phigh) if phigh < 700 else None,
        )
    return Trend(slope, low, high, verdict_of(low, high), n_budgets, above, projection)


def draws_from_intervals(
    gain: Sequence[float],
    intervals: Sequence[tuple[float, float] | None],
    level: float = LEVEL,
    draws: int = DRAWS,
    seed: int = 1,
) -> np.ndarray | None:
    """Gain draws (R, n) from each gain's own interval, read as log-normal and independent:
    for gains read back from a sheet without their fit's bootstrap. Independent errors make
    the slope's interval wider than the joint draws would (the shared law's error cancels in
    a slope), and a cell's interval holds its run's scatter, which the trend's t term counts
    again: wider still, never narrower. None unless every gain has a finite interval."""
    from statistics import NormalDist

    if not intervals or any(iv is None or not (0 < iv[0] <= iv[1] < math.inf) for iv in intervals):
        return None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    g = np.log(np.asarray(gain, dtype=float))
    lo = np.log([iv[0] for iv in intervals])  # type: ignore[index]
    hi = np.log([iv[1] for iv in intervals])  # type: ignore[index]
    sd = (hi - lo) / (2 * z)
    rng = np.random.default_rng(seed)
    return np.exp(g + sd * rng.standard_normal((draws, g.size)))


def _above_one(
    g: np.ndarray,
    draws: np.ndarray | None,
    intervals: Sequence[tuple[float, float] | None] | None,
    level: float,
) -> bool:
    """Every gain's interval lies above 1 (and there is at least one gain)."""
    if g.size == 0:
        return False
    if intervals is not None:
        return all(iv is not None and iv[0] > 1 for iv in intervals)
    if draws is None or not draws.shape[0]:
        return False
    return all(_quantiles(draws[:, j], level)[0] > 1 for j in range(g.size))
