"""Scaling-law fits in milliseconds, and every bootstrap resample of a ladder in one batch.

compute form     L(C)    = E + A * C^-alpha
parametric form  L(N, D) = E + A / N^alpha + B / D^beta     (Hoffmann et al. 2022, approach 3)

Both minimise a Huber loss (delta 1e-3) of log-space residuals log(pred) - log(L), each run
weighted (a bootstrap resample is a row of multinomial weights), with E >= 0, A and B positive
and the exponents in [1e-4, 5]. Starts come from a grid of exponents: for fixed exponents the
law is linear in (E, A, B), a nonnegative weighted least-squares problem in relative error,
solved exactly by enumerating its active sets. The best starts of every row are then polished
together by a batched, bound-projected Levenberg-Marquardt on all parameters, so no row calls
an optimiser of its own. Pure numpy; nothing here knows about sheets or files.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from sheetsync.errors import FitError
from sheetsync.science.objective import (
    HUBER_DELTA,
    ArrayLike,
    _bounds,
    _check,
    _distinct,
    _evaluate,
    _names,
    _weight_rows,
    check_floor,
)
from sheetsync.science.starts import _linear_response, _starts

_BLAS: list[object] = []  # threadpoolctl's controller, made once (it scans loaded libraries)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS (OpenBLAS, MKL) to one thread for the block, when threadpoolctl is there."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        yield
        return
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):  # type: ignore[attr-defined]
        yield


def _cholesky_solve(h: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve h x = g for a stack of small SPD matrices (B, P, P); np.linalg.solve is ~4x slower
    on thousands of 3x3 systems. Works on (P, P, B) so every operation is a long vector."""
    a = h.transpose(1, 2, 0).copy()
    x = g.T.copy()
    p = a.shape[0]
    for j in range(p):
        a[j, j] = np.sqrt(np.maximum(a[j, j], 1e-300))  # rounding may leave a pivot at 0
        a[j + 1 :, j] /= a[j, j]
        a[j + 1 :, j + 1 :] -= a[j + 1 :, j][:, None] * a[j + 1 :, j][None, :]
    for i in range(p):
        x[i] = (x[i] - (a[i, :i] * x[:i]).sum(axis=0)) / a[i, i]
    for i in reversed(range(p)):
        x[i] = (x[i] - (a[i + 1 :, i] * x[i + 1 :]).sum(axis=0)) / a[i, i]
    return x.T


def _projected_step(hess: np.ndarray, grad: np.ndarray, held: np.ndarray) -> np.ndarray:
    """The Newton step with the `held` coordinates fixed (their rows and columns removed)."""
    if not held.any():
        return -_cholesky_solve(hess, grad)
    free = ~held
    h = hess * (free[:, :, None] & free[:, None, :])
    diag = np.arange(h.shape[1])
    h[:, diag, diag] += held
    return -_cholesky_solve(h, grad * free)


