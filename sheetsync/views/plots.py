"""The report's pictures: each baseline's ladder with its fit and band, and each method's
gain against compute (does it scale). PNGs as base64, for a self-contained page."""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any

from sheetsync.records.names import BaselineRef, one_line
from sheetsync.science.gain import interval_of
from sheetsync.sheet.bootstraps import bootstrap_for
from sheetsync.sheet.read import SheetRows
from sheetsync.vocab import Value, finite

if TYPE_CHECKING:
    from sheetsync.project import Project
    from sheetsync.science.scaling import Fit
    from sheetsync.views.review import Report


def _figure() -> tuple[Any, Any]:
    """A figure and its axes drawn by Agg, without pyplot (whose import is most of the
    report's start-up: its backends and state machine are not needed for PNGs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # one draw: the margins were set for the legend below
    return base64.b64encode(buf.getvalue()).decode()


def draw(project: Project | None, rows: SheetRows, report: Report) -> None:
    """Every plot of the report; a note instead when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
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
    bootstrap (read from the project's cache, as the gains used it): one array operation."""
    import numpy as np

    from sheetsync.science.law import predict

    boot = bootstrap_for(project, fit)
    if boot is None:
        return None
    x = np.asarray(xs, dtype=float)
    if fit.form == "compute":
        curves = predict(boot.params, x, "compute")
    else:  # along the ladder's tokens per parameter, as Fit.predict reads a parametric law
        r = fit.tokens_per_param or 20.0
        n = np.sqrt(x / (6.0 * r))
        curves = predict(boot.params, np.vstack([n, r * n]), "parametric")
    curves = curves[np.isfinite(curves).all(axis=1)]
    if not len(curves):
        return None
    return np.quantile(curves, 0.05, axis=0), np.quantile(curves, 0.95, axis=0)


def ladder_plots(project: Project | None, rows: SheetRows, report: Report) -> None:
    """Loss vs compute per baseline ladder, with its fit and the period's runs (matplotlib)."""
    ladders: dict[str, list[dict[str, Value]]] = {}
    for r in rows.records:
        if r.get("role") == "ladder" and r.get("status") == "finished":
            ladders.setdefault(BaselineRef.of_row(r), []).append(r)
    shown = [r for rs in report.groups.values() for r in rs]
    for baseline, ladder in sorted(ladders.items()):
        pts = [(finite(r.get("compute")), finite(r.get("final_loss"))) for r in ladder]
        pts = [(c, lo) for c, lo in pts if c and lo]
        if len(pts) < 2:
            continue
        fig, ax = _figure()
        ax.scatter(*zip(*pts, strict=True), color="#333", label="ladder", zorder=3)
        found = _fit_for(rows, baseline)
        lo_c, hi_c = min(c for c, _ in pts), max(c for c, _ in pts)
        if found:
            name, fit = found
            xs = [lo_c / 3 * (hi_c * 9 / lo_c) ** (i / 99) for i in range(100)]
            ax.plot(
                xs, [fit.predict(x) for x in xs], color="#1f77b4", label=_wrapped(f"fit {name}")
            )
            band = _band(project, fit, xs)
            if band is not None:
                ax.fill_between(
                    xs, band[0], band[1], color="#1f77b4", alpha=0.2, label="90% bootstrap band"
                )
        mine = [
            (r, finite(r.get("compute")), finite(r.get("final_loss")))
            for r in shown
            if BaselineRef.of_row(r) == baseline
        ]
        points = [(str(r["run"]), c, lo) for r, c, lo in mine if c and lo]
        for _, c, lo in points:
            ax.scatter([c], [lo], marker="D", s=28, zorder=4)
        _log_compute_axis(ax)
        _labelled(ax, "final loss", f"{baseline}: ladder, fit and this period's runs", 8)
        place_labels(ax, points)
        report.plots[baseline] = _png(fig)


def _labelled(ax: Any, ylabel: str, title: str, legend_size: int) -> None:
    """A plot against compute labelled: its axes, its title, a grid, the legend below."""
    ax.set_xlabel("compute (FLOPs)")
    ax.set_ylabel(ylabel)
    ax.set_title(_label(title, 80), fontsize=10)
    ax.grid(alpha=0.3)
    _legend_below(ax, legend_size)


def _log_compute_axis(ax: Any) -> None:
    """Compute on a log axis labelled 1e18, 1e19 (plain text: the default 10^18 labels go
    through mathtext, whose first use is a third of the report's time)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e+", "e")))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(NullLocator())  # minor ticks of a log axis: most of a draw


def _log_gain_axis(ax: Any) -> None:
    """Gain on a log axis (2x and 0.5x equally far from 1) with six labelled ticks over the
    range shown, `1.05x`, and no minor ticks."""
    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ticks = np.round(np.geomspace(low, high, 6), 2)
    if low < 1 < high:  # 1x, where a gain stops being one, is always labelled
        ticks = ticks[np.abs(np.log(ticks)) > 0.2 * np.log(high / low) / 5]
        ticks = np.append(ticks, 1.0)
    ax.yaxis.set_major_locator(FixedLocator(np.unique(ticks)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}x"))
    ax.yaxis.set_minor_locator(NullLocator())


def _legend_below(ax: Any, size: int) -> None:
    """The legend under the axes, in two columns: it covers no point, and the figure grows by
    its height, so it is never cut (margins set here, so saving draws the figure once)."""
    fig = ax.figure
    handles, labels = ax.get_legend_handles_labels()
    pairs = [labels[i : i + 2] for i in range(0, len(labels), 2)]
    lines = sum(max(label.count("\n") + 1 for label in pair) for pair in pairs)
    legend_in = lines * size * 1.45 / 72 + (0.1 if lines else 0.0)
    width, height = 7.0, 4.2 + legend_in
    fig.set_size_inches(width, height)
    fig.subplots_adjust(
        left=0.11, right=0.97, top=1 - 0.4 / height, bottom=(0.62 + legend_in) / height
    )
    if handles:
        fig.legend(
            handles,
            labels,
            fontsize=size,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.02),
            ncol=2,
            frameon=False,
        )


def _wrapped(text: str, width: int = 60) -> str:
    """A legend entry whole, on as many lines as it needs (`$` shown as itself)."""
    import textwrap

    text = one_line(text).replace("$", r"\$")
    return "\n".join(textwrap.wrap(text, width)) or text


def place_labels(ax: Any, points: list[tuple[str, float, float]], size: int = 7) -> list[Any]:
    """Label each point with its run id where the label overlaps no label placed before it:
    up-right of the point, else a line lower, a line higher, and so on (runs at one budget
    with nearly equal losses get stacked labels, in the order of their points' losses).
    Returns the labels' texts."""
    fig = ax.figure
    ax.autoscale_view()  # the axes' limits, hence the data-to-pixel transform, final from here
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    texts = []
    step = size * 1.5
    for run, c, lo in sorted(points, key=lambda p: (p[1], -p[2])):
        text = None
        for k in range(12):
            dy = 4 + (-1) ** k * step * ((k + 1) // 2)
            text = ax.annotate(
                _label(run, 24),
                (c, lo),
                fontsize=size,
                xytext=(6, dy),
                textcoords="offset points",
            )
            box = _text_box(text, renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            text.remove()
            text = None
        if text is None:  # crowded beyond twelve lines: the first place, as before
            text = ax.annotate(
                _label(run, 24), (c, lo), fontsize=size, xytext=(6, 4), textcoords="offset points"
            )
        placed.append(_text_box(text, renderer))
        texts.append(text)
    return texts


def _text_box(text: Any, renderer: Any) -> Any:
    """The pixels a label covers, with a little room."""
    return text.get_window_extent(renderer).expanded(1.04, 1.15)


def _label(text: str, width: int = 48) -> str:
    """Plain text for a matplotlib label: one line, `$` shown as itself (it would start math
    mode); long methods shortened."""
    text = one_line(text).replace("$", r"\$")
    return text if len(text) <= width else text[: width - 1] + "…"


def gain_plots(rows: SheetRows, report: Report) -> None:
    """Gain (log) against compute for each method of a baseline, with 90% intervals and the
    fitted trend: the meeting's picture of whether a method scales."""
    intervals = {str(r.get("run")): interval_of(r.get("gain_interval")) for r in rows.records}
    by_baseline: dict[str, list[Any]] = {}
    for t in report.trends:
        by_baseline.setdefault(t.baseline, []).append(t)
    for baseline, methods in sorted(by_baseline.items()):
        fig, ax = _figure()
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
                label=_wrapped(f"{t.method} ({t.verdict})"),
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
        _log_compute_axis(ax)
        _log_gain_axis(ax)
        _labelled(ax, "compute-efficiency gain", f"{baseline}: does it scale?", 7)
        report.gain_plots[baseline] = _png(fig)
