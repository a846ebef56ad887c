"""Scaling plots for people: each baseline's ladder, its fit with the 90% bootstrap band, and
chosen runs. Labels come from sheet text and are shown literally (never as math text)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from sheetsync.records.names import one_line
from sheetsync.sheet.read import SheetRows
from sheetsync.vocab import Value, finite


def _fit_for(rows: SheetRows, baseline: str):
    """The newest recorded fit of a baseline, as the gains were computed against it."""
    from sheetsync.sheet.gains import fits_in

    return fits_in(rows.fits).get(baseline)


def _band(fit, xs: list[float]):  # noqa: ANN001 - (low, high) arrays or None
    """The 5th and 95th percentiles of the law's loss at each compute, over bootstrap refits."""
    import numpy as np

    from sheetsync.errors import FitError
    from sheetsync.science.gain import bootstrap
    from sheetsync.science.scaling import Fit

    if fit.ladder is None:
        return None
    try:
        boot = bootstrap(fit, resamples=200)
    except FitError:
        return None
    curves = []
    for i in range(len(boot.params["E"])):
        one = Fit(
            fit.form,
            {k: float(v[i]) for k, v in boot.params.items()},
            fit.n_runs,
            fit.compute_min,
            fit.compute_max,
            0.0,
            fit.tokens_per_param,
        )
        curves.append([one.predict(x) for x in xs])
    arr = np.array(curves)
    return np.quantile(arr, 0.05, axis=0), np.quantile(arr, 0.95, axis=0)


def scaling_plots(rows: SheetRows, shown: Sequence[dict[str, Value]]) -> tuple[dict[str, str], str]:
    """Loss vs compute per baseline ladder, with its fit and the `shown` runs (matplotlib):
    baseline -> PNG as base64, and a note when plots cannot be drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}, "plots need matplotlib: pip install 'sheetsync[plot]'"
    out: dict[str, str] = {}
    ladders: dict[str, list[dict[str, Value]]] = {}
    for r in rows.records:
        if r.get("role") == "ladder" and r.get("status") == "finished":
            ladders.setdefault(f"{r.get('baseline')}@{r.get('baseline_date')}", []).append(r)
    for baseline, ladder in sorted(ladders.items()):
        pts = [(finite(r.get("compute")), finite(r.get("final_loss"))) for r in ladder]
        pts = [(c, lo) for c, lo in pts if c and lo]
        if len(pts) < 2:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        ax.scatter(*zip(*pts, strict=True), color="#333", label="ladder", zorder=3)
        found = _fit_for(rows, baseline)
        lo_c, hi_c = min(c for c, _ in pts), max(c for c, _ in pts)
        if found:
            name, fit = found
            xs = [lo_c / 3 * (hi_c * 9 / lo_c) ** (i / 99) for i in range(100)]
            ax.plot(xs, [fit.predict(x) for x in xs], color="#1f77b4", label=_label(f"fit {name}"))
            band = _band(fit, xs)
            if band is not None:
                ax.fill_between(
                    xs, band[0], band[1], color="#1f77b4", alpha=0.2, label="90% bootstrap band"
                )
        mine = [
            (r, finite(r.get("compute")), finite(r.get("final_loss")))
            for r in shown
            if f"{r.get('baseline')}@{r.get('baseline_date')}" == baseline
        ]
        for r, c, lo in mine:
            if c and lo:
                ax.scatter([c], [lo], marker="D", s=28, zorder=4)
                ax.annotate(
                    _label(r["run"]), (c, lo), fontsize=7, xytext=(4, 4), textcoords="offset points"
                )
        ax.set_xscale("log")
        ax.set_xlabel("compute (FLOPs)")
        ax.set_ylabel("final loss")
        ax.set_title(_label(f"{baseline}: ladder, fit and this period's runs"), fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png")
        plt.close(fig)
        out[baseline] = base64.b64encode(buf.getvalue()).decode()
    return out, ""


def _label(text: object) -> str:
    """Sheet text as a plot label: one line, and `$` shown as itself, not as math mode."""
    return one_line(str(text))[:80].replace("$", r"\$")
