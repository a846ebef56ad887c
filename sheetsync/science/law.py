"""What a fitted law says: losses at given sizes, residuals, leave-one-out predictions, and
the compute it needs to reach a loss (the floor rule of issue 11 included). Pure numpy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sheetsync.errors import FitError
from sheetsync.science.fitting import _fit_rows, fit
from sheetsync.science.objective import (
    FLOOR_RTOL,
    ArrayLike,
    _check,
    _distinct,
    _huber,
    _names,
    _sizes,
)


@dataclass(frozen=True)
class LeaveOneOut:
    """Each rung's loss as predicted by the law refitted without it (NaN where that refit would
    be refused), against the observed loss; `largest` is the index of the largest-compute rung."""

    predicted: np.ndarray
    observed: np.ndarray
    error: np.ndarray  # predicted / observed - 1
    largest: int
    params: dict[str, np.ndarray]  # the refits, one per held-out rung


def predict(
    params: Mapping[str, float | np.ndarray], x: ArrayLike | Sequence[ArrayLike], form: str
) -> np.ndarray:
    """The law's loss at each size: (n,) for scalar parameters, (R, n) for arrays of R fits."""
    sizes = _sizes(x, form)
    p = {k: np.asarray(v, dtype=float)[..., None] for k, v in params.items()}
    out = p["E"] + p["A"] * sizes[0] ** -p["alpha"]
    if form == "parametric":
        out = out + p["B"] * sizes[1] ** -p["beta"]
    return out


def residuals(
    params: Mapping[str, float], x: ArrayLike | Sequence[ArrayLike], loss: ArrayLike, form: str
) -> np.ndarray:
    """Each rung's log-space residual log(predicted) - log(observed), as the fits minimise it."""
    return np.log(predict(params, x, form)) - np.log(np.asarray(loss, dtype=float))


def objective(
    params: Mapping[str, float],
    x: ArrayLike | Sequence[ArrayLike],
    loss: ArrayLike,
    form: str,
    weights: ArrayLike | None = None,
) -> float:
    """The weighted Huber loss the fits minimise, to compare two fits of one ladder."""
    value = _huber(residuals(params, x, loss, form))
    w = np.ones_like(value) if weights is None else np.asarray(weights, dtype=float)
    return float((w * value).sum())


def bootstrap_weights(
    n: int, resamples: int = 1000, seed: int = 0, sizes: ArrayLike | None = None
) -> np.ndarray:
    """Multinomial resampling weights (R, n), drawn as the product always has, less the
    resamples whose runs sit at fewer than 3 distinct `sizes` (the runs' compute; by default
    every run its own size), which cannot identify a law."""
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)
    s = np.arange(n, dtype=float) if sizes is None else np.asarray(sizes, dtype=float)
    if s.shape != (n,):
        raise FitError(f"sizes must have one value per run ({n})")
    return w[_distinct(s, w) >= 3]


def leave_one_out(
    x: ArrayLike | Sequence[ArrayLike],
    loss: ArrayLike,
    form: str = "compute",
    start: Mapping[str, float] | None = None,
    compute: ArrayLike | None = None,
    floor: float | None = None,
) -> LeaveOneOut:
    """Refit without each rung in turn (one batch; each refit from its own grid and from the
    ladder's fit `start`, computed when not given) and predict the held-out rung. The largest
    rung is the one of largest `compute` (default: the product of the sizes)."""
    logs, y = _check(x, loss, form)
    n = y.size
    if n - 1 < (4 if form == "compute" else 6):  # a refit the product would refuse
        params = {k: np.full(n, np.nan) for k in _names(form)}
    else:
        start = fit(x, loss, form, floor=floor) if start is None else start
        params = _fit_rows(logs, y, 1.0 - np.eye(n), form, start, grid=True, floor=floor)
    sizes = np.exp(logs)
    predicted = np.diagonal(predict(params, sizes, form)).copy()
    observed = np.exp(y)
    size = sizes.prod(axis=0) if compute is None else np.asarray(compute, dtype=float)
    if size.shape != (n,):
        raise FitError(f"compute must have one value per run ({n})")
    return LeaveOneOut(
        predicted, observed, predicted / observed - 1.0, int(np.argmax(size)), params
    )


def tokens_per_param(params: ArrayLike, tokens: ArrayLike) -> float:
    """The ladder's typical D/N (geometric median), the ratio a parametric law is read along."""
    return float(np.exp(np.median(np.log(np.asarray(tokens) / np.asarray(params)))))


def _compute_for_loss(
    p: Mapping[str, np.ndarray], form: str, loss: float | np.ndarray, ratio: float | None
) -> np.ndarray:
    e = np.asarray(p["E"], dtype=float)
    beyond = beyond_floor(e, loss)  # NaN fits land here too, and are restored below
    ex = np.where(beyond, 1.0, loss - e)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if form == "compute":
            out = np.exp(np.log(p["A"] / ex) / p["alpha"])
        else:
            if ratio is None or not ratio > 0:
                raise FitError("the parametric form needs the ladder's tokens per parameter")
            out = _parametric_compute(p, ex, ratio)
    out = np.where(beyond, np.inf, out)
    return np.where(np.isnan(e), np.nan, out)


def _parametric_compute(
    p: Mapping[str, np.ndarray], excess: np.ndarray, ratio: float
) -> np.ndarray:
    """Compute 6 r N^2 where A N^-alpha + B (r N)^-beta = excess, solved for u = log N.

    g(u) = log(A e^(-alpha u) + B r^-beta e^(-beta u)) - log(excess) is convex and decreasing,
    so Newton from the larger single-term root (which lies left of the root, g >= 0 there)
    increases monotonically to the root without overshooting."""
    a = np.log(p["A"])
    b = np.log(p["B"]) - p["beta"] * math.log(ratio)
    al, be = np.asarray(p["alpha"], dtype=float), np.asarray(p["beta"], dtype=float)
    target = np.log(excess)
    u = np.maximum((a - target) / al, (b - target) / be)
    for _ in range(100):
        t1, t2 = a - al * u, b - be * u
        g = np.logaddexp(t1, t2) - target
        s = 1.0 / (1.0 + np.exp(t2 - t1))
        step = g / (al * s + be * (1.0 - s))
        u = u + step
        if not (np.abs(step) > 1e-13 * np.maximum(1.0, np.abs(u))).any():
            break
    return 6.0 * ratio * np.exp(2.0 * u)


def beyond_floor(e: float | np.ndarray, loss: float | np.ndarray) -> bool | np.ndarray:
    """Whether `loss` is at or below the law's floor E, counting a loss within a relative 1e-6
    of E as at it (a fitted E of 1.6999999997 is the floor 1.70)."""
    return (
        ~(loss - np.asarray(e) > FLOOR_RTOL * np.asarray(e))
        if np.ndim(e)
        else not (loss - e > FLOOR_RTOL * e)
    )


def predicted_compute(
    params: Mapping[str, float], form: str, loss: float, tokens_per_param: float | None = None
) -> float | None:
    """The compute at which the law reaches `loss` (parametric: along D = tokens_per_param * N);
    None when `loss` is beyond the floor."""
    if beyond_floor(params["E"], loss):
        return None
    return float(_compute_for_loss(params, form, loss, tokens_per_param))


def predicted_compute_many(
    params: Mapping[str, np.ndarray],
    form: str,
    loss: float | np.ndarray,
    tokens_per_param: float | None = None,
) -> np.ndarray:
    """predicted_compute for arrays of R fits (R,), at one loss or one loss per fit: inf where
    beyond the floor, NaN where a fit is NaN."""
    return _compute_for_loss(params, form, loss, tokens_per_param)
