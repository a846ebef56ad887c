"""Does a method scale: the slope of log(gain) against log(compute), with its interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# A gain that changes by less than 2% per 10x of compute reads as stable.
STABLE_SLOPE = math.log(1.02) / math.log(10)


@dataclass(frozen=True)
class Trend:
    slope: float | None
    low: float | None
    high: float | None
    verdict: str  # rising | stable | falling | too few points


def trend(compute: Sequence[float], gain: Sequence[float], level: float = 0.90) -> Trend:
    """Least-squares slope of log gain on log compute; 90% t-interval; a verdict.

    rising: the interval lies above zero; falling: it lies below zero, or the slope is clearly
    negative (the method loses its advantage with scale); otherwise stable.
    """
    from scipy import stats

    pts = [
        (math.log(c), math.log(g)) for c, g in zip(compute, gain, strict=True) if c > 0 and g > 0
    ]
    if len({x for x, _ in pts}) < 2:
        return Trend(None, None, None, "too few points")
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx
    if n > 2:
        resid = [y - (my + slope * (x - mx)) for x, y in pts]
        se = math.sqrt(sum(r * r for r in resid) / (n - 2) / sxx)
        half = stats.t.ppf(0.5 + level / 2, n - 2) * se
    else:
        half = math.inf
    low, high = slope - half, slope + half
    if low > 0:
        verdict = "rising"
    elif high < 0 or slope < -STABLE_SLOPE:
        verdict = "falling"
    elif slope > STABLE_SLOPE:
        verdict = "rising"
    else:
        verdict = "stable"
    return Trend(slope, low, high, verdict)
