"""The report's pictures: each baseline's ladder with its fit and band, and each method's
gain against compute (does it scale). What each picture shows is gathered once (plain data);
the report draws it as SVG (`views.svg`, no plotting library: the report stays under a
second), and `scaling --plot` as a PNG with matplotlib."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sheetsync.errors import UsageError
from sheetsync.records.names import BaselineRef, one_line
from sheetsync.science.gain import interval_of
from sheetsync.sheet.bootstraps import bootstrap_for
from sheetsync.sheet.read import SheetRows
from sheetsync.views.svg import Plot, colour
from sheetsync.vocab import Value, finite

if TYPE_CHECKING:
    from sheetsync.project import Project
    from sheetsync.science.scaling import Fit
    from sheetsync.views.review import Report


@dataclass(frozen=True)
class LadderPicture:
    """A baseline's ladder, its newest fit with the 90% bootstrap band, this period's runs."""

    baseline: str
    ladder: list[tuple[float, float]]
    fit_name: str | None
    curve: tuple[list[float], list[float]] | None
    band: tuple[list[float], list[float]] | None
    runs: list[tuple[str, float, float]]


@dataclass(frozen=True)
class GainSeries:
    label: str  # the method and its verdict
    xs: list[float]
    ys: list[float]
    intervals: list[tuple[float, float] | None]
    trend: tuple[list[float], list[float]] | None  # the fitted slope's line


@dataclass(frozen=True)
class GainPicture:
    baseline: str
    series: list[GainSeries]


def draw(project: Project | None, rows: SheetRows, report: Report) -> None:
    """Every picture of the report, as SVG text."""
    for p in ladder_pictures(project, rows, report):
        report.plots[p.baseline] = ladder_svg(p)
    for g in gain_pictures(rows, report):
        report.gain_plots[g.baseline] = gain_svg(g)


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


def ladder_pictures(
    project: Project | None, rows: SheetRows, report: Report
) -> list[LadderPicture]:
    """Loss vs compute per baseline ladder, with its fit and the period's runs."""
    ladders: dict[str, list[dict[str, Value]]] = {}
    for r in rows.records:
        if r.get("role") == "ladder" and r.get("status") == "finished":
            ladders.setdefault(BaselineRef.of_row(r), []).append(r)
    shown = [r for rs in report.groups.values() for r in rs]
    out = []
    for baseline, ladder in sorted(ladders.items()):
        pts = [(finite(r.get("compute")), finite(r.get("final_loss"))) for r in ladder]
        pts = [(c, lo) for c, lo in pts if c and lo]
        if len(pts) < 2:
            continue
        found = _fit_for(rows, baseline)
        lo_c, hi_c = min(c for c, _ in pts), max(c for c, _ in pts)
        name, curve, band = None, None, None
        if found:
            name, fit = found
            xs = [lo_c / 3 * (hi_c * 9 / lo_c) ** (i / 99) for i in range(100)]
            curve = (xs, [fit.predict(x) for x in xs])
            quantiles = _band(project, fit, xs)
            if quantiles is not None:
                band = (xs, [float(v) for v in quantiles[0]], [float(v) for v in quantiles[1]])
        mine = [
            (str(r["run"]), finite(r.get("compute")), finite(r.get("final_loss")))
            for r in shown
            if BaselineRef.of_row(r) == baseline
        ]
        runs = [(run, c, lo) for run, c, lo in mine if c and lo]
        out.append(LadderPicture(baseline, pts, name, curve, band, runs))  # type: ignore[arg-type]
    return out


def gain_pictures(rows: SheetRows, report: Report) -> list[GainPicture]:
    """Gain against compute for each method of a baseline, with 90% intervals and the fitted
    trend: the meeting's picture of whether a method scales."""
    intervals = {str(r.get("run")): interval_of(r.get("gain_interval")) for r in rows.records}
    by_baseline: dict[str, list[Any]] = {}
    for t in report.trends:
        by_baseline.setdefault(t.baseline, []).append(t)
    out = []
    for baseline, methods in sorted(by_baseline.items()):
        series = []
        for t in methods:
            xs = [c for _, c, _ in t.points]
            ys = [g for _, _, g in t.points]
            ivs = [
                iv or intervals.get(run)
                for (run, _, _), iv in zip(t.points, t.intervals, strict=True)
            ]
            line = None
            if t.slope is not None and len(xs) >= 2:
                lx = [math.log(x) for x in xs]
                ly = [math.log(y) for y in ys]
                mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
                ends = [min(xs), max(xs)]
                line = (ends, [math.exp(my + t.slope * (math.log(x) - mx)) for x in ends])
            series.append(GainSeries(f"{t.method} ({t.verdict})", xs, ys, ivs, line))
        out.append(GainPicture(baseline, series))
    return out


