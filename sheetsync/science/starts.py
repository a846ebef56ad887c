"""Starting points for the batched fits: a grid of exponents, and for each the law's linear
part (E, A, B) solved exactly as a nonnegative weighted least-squares problem."""

from __future__ import annotations

import itertools

import numpy as np

from sheetsync.science.objective import HUBER_DELTA, _bounds, _evaluate, _huber


def _grid(form: str) -> np.ndarray:
    if form == "compute":
        return np.geomspace(0.003, 3.0, 48)[:, None]
    axis = np.geomspace(0.03, 2.0, 12)
    return np.array(list(itertools.product(axis, axis)))


def _starts(
    xc: np.ndarray, y: np.ndarray, w: np.ndarray, form: str, keep: int, floor: float | None = None
) -> np.ndarray:
    """Grid starts of every row (B, keep + 1, P): for each grid exponent, the nonnegative
    (E, A, B) of least weighted relative squared error; the `keep` best by the objective, and
    the best with E = 0 (a noisy ladder's optimum is often a pure power law, which the best
    few with E > 0 can miss). With a pinned `floor`, E is that floor and the linear problem is
    the rest: sum w (F c / L - (1 - E / L))^2 over (A, B)."""
    grid = _grid(form)
    k = xc.shape[0]
    loss = np.exp(y)
    # features divided by the loss: the linear problem is sum w (F c / L - 1)^2
    feats = np.ones((grid.shape[0], xc.shape[1], k + 1))
    feats[:, :, 1:] = np.exp(-grid[:, None, :] * xc.T[None, :, :])
    rel = feats / loss[None, :, None]
    target = np.ones_like(loss) if floor is None else 1.0 - floor / loss
    p = k + 1
    outer = (rel[:, :, :, None] * rel[:, :, None, :]).transpose(1, 0, 2, 3).reshape(len(y), -1)
    subsets = [s for m in range(1, p + 1) for s in itertools.combinations(range(p), m)]
    if floor is not None:
        subsets = [s for s in subsets if 0 not in s]
    rows = w.shape[0]
    out = np.empty((rows, keep + 1, 1 + 2 * k))
    chunk = max(1, int(4e6 // (grid.shape[0] * len(y))))
    for lo in range(0, rows, chunk):
        wc = w[lo : lo + chunk]
        b = wc.shape[0]
        mat = (wc @ outer).reshape(b, grid.shape[0], p, p)
        lhs = (rel * target[None, :, None]).transpose(1, 0, 2).reshape(len(y), -1)
        vec = (wc @ lhs).reshape(b, grid.shape[0], p)
        # NNLS by active sets: the best subset whose unconstrained solution is positive
        best = np.full((2, b, grid.shape[0]), np.inf)  # any subset; subsets without E
        coef = np.zeros((2, b, grid.shape[0], p))
        for s in subsets:
            ix = np.array(s)
            sub = mat[:, :, ix[:, None], ix[None, :]]
            scale = np.einsum("bgii->bgi", sub).max(axis=2)[..., None, None]
            sub = sub + (1e-12 * scale + 1e-300) * np.eye(len(s))
            c = np.linalg.solve(sub, vec[:, :, ix, None])[..., 0]
            value = -(c * vec[:, :, ix]).sum(axis=2)  # the LS objective minus sum(w)
            full = np.zeros((b, grid.shape[0], p))
            full[:, :, ix] = c
            for j in (0, 1) if 0 not in s else (0,):
                better = (c > 0).all(axis=2) & (value < best[j])
                best[j] = np.where(better, value, best[j])
                coef[j] = np.where(better[..., None], full, coef[j])
        coef[..., 1:] = np.maximum(coef[..., 1:], 1e-9 * loss.min())
        if floor is not None:
            coef[..., 0] = floor
        pred = np.log(np.einsum("gnp,jbgp->jbgn", feats, coef))
        score = (_huber(pred - y) * wc[None, :, None, :]).sum(axis=3)
        top = np.concatenate(
            [np.argsort(score[0], axis=1)[:, :keep], score[1].argmin(axis=1)[:, None]], axis=1
        )
        chosen = np.concatenate(
            [
                np.take_along_axis(coef[0], top[:, :keep, None], axis=1),
                np.take_along_axis(coef[1], top[:, keep:, None], axis=1),
            ],
            axis=1,
        )
        out[lo : lo + b] = np.concatenate(
            [chosen[..., :1], np.log(chosen[..., 1:]), grid[top]], axis=2
        )
    return out


def _linear_response(
    t0: np.ndarray, xc: np.ndarray, y: np.ndarray, w: np.ndarray, floor: float | None = None
) -> np.ndarray:
    """Starts for reweighted rows (R, P): one Newton step from `t0` with each row's gradient and
    the unweighted ladder's IRLS matrix (one matrix product for all rows), or `t0` itself where
    that step does not lower the row's objective."""
    _, r0, j0 = _evaluate(t0[None], xc, y, np.ones((1, y.size)))
    r0, j0 = r0[0], j0[0]
    per_run = (j0 * np.clip(r0, -HUBER_DELTA, HUBER_DELTA)).T
    curv = np.where(np.abs(r0) <= HUBER_DELTA, 1.0, HUBER_DELTA / np.maximum(np.abs(r0), 1e-300))
    step = (w @ per_run) @ np.linalg.pinv((j0 * curv) @ j0.T).T
    lower, upper = _bounds(xc.shape[0], floor)
    moved = np.clip(t0 - step, lower, upper)
    f_moved, _, _ = _evaluate(moved, xc, y, w)
    f_t0, _, _ = _evaluate(t0[None], xc, y, w)
    return np.where((f_moved <= f_t0)[:, None], moved, t0)
