"""The report's pictures: each baseline's ladder with its fit and band, and each method's
gain against compute (does it scale). PNGs as base64, for a self-contained page."""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any

from sheetsync.records.names import one_line
from sheetsync.science.gain import interval_of
from sheetsync.sheet.bootstraps import bootstrap_for
from sheetsync.sheet.read import SheetRows
from sheetsync.vocab import Value, finite

if TYPE_CHECKING:
    from sheetsync.project import Project
    from sheetsync.science.scaling import Fit
    from sheetsync.views.review import Report


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def draw(project: Project | None, rows: SheetRows, report: Report) -> None:
    """Every plot of the report; a note instead when matplotlib is missing."""
    try:
        _pyplot()
    except ImportError:
        report.plot_note = "plots need matplotlib: pip install 'sheetsync[plot]'"
        return
    ladder_plots(project, rows, report)
    gain_plots(rows, report)


def _fit_for(rows: SheetRows, baseline: str) -> tuple[str, Fit] | None:
    """The newest recorded fit of a baseline, as the gains were computed against it."""
    from sheetsync.sheet.gains import fits_in

    return fits_in(rows.fits).get(baseline)


def _band(project: Project | None, fit: Fit, xs: list[float]) -> tuple[Any, Any] | None:
    """The 5th and 95th percentiles of the law's loss at each compute, over the fit's
    bootstrap (read from the project's cache, as the gains used it)."""
    import numpy as np

    from sheetsync.science.scaling import Fit

    boot = bootstrap_for(project, fit)
    if boot is None:
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


def ladder_plots(project: Project | None, rows: SheetRows, report: Report) -> None:
    """Loss vs compute per baseline ladder, with its fit and the period's runs (matplotlib)."""
    plt = _pyplot()
    ladders: dict[str, list[dict[str, Value]]] = {}
    for r in rows.records:
        if r.get("role") == "ladder" and r.get("status") == "finished":
            ladders.setdefault(f"{r.get('baseline')}@{r.get('baseline_date')}", []).append(r)
    shown = [r for rs in report.groups.values() for r in rs]
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
            band = _band(project, fit, xs)
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
                    _label(str(r["run"]), 24),
                    (c, lo),
                    fontsize=7,
                    xytext=(4, 4),
                    textcoords="offset points",
                )
        ax.set_xscale("log")
        ax.set_xlabel("compute (FLOPs)")
        ax.set_ylabel("final loss")
        ax.set_title(_label(f"{baseline}: ladder, fit and this period's runs", 80), fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        report.plots[baseline] = _png(fig)


def _label(text: str, width: int = 48) -> str:
    """Plain text for a matplotlib label: one line, `$` shown as itself (it would start math
    mode); long methods shortened."""
    text = one_line(text).replace("$", r"\$")
    return text if len(text) <= width else text[: width - 1] + "…"


def gain_plots(rows: SheetRows, report: Report) -> None:
    """Gain (log) against compute for each method of a baseline, with 90% intervals and the
    fitted trend: the meeting's picture of whether a method scales."""
    plt = _pyplot()
    intervals = {str(r.get("run")): interval_of(r.get("gain_interval")) for r in rows.records}
    by_baseline: dict[str, list[Any]] = {}
    for t in report.trends:
        by_baseline.setdefault(t.baseline, []).append(t)
    for baseline, methods in sorted(by_baseline.items()):
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
        for i, t in enumerate(methods):
            colour = f"C{i % 10}"
            xs = [c for _, c, _ in t.points]
            ys = [g for _, _, g in t.points]
            lows = [
                iv or intervals.get(run)
                for (run, _, _), iv in zip(t.points, t.intervals, strict=True)
            ]
            err = [
                [max(0.0, g - b[0]) if b else 0.0 for g, b in zip(ys, lows, strict=True)],
                [
                    max(0.0, min(b[1], g * 100) - g) if b else 0.0
                    for g, b in zip(ys, lows, strict=True)
                ],
            ]
            ax.errorbar(
                xs,
                ys,
                yerr=err,
                fmt="o",
                color=colour,
                capsize=3,
                zorder=3,
                label=_label(f"{t.method} ({t.verdict})"),
            )
            if t.slope is not None and len(xs) >= 2:
                lx = [math.log(x) for x in xs]
                ly = [math.log(y) for y in ys]
                mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
                ends = [min(xs), max(xs)]
                ax.plot(
                    ends,
                    [math.exp(my + t.slope * (math.log(x) - mx)) for x in ends],
                    color=colour,
                    alpha=0.7,
                )
        ax.axhline(1.0, color="#888", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        as_gain = FuncFormatter(lambda v, _: f"{v:.2f}x")
        ax.yaxis.set_major_formatter(as_gain)
        ax.yaxis.set_minor_formatter(as_gain)
        ax.set_xlabel("compute (FLOPs)")
        ax.set_ylabel("compute-efficiency gain")
        ax.set_title(_label(f"{baseline}: does it scale?", 80), fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="best")
        report.gain_plots[baseline] = _png(fig)
