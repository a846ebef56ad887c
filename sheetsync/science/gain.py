"""Compute-efficiency gain of a run against a fit, with a bootstrap interval.

gain = C_predicted / C_observed, where C_predicted is the compute the fitted baseline law
needs to reach the run's loss. A gain above 1 means the run reached its loss with less compute.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from sheetsync.science.scaling import Fit, theta_of

RESAMPLES = 1000
LEVEL = 0.90
FLOOR_TOLERANCE = 1e-6  # a loss within this relative distance of E is at the floor
REACH = 1e4  # a predicted compute beyond this many times the ladder's largest is no answer


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
    (within a relative `FLOOR_TOLERANCE` of E: a fitted E can land a hair below a true floor)."""
    excess = loss - params["E"]
    if excess <= FLOOR_TOLERANCE * abs(params["E"]):
        return None
    if form == "compute":
        return (params["A"] / excess) ** (1.0 / params["alpha"])
    r = tokens_per_param or 20.0

    def gap(log_n: float) -> float:
        n = math.exp(log_n)
        return (
            params["A"] * n ** -params["alpha"] + params["B"] * (r * n) ** -params["beta"] - excess
        )

    lo, hi = math.log(1e3), math.log(1e16)
    if gap(hi) > 0:
        return None
    if gap(lo) < 0:
        lo = math.log(1.0)
    n = math.exp(brentq(gap, lo, hi, xtol=1e-12))
    return 6.0 * n * r * n


@dataclass(frozen=True)
class Bootstrap:
    """Parameter sets of fits on resampled ladders: computed once per fit, reused per run."""

    form: str
    params: dict[str, np.ndarray]
    tokens_per_param: float | None


def bootstrap(fit: Fit, resamples: int = RESAMPLES, seed: int = 0) -> Bootstrap:
    """Refit on `resamples` ladders resampled with replacement (multinomial weights on the
    ladder's runs), each a single L-BFGS-B run warm-started from the main fit."""
    from scipy.optimize import minimize

    from sheetsync.errors import FitError
    from sheetsync.science.scaling import _objective

    ladder = fit.ladder
    if ladder is None:
        raise FitError("this fit does not carry its ladder, so it cannot be bootstrapped")
    rng = np.random.default_rng(seed)
    n = len(ladder)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    sizes = np.asarray(ladder.compute)
    # a resample with fewer than 3 distinct sizes cannot identify the law: drop it
    weights = weights[[len(set(sizes[w > 0])) >= 3 for w in weights]]
    if fit.form == "compute":
        logs = np.log(sizes)[None, :]
    else:
        logs = np.log(np.vstack([ladder.params, ladder.tokens]))
    log_l = np.log(np.asarray(ladder.loss))
    k = logs.shape[0]
    start = theta_of(fit)
    bounds = [(None, None)] * (1 + k) + [(1e-4, 5.0)] * k
    thetas = np.empty((len(weights), 1 + 2 * k))
    for i, w in enumerate(weights):
        res = minimize(
            _objective,
            start,
            args=(logs, log_l, w),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-10},
        )
        thetas[i] = res.x
    params = {"E": np.exp(thetas[:, 0]), "A": np.exp(thetas[:, 1]), "alpha": thetas[:, 1 + k]}
    if fit.form == "parametric":
        params |= {"B": np.exp(thetas[:, 2]), "beta": thetas[:, 2 + k]}
    return Bootstrap(fit.form, params, fit.tokens_per_param)


def _gains(boot: Bootstrap, compute: float, loss: float) -> np.ndarray:
    p = boot.params
    if boot.form == "compute":
        excess = loss - p["E"]
        above = excess > FLOOR_TOLERANCE * np.abs(p["E"])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            safe = np.where(above, excess, 1.0)
            pred = np.where(above, (p["A"] / safe) ** (1 / p["alpha"]), np.inf)
        return pred / compute
    out = []
    for i in range(len(p["E"])):
        one = {k: float(v[i]) for k, v in p.items()}
        c = compute_for_loss(one, "parametric", loss, boot.tokens_per_param)
        out.append(np.inf if c is None else c / compute)
    return np.array(out)


def gain(fit: Fit, compute: float, loss: float, boot: Bootstrap | None = None) -> Gain:
    """The run's gain against `fit`, its 90% interval (with `boot`), and extrapolation."""
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
    if boot is not None and len(next(iter(boot.params.values()))):
        g = _gains(boot, compute, loss)
        tail = (1 - LEVEL) / 2
        low = float(np.quantile(g, tail))
        high = float(np.quantile(g, 1 - tail))
        if not math.isfinite(high):
            high = None
            where = "; ".join(filter(None, [where, "upper bound beyond the floor in resamples"]))
    return Gain(value, low, high, extrapolation, False, where)
