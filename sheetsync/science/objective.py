"""The fits' objective and inputs: the Huber loss (delta 1e-3) of log-space residuals of a
weighted ladder, with its gradient and Gauss-Newton Hessian, and the checks on a ladder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sheetsync.errors import FitError

HUBER_DELTA = 1e-3
FLOOR_RTOL = 1e-6
EXPONENT_BOUNDS = (1e-4, 5.0)
FORMS = ("compute", "parametric")

ArrayLike = Sequence[float] | np.ndarray


def _names(form: str) -> tuple[str, ...]:
    return ("E", "A", "alpha") if form == "compute" else ("E", "A", "B", "alpha", "beta")


def _sizes(x: ArrayLike | Sequence[ArrayLike], form: str) -> np.ndarray:
    """Compute (1, n) for the compute form, (params, tokens) (2, n) for the parametric form."""
    if form not in FORMS:
        raise FitError(f"unknown form {form!r}: use compute or parametric")
    try:
        sizes = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise FitError(f"the {form} form needs numeric sizes") from None
    k = 1 if form == "compute" else 2
    if sizes.ndim < 2:  # one compute per run, or one (params, tokens) pair
        sizes = sizes.reshape(1, -1) if k == 1 else sizes.reshape(-1, 1)
    if sizes.ndim != 2 or sizes.shape[0] != k:
        what = "one compute per run" if k == 1 else "params and tokens for every run"
        raise FitError(f"the {form} form needs {what}")
    return sizes


def _check(
    x: ArrayLike | Sequence[ArrayLike], loss: ArrayLike, form: str
) -> tuple[np.ndarray, ...]:
    """The ladder's log sizes (k, n) and log losses (n,), refusing what cannot support the form."""
    sizes = _sizes(x, form)
    loss_arr = np.asarray(loss, dtype=float).ravel()
    if sizes.shape[1] != loss_arr.size:
        raise FitError(f"{sizes.shape[1]} sizes for {loss_arr.size} losses")
    need = 4 if form == "compute" else 6
    if loss_arr.size < need:
        raise FitError(
            f"the {form} form needs at least {need} finished ladder runs, "
            f"the ladder has {loss_arr.size}"
        )
    if not (np.isfinite(sizes).all() and np.isfinite(loss_arr).all()):
        raise FitError("the ladder has a non-finite or non-positive compute or loss")
    if (sizes <= 0).any() or (loss_arr <= 0).any():
        raise FitError("the ladder has a non-finite or non-positive compute or loss")
    if np.unique(sizes.prod(axis=0)).size < 3:
        raise FitError("the ladder's runs are all at one or two sizes; a law needs a range")
    logs = np.log(sizes)
    if form == "parametric":
        if min(np.unique(sizes[0]).size, np.unique(sizes[1]).size) < 3:
            raise FitError("the parametric form needs ladder runs that vary N and D separately")
        slope, intercept = np.polyfit(logs[0], logs[1], 1)
        if np.std(logs[1] - (slope * logs[0] + intercept)) < 0.05:
            raise FitError(
                "the parametric form needs ladder runs that vary N and D separately; in this "
                "ladder D is a fixed function of N, so use the compute form"
            )
    return logs, np.log(loss_arr)


def _weight_rows(weights: ArrayLike | None, n: int) -> np.ndarray:
    """Weights as rows (R, n): None is one row of ones, a vector one row."""
    w = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    if w.ndim != 2 or w.shape[1] != n:
        raise FitError(f"weights need one column per run ({n}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise FitError("weights must be finite and nonnegative")
    return w


def _distinct(sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per row of `w`, how many distinct `sizes` carry a positive weight."""
    _, codes = np.unique(sizes, return_inverse=True)
    onehot = np.zeros((sizes.size, codes.max() + 1))
    onehot[np.arange(sizes.size), codes] = 1.0
    return ((w > 0) @ onehot > 0).sum(axis=1)


def _huber(r: np.ndarray) -> np.ndarray:
    """Huber's loss: r^2 / 2 within delta, linear beyond (written as m (|r| - m / 2))."""
    a = np.abs(r)
    m = np.minimum(a, HUBER_DELTA)
    return m * (a - 0.5 * m)


# The optimiser's coordinates per row: theta = (E, a_1..a_k, alpha_1..alpha_k) with
# a_i = log A_i - alpha_i * centre_i, where the logs are centred on the ladder's mean: this
# decorrelates a_i from alpha_i (log C spans 41..46, not 0..5) and keeps the normal equations
# well conditioned. E stays linear with a bound at 0 (a resample's optimum often lies there,
# which log E would reach only as it crept towards minus infinity).


def _bounds(k: int, floor: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates' bounds; a pinned `floor` is E's lower and upper bound at once (the
    optimiser holds a coordinate on a bound it is pushed against, so E never moves)."""
    lo, hi = EXPONENT_BOUNDS
    e_low, e_high = (0.0, np.inf) if floor is None else (floor, floor)
    return (
        np.array([e_low] + [-np.inf] * k + [lo] * k),
        np.array([e_high] + [np.inf] * k + [hi] * k),
    )


def check_floor(floor: float | None, loss: np.ndarray) -> None:
    """A pinned floor is a finite E >= 0 below every ladder loss."""
    if floor is None:
        return
    if not (np.isfinite(floor) and floor >= 0):
        raise FitError(f"--floor must be a finite loss >= 0, not {floor}")
    if floor >= float(np.min(loss)):
        raise FitError(
            f"--floor {floor:g} is not below every ladder loss (the smallest is "
            f"{float(np.min(loss)):.4f}); the law's floor lies below the losses it fits"
        )


def _evaluate(
    theta: np.ndarray, xc: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective (B,), residuals (B, n), and Jacobian of the log prediction (B, P, n)."""
    k = xc.shape[0]
    # plain exp is safe: the centred logs keep the terms far from overflow, and an overflowing
    # candidate scores inf and is rejected like any other worse step
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.exp(theta[:, 1 : 1 + k, None] - theta[:, 1 + k :, None] * xc)
        total = z.sum(axis=1) + theta[:, :1]
        r = np.log(total) - y
        f = (w * _huber(r)).sum(axis=1)
        inv = 1.0 / total
        share = z * inv[:, None, :]
    return f, r, np.concatenate([inv[:, None, :], share, -share * xc], axis=1)
