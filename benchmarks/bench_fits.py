"""Fits: one fit, its 1,000-resample bootstrap and its leave-one-out of a 20-run ladder (at
0.2% and 1% noise), the parametric fit of the published 240-run Chinchilla ladder, and a
per-resample scipy L-BFGS-B bootstrap of the same 20 runs for comparison.

    python -m benchmarks.bench_fits
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sheetsync.science.gain import bootstrap
from sheetsync.science.quality import assess
from sheetsync.science.scaling import Ladder, fit_ladder, read_ladder_csv

PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "data" / "chinchilla_ladder.csv"


def compute_ladder(noise: float, n: int = 20, seed: int = 0) -> Ladder:
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e18, 3e20, n)
    loss = (1.7 + 1145 * c**-0.155) * np.exp(rng.normal(0, noise, n))
    return Ladder(tuple(c), tuple(loss))


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scipy_bootstrap(ladder: Ladder, resamples: int) -> float:
    """The previous design: one L-BFGS-B run per resample (seconds for `resamples`)."""
    from scipy.optimize import minimize

    c, y = np.log(np.asarray(ladder.compute)), np.log(np.asarray(ladder.loss))
    rng = np.random.default_rng(0)
    weights = rng.multinomial(len(c), np.full(len(c), 1 / len(c)), size=resamples)

    def objective(t: np.ndarray, w: np.ndarray) -> float:
        r = np.logaddexp(t[0], t[1] - t[2] * c) - y
        small = np.abs(r) <= 1e-3
        return float((w * np.where(small, 0.5 * r * r, 1e-3 * (np.abs(r) - 5e-4))).sum())

    fit = fit_ladder(ladder)
    x0 = np.array([np.log(fit.params["E"]), np.log(fit.params["A"]), fit.params["alpha"]])
    start = time.perf_counter()
    for w in weights:
        minimize(objective, x0, args=(w,), method="L-BFGS-B")
    return time.perf_counter() - start


def main() -> dict[str, float]:
    out: dict[str, float] = {}
    for noise in (0.002, 0.01):
        ladder = compute_ladder(noise)
        fit = fit_ladder(ladder)
        one = best_of(lambda ladder=ladder: fit_ladder(ladder))
        boot = best_of(lambda fit=fit: bootstrap(fit), 3)
        judge = best_of(lambda fit=fit: assess(fit), 3)
        print(
            f"fits: 20-run compute ladder, {noise:.1%} noise: one fit {one * 1000:.1f} ms "
            f"(goal <= 20 ms); 1,000-resample bootstrap {boot * 1000:.0f} ms = "
            f"{boot / one:.1f}x one fit (goal <= 5x); leave-one-out and band {judge * 1000:.0f} ms"
        )
        out[f"fit_{noise}"], out[f"boot_{noise}"] = one, boot
    per = scipy_bootstrap(compute_ladder(0.002), 50) / 50
    print(
        f"fits: the previous per-resample L-BFGS-B: {per * 1000:.1f} ms a resample, "
        f"~{per * 1000:.1f} s for 1,000"
    )
    if PUBLISHED.exists():
        published = read_ladder_csv(PUBLISHED)
        para = best_of(lambda: fit_ladder(published, "parametric"), 3)
        p = fit_ladder(published, "parametric").params
        print(
            f"fits: parametric fit of the 240-run Chinchilla ladder {para * 1000:.0f} ms: "
            f"E={p['E']:.4f} A={p['A']:.1f} B={p['B']:.1f} alpha={p['alpha']:.4f} "
            f"beta={p['beta']:.4f} (published Huber fit: 1.8172, 477.8, 2143.2, 0.3473, 0.3672)"
        )
        out["parametric_240"] = para
    return out


if __name__ == "__main__":
    main()