def _label(text: str, width: int = 48) -> str:
    """One line, long methods shortened."""
    text = one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


# --- SVG, for the report ---------------------------------------------------------------------


def ladder_svg(p: LadderPicture) -> str:
    plot = Plot(_label(f"{p.baseline}: ladder, fit and this period's runs", 80), "compute (FLOPs)",
                "final loss", y_format="{:.2f}")  # fmt: skip
    if p.band is not None:
        plot.band(p.band[0], p.band[1], p.band[2], colour(0), "90% bootstrap band")
    if p.curve is not None:
        plot.line(p.curve[0], p.curve[1], colour(0), one_line(f"fit {p.fit_name}"))
    plot.points([c for c, _ in p.ladder], [lo for _, lo in p.ladder], "#333333", "ladder")
    for i, (_, c, lo) in enumerate(p.runs):
        plot.points([c], [lo], colour(i + 1), marker="diamond")
    plot.labels(p.runs)
    return plot.svg()


def gain_svg(g: GainPicture) -> str:
    plot = Plot(_label(f"{g.baseline}: does it scale?", 80), "compute (FLOPs)",
                "compute-efficiency gain", ylog=True)  # fmt: skip
    plot.hline(1.0, "#888888")
    for i, s in enumerate(g.series):
        highs = [min(iv[1], y * 100) if iv else y for y, iv in zip(s.ys, s.intervals, strict=True)]
        lows = [iv[0] if iv else y for y, iv in zip(s.ys, s.intervals, strict=True)]
        plot.errorbars(s.xs, lows, highs, colour(i))
        if s.trend is not None:
            plot.line(s.trend[0], s.trend[1], colour(i))
        plot.points(s.xs, s.ys, colour(i), one_line(s.label))
    return plot.svg()


# --- PNG with matplotlib, for `scaling --plot` ----------------------------------------------


def ladder_png(project: Project | None, rows: SheetRows, report: Report, baseline: str) -> bytes:
    """The ladder picture of `baseline` as a PNG (matplotlib, the `plot` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'sheetsync[plot]'") from None
    found = [p for p in ladder_pictures(project, rows, report) if p.baseline == baseline]
    if not found:
        raise UsageError(f"no ladder of {baseline} to plot")
    p = found[0]
    fig, ax = _figure()
    ax.scatter(*zip(*p.ladder, strict=True), color="#333", label="ladder", zorder=3)
    if p.curve is not None:
        ax.plot(*p.curve, color="#1f77b4", label=_wrapped(f"fit {p.fit_name}"))
    if p.band is not None:
        ax.fill_between(*p.band, color="#1f77b4", alpha=0.2, label="90% bootstrap band")
    for _, c, lo in p.runs:
        ax.scatter([c], [lo], marker="D", s=28, zorder=4)
    _log_compute_axis(ax)
    ax.set_xlabel("compute (FLOPs)")
    ax.set_ylabel("final loss")
    ax.set_title(_mpl_label(f"{baseline}: ladder, fit and this period's runs", 80), fontsize=10)
    ax.grid(alpha=0.3)
    _legend_below(ax, 8)
    place_labels(ax, p.runs)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # one draw: the margins were set for the legend below
    return buf.getvalue()


def _figure() -> tuple[Any, Any]:
    """A figure and its axes drawn by Agg, without pyplot (whose import is most of a plot's
    start-up: its backends and state machine are not needed for PNGs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _log_compute_axis(ax: Any) -> None:
    """Compute on a log axis labelled 1e18, 1e19 (plain text: the default 10^18 labels go
    through mathtext, whose first use is slow)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}".replace("e+", "e")))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(NullLocator())  # minor ticks of a log axis: most of a draw


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
                _mpl_label(run, 24),
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
                _mpl_label(run, 24),
                (c, lo),
                fontsize=size,
                xytext=(6, 4),
                textcoords="offset points",
            )
        placed.append(_text_box(text, renderer))
        texts.append(text)
    return texts


def _text_box(text: Any, renderer: Any) -> Any:
    """The pixels a label covers, with a little room."""
    return text.get_window_extent(renderer).expanded(1.04, 1.15)


def _mpl_label(text: str, width: int = 48) -> str:
    """Plain text for a matplotlib label: one line, `$` shown as itself (it would start math
    mode); long methods shortened."""
    return _label(text, width).replace("$", r"\$")