def _polish(
    theta: np.ndarray,
    xc: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    max_iter: int = 1000,
    floor: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Levenberg-Marquardt on the Huber loss, projected onto the bounds (E >= 0, the
    exponents'); returns each row's parameters and objective.

    Newton matrix: the loss's own curvature, which counts only the residuals inside Huber's
    quadratic zone, so steps become Newton steps once that zone settles. Damping: lambda times
    the iteratively reweighted matrix (curvature psi(r)/r, a majoriser of the loss), which keeps
    the correlations of (E, A, alpha), so a damped step follows the valley of the objective
    rather than the coordinate axes."""
    lower, upper = _bounds(xc.shape[0], floor)
    out_theta, out_f = theta.copy(), np.empty(theta.shape[0])
    ids = np.arange(theta.shape[0])
    th, ww = np.clip(theta, lower, upper), w
    f, r, jac = _evaluate(th, xc, y, ww)
    lam = np.full(ids.size, 0.1)
    diag = np.arange(th.shape[1])
    f_before = f.copy()
    for step_count in range(max_iter):
        a = np.abs(r)
        inside = a <= HUBER_DELTA
        jt = jac.transpose(0, 2, 1)
        grad = np.einsum("bpn,bn->bp", jac, ww * np.clip(r, -HUBER_DELTA, HUBER_DELTA))
        curv = ww * np.where(inside, 1.0, HUBER_DELTA / np.maximum(a, HUBER_DELTA))
        hess = np.matmul(jac * (ww * inside)[:, None, :], jt)
        hess += lam[:, None, None] * np.matmul(jac * curv[:, None, :], jt)
        hess[:, diag, diag] += 1e-12 * hess[:, diag, diag].max(axis=1, keepdims=True) + 1e-300
        # a coordinate within a hair of its bound and pushed outward is put on it (without the
        # hair, E creeps towards 0 in ever smaller steps); one on its bound that the gradient
        # or the step pushes outward is held there, and the other coordinates re-solved
        hair = 1e-9 * (1.0 + np.abs(th))
        low = (th - lower <= hair) & (grad > 0)
        high = (upper - th <= hair) & (grad < 0)
        snap = (low | high) & (th != lower) & (th != upper)
        if snap.any():
            rows = snap.any(axis=1)
            th[rows] = np.where(low, lower, np.where(high, upper, th))[rows]
            f[rows], r[rows], _ = _evaluate(th[rows], xc, y, ww[rows])
        held = low | high
        step = _projected_step(hess, grad, held)
        out = ((th <= lower) & (step < 0)) | ((th >= upper) & (step > 0))
        if (out & ~held).any():
            held |= out
            step = _projected_step(hess, grad, held)
        # stop at the first bound the step meets, exactly on it
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(
                step < 0, (lower - th) / step, np.where(step > 0, (upper - th) / step, np.inf)
            )
        t = np.minimum(1.0, room.min(axis=1))
        new = np.clip(th + t[:, None] * step, lower, upper)
        new = np.where(room <= t[:, None], np.where(step < 0, lower, upper), new)
        fn, rn, jn = _evaluate(new, xc, y, ww)
        ok = fn <= f
        moved = np.abs(new - th).max(axis=1)
        # converged: a lightly damped step is negligible, or an accepted one gains nothing
        done = ((moved <= 1e-9) & (lam <= 1.0)) | (ok & (f - fn <= 1e-12 * f) & (moved <= 1e-6))
        th = np.where(ok[:, None], new, th)
        f, r = np.where(ok, fn, f), np.where(ok[:, None], rn, r)
        jac = np.where(ok[:, None, None], jn, jac)
        lam = np.where(ok, np.maximum(lam / 3, 1e-12), lam * 4)
        done |= lam > 1e12
        if step_count % 20 == 19:  # stalled: under 1e-9 gained over the last 20 steps
            done |= f >= (1 - 1e-9) * f_before
            f_before = f
        if done.any():
            out_theta[ids[done]], out_f[ids[done]] = th[done], f[done]
            keep = ~done
            ids, th, ww, f, r, jac, lam, f_before = (
                v[keep] for v in (ids, th, ww, f, r, jac, lam, f_before)
            )
            if ids.size == 0:
                break
    out_theta[ids], out_f[ids] = th, f
    return out_theta, out_f


def _theta_of(params: Mapping[str, float], centre: np.ndarray, form: str) -> np.ndarray:
    if form == "compute":
        al = np.array([params["alpha"]])
        a = np.array([math.log(params["A"])])
    else:
        al = np.array([params["alpha"], params["beta"]])
        a = np.log([params["A"], params["B"]])
    return np.concatenate([[params["E"]], a - al * centre, al])


def _params_of(theta: np.ndarray, centre: np.ndarray, form: str) -> dict[str, np.ndarray]:
    k = centre.size
    al = theta[:, 1 + k :]
    a = np.exp(theta[:, 1 : 1 + k] + al * centre)
    out = {"E": theta[:, 0].copy(), "A": a[:, 0], "alpha": al[:, 0]}
    if form == "parametric":
        out |= {"B": a[:, 1], "beta": al[:, 1]}
    return out


@one_blas_thread()  # tiny matrices in big batches: more threads only fight over the cores
def _fit_rows(
    logs: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    form: str,
    start: Mapping[str, float] | None,
    grid: bool,
    floor: float | None = None,
) -> dict[str, np.ndarray]:
    """Fit every row of weights `w` (see `fit_many`) from its grid starts and/or from
    `start`, with BLAS held to one thread; NaN for rows whose weighted runs sit at fewer than
    3 sizes. A `floor` pins E."""
    centre = logs.mean(axis=1)
    xc = logs - centre[:, None]
    ok = _distinct(logs.sum(axis=0), w) >= 3
    out = {name: np.full(w.shape[0], np.nan) for name in _names(form)}
    if not ok.any():
        return out
    wk = w[ok]
    starts = []
    if grid:
        starts.append(_starts(xc, y, wk, form, keep=4 if form == "compute" else 6, floor=floor))
    if start is not None:
        t0 = _theta_of(start, centre, form)
        if floor is not None:
            t0[0] = floor
        starts.append(_linear_response(t0, xc, y, wk, floor)[:, None, :])
    both = np.concatenate(starts, axis=1)
    rows, keep, width = both.shape
    wr = np.repeat(wk, keep, axis=0)
    theta, f = _polish(
        both.reshape(-1, width), xc, y, wr, max_iter=15 if keep > 1 else 1000, floor=floor
    )
    if keep > 1:
        # a race: only the starts within 10% of their row's best after 15 steps go on (a start
        # on the wrong side of a long valley would otherwise set the batch's step count)
        f = f.reshape(rows, keep)
        go = (f <= 1.1 * f.min(axis=1, keepdims=True)).ravel()
        theta[go], f.ravel()[go] = _polish(theta[go], xc, y, wr[go], floor=floor)
        f[~go.reshape(rows, keep)] = np.inf
    best = f.reshape(rows, keep).argmin(axis=1)
    theta = theta.reshape(rows, keep, width)[np.arange(rows), best]
    for name, values in _params_of(theta, centre, form).items():
        out[name][ok] = values
    return out


def fit(
    x: ArrayLike | Sequence[ArrayLike],
    loss: ArrayLike,
    form: str = "compute",
    weights: ArrayLike | None = None,
    start: Mapping[str, float] | None = None,
    floor: float | None = None,
) -> dict[str, float]:
    """The law's parameters (E, A, alpha; B, beta) fitted to one ladder, optionally weighted
    (n,); `start` (a previous fit) replaces the grid of starts; `floor` pins E."""
    logs, y = _check(x, loss, form)
    check_floor(floor, np.exp(y))
    w = _weight_rows(weights, y.size)
    if w.shape[0] != 1:
        raise FitError("fit takes one row of weights; use fit_many for several")
    result = _fit_rows(logs, y, w, form, start, grid=start is None, floor=floor)
    if not np.isfinite(result["E"][0]):
        raise FitError("the weighted runs are all at one or two sizes; a law needs a range")
    return {name: float(v[0]) for name, v in result.items()}


def fit_many(
    x: ArrayLike | Sequence[ArrayLike],
    loss: ArrayLike,
    weights: ArrayLike,
    form: str = "compute",
    start: Mapping[str, float] | None = None,
    floor: float | None = None,
) -> dict[str, np.ndarray]:
    """Fit every row of `weights` (R, n) in one batch: an array (R,) per parameter, NaN for rows
    whose weighted runs sit at fewer than 3 sizes. With `start` (the ladder's own fit) every row
    starts from it, as a bootstrap does; without it every row gets its own grid of starts.
    `floor` pins E in every row."""
    logs, y = _check(x, loss, form)
    check_floor(floor, np.exp(y))
    w = _weight_rows(weights, y.size)
    return _fit_rows(logs, y, w, form, start, grid=start is None, floor=floor)
