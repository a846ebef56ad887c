"""How good a fit is: each rung's residual, how well the law predicts each rung it did not
see (leave-one-out), above all the largest, which is the extrapolation that matters, and the
flags a reviewer would raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sheetsync.science.scaling import Fit, ladder_sizes

MIN_BUDGETS = 3  # distinct compute budgets a ladder needs
MIN_SPAN = 10.0  # and the factor of compute they must cover
LEVEL = 0.90


@dataclass(frozen=True)
class Rung:
    """One ladder run: observed and fitted loss, and the loss the law predicts without it."""

    run: str
    compute: float
    loss: float
    fitted: float
    residual: float  # log(fitted) - log(loss)
    held_out: float | None  # the loss predicted by the fit without this rung
    held_out_error: float | None  # held_out / loss - 1


@dataclass(frozen=True)
class Quality:
    rungs: tuple[Rung, ...]
    largest: int  # index of the largest-compute rung
    band: tuple[float, float] | None  # 90% band of the held-out prediction of the largest
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rungs": [asdict(r) for r in self.rungs],
            "largest": self.largest,
            "band": list(self.band) if self.band else None,
            "flags": list(self.flags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Quality:
        band = data.get("band")
        return cls(
            tuple(Rung(**r) for r in data["rungs"]),
            int(data["largest"]),
            (float(band[0]), float(band[1])) if band else None,
            tuple(str(f) for f in data.get("flags", ())),
        )


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def assess(fit: Fit, resamples: int = 300, seed: int = 0) -> Quality | None:
    """Residuals, leave-one-out predictions and flags of a fit that carries its ladder."""
    from sheetsync.science.fitting import fit_many
    from sheetsync.science.law import bootstrap_weights, leave_one_out, predict

    ladder = fit.ladder
    if ladder is None:
        return None
    x = ladder_sizes(ladder, fit.form)
    loss = np.asarray(ladder.loss, dtype=float)
    compute = np.asarray(ladder.compute, dtype=float)
    fitted = predict(fit.params, x, fit.form)
    loo = leave_one_out(x, loss, fit.form, start=fit.params, compute=compute, floor=fit.floor)
    names = ladder.runs or tuple(f"rung {i + 1}" for i in range(len(loss)))
    rungs = tuple(
        Rung(
            str(names[i]),
            float(compute[i]),
            float(loss[i]),
            float(fitted[i]),
            float(np.log(fitted[i]) - np.log(loss[i])),
            _finite(loo.predicted[i]),
            _finite(loo.error[i]),
        )
        for i in range(len(loss))
    )
    top = loo.largest
    band = None
    start = {k: float(v[top]) for k, v in loo.params.items()}
    if all(np.isfinite(v) for v in start.values()):
        keep = np.arange(len(loss)) != top
        xs = x[:, keep] if x.ndim == 2 else x[keep]
        weights = bootstrap_weights(int(keep.sum()), resamples, seed, sizes=compute[keep])
        params = fit_many(xs, loss[keep], weights, fit.form, start, floor=fit.floor)
        ok = np.isfinite(params["E"])
        if ok.sum() >= 20:
            at = x[:, [top]] if x.ndim == 2 else x[[top]]
            preds = predict({k: v[ok] for k, v in params.items()}, at, fit.form)[:, 0]
            tail = (1 - LEVEL) / 2
            band = (float(np.quantile(preds, tail)), float(np.quantile(preds, 1 - tail)))
    return Quality(rungs, top, band, tuple(_flags(rungs, top, band, compute)))


def _flags(
    rungs: tuple[Rung, ...], top: int, band: tuple[float, float] | None, compute: np.ndarray
) -> list[str]:
    flags = []
    budgets = len(set(compute.tolist()))
    span = float(compute.max() / compute.min())
    if budgets < MIN_BUDGETS or span < MIN_SPAN:
        flags.append(
            f"thin ladder: {budgets} compute budgets over {span:.1f}x "
            f"(want >= {MIN_BUDGETS} over >= {MIN_SPAN:.0f}x)"
        )
    largest = rungs[top]
    if largest.held_out is None:
        flags.append("too few rungs to test the largest by leaving it out")
    elif band is not None and not band[0] <= largest.loss <= band[1]:
        flags.append(
            f"misses its largest rung: without {largest.run} it predicts {largest.held_out:.4f} "
            f"(90% {band[0]:.4f}-{band[1]:.4f}), observed {largest.loss:.4f}"
        )
    return flags


def judged(fit: Fit) -> Fit:
    """The fit with its quality recorded (kept with it in the Scaling tab)."""
    import dataclasses

    quality = assess(fit)
    return dataclasses.replace(fit, quality=quality.to_dict() if quality else None)
