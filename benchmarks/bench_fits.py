"""Fits: one fit and a 1,000-resample bootstrap of a 20-run ladder; the parametric fit of a
240-run ladder against a naive grid of L-BFGS starts without gradients.

    python -m benchmarks.bench_fits
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from sheetsync.science.gain import bootstrap
from sheetsync.science.scaling import HUBER_DELTA, Ladder, fit_ladder

CHINCHILLA = {"E": 1.82, "A": 482.01, "alpha": 0.3478, "B": 2085.43, "beta": 0.3658}


def compute_ladder(n: int = 20, seed: int = 0) -> Ladder:
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e18, 3e20, n)
    loss = (1.7 + 1145 * c**-0.155) * np.exp(rng.normal(0, 0.002, n))
    return Ladder(tuple(c), tuple(loss))


def parametric_ladder(seed: int = 0) -> Ladder:
    """240 runs at the published Chinchilla law (Besiroglu et al. 2024) with 1% noise."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(4.4e7, 1.6e10, 16), 15)
    d = np.tile(np.geomspace(5e9, 5e11, 15), 16)
    p = CHINCHILLA
    loss = (p["E"] + p["A"] / n ** p["alpha"] + p["B"] / d ** p["beta"]) * np.exp(
        rng.normal(0, 0.01, n.size)
    )
    return Ladder(tuple(6 * n * d), tuple(loss), tuple(n), tuple(d))


def naive(ladder: Ladder, starts: int) -> tuple[float, float]:
    """The literature's grid of starts, L-BFGS without gradients; returns (best, seconds)."""
    n, d, loss = (np.log(np.asarray(x)) for x in (ladder.params, ladder.tokens, ladder.loss))

    def objective(t: np.ndarray) -> float:
        pred = np.logaddexp(np.logaddexp(t[0] - t[3] * n, t[1] - t[4] * d), t[2])
        r = pred - loss
        small = np.abs(r) <= HUBER_DELTA
        return float(
            np.where(small, 0.5 * r * r, HUBER_DELTA * (np.abs(r) - 0.5 * HUBER_DELTA)).sum()
        )

    grid = [
        np.array([a, b, e, al, be])
        for a in range(0, 30, 5)
        for b in range(0, 30, 5)
        for e in (-1, -0.5, 0, 0.5, 1)
        for al in (0, 0.5, 1, 1.5, 2)
        for be in (0, 0.5, 1, 1.5, 2)
    ]
    start = time.perf_counter()
    best = min(minimize(objective, x0, method="L-BFGS-B").fun for x0 in grid[:starts])
    return best, time.perf_counter() - start


def main() -> dict[str, float]:
    ladder = compute_ladder()
    fit_ladder(ladder)  # warm the imports
    t = time.perf_counter()
    fit = fit_ladder(ladder)
    one = time.perf_counter() - t
    t = time.perf_counter()
    bootstrap(fit, 1000)
    boot = time.perf_counter() - t
    print(
        f"fits: one compute fit of 20 runs {one * 1000:.0f} ms; 1,000-resample bootstrap "
        f"{boot:.2f}s = {boot / one:.1f}x one fit (goal < 50x)"
    )
    big = parametric_ladder()
    t = time.perf_counter()
    pfit = fit_ladder(big, "parametric")
    ours = time.perf_counter() - t
    sample = 150
    _, naive_s = naive(big, sample)
    full = naive_s * 4500 / sample
    print(
        f"fits: parametric fit of 240 runs {ours:.2f}s (E={pfit.params['E']:.3f}, "
        f"alpha={pfit.params['alpha']:.4f}, beta={pfit.params['beta']:.4f}); naive grid without "
        f"gradients: {naive_s:.1f}s for {sample} of 4,500 starts, so ~{full:.0f}s for all "
        f"(extrapolated) = {full / ours:.0f}x slower (goal >= 50x)"
    )
    return {
        "fit_s": one,
        "bootstrap_s": boot,
        "bootstrap_ratio": boot / one,
        "parametric_s": ours,
        "naive_full_s": full,
        "speedup": full / ours,
    }


if __name__ == "__main__":
    main()
