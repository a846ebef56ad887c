"""The Review tab's content, as a grid: what the review meeting reads in the sheet itself.

For each research question with runs launched in the last `review_days` (counted back from
the newest launch in the sheet: the sheet holds no finish date) or still running: its runs
(baseline@date, compute, loss, eval average, gain and anchored gain with their 90%
intervals, status, checks, and the people's `conclusion`, read from the Runs tab and never
written there), then each of its methods' verdicts; then the runs that need attention (each
once), each fit's quality line, and the data block the chart of gain against compute reads.
Pure: the same records give the same grid, so a sync that changes nothing writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sheetsync.project import Project
from sheetsync.records.names import BaselineRef
from sheetsync.sheet.chart_plan import CHART_ROWS, ChartPlan, Series
from sheetsync.sheet.grid import Grid
from sheetsync.sheet.meeting import attention, fit_lines
from sheetsync.sheet.verdicts import MethodTrend, gain_text, method_of, method_trends
from sheetsync.vocab import Value, finite

RUN_HEADER = (
    "run",
    "baseline",
    "compute (FLOPs)",
    "loss",
    "eval avg",
    "gain [90%]",
    "gain (anchored) [90%]",
    "status",
    "checks",
    "conclusion",
)
METHOD_HEADER = (
    "method",
    "baseline",
    "verdict",
    "budgets; slope of log gain per log compute (90%); above 1 at every budget; projection",
)
OPEN = ("running", "launched")
MAX_LABEL = 40


@dataclass(frozen=True)
class ReviewTab:
    grid: Grid
    chart: ChartPlan | None
    since: dt.date | None
    questions: list[str] = field(default_factory=list)


def _date(value: Value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def window(records: Sequence[dict[str, Value]], days: int, today: dt.date) -> dt.date | None:
    """The first day of the review window: `days` back from the newest launch (never later
    than today). None when no run has a launch date."""
    dates = [d for d in (_date(r.get("launched")) for r in records) if d is not None]
    if not dates:
        return None
    return min(max(dates), today) - dt.timedelta(days=days - 1)


def _in_review(record: dict[str, Value], since: dt.date | None) -> bool:
    if record.get("role") == "ladder":
        return False
    if str(record.get("status") or "") in OPEN:
        return True
    launched = _date(record.get("launched"))
    return since is not None and launched is not None and launched >= since


def _round(value: Value, digits: int) -> Value:
    number = finite(value)
    if number is None:
        return value
    if number == 0:
        return 0.0
    if digits < 0:  # significant digits (compute)
        return float(f"{number:.{-digits}g}")
    return round(number, digits)


def _number(value: float | None) -> float | None:
    """A chart value: rounded, and None where there is no finite number (an `inf` high)."""
    number = finite(value)
    return None if number is None else round(number, 4)


def _text(value: Value, spec: str) -> Value:
    """A number as the report writes it (`2.7e+18`, `3.2648`, `0.320`); text as it stands."""
    number = finite(value)
    return value if number is None else format(number, spec)


def _run_row(r: dict[str, Value]) -> list[Value]:
    """A run as the meeting reads it, written as the report writes it: text, left-aligned, so
    no number runs into the text beside it; each gain with its interval in one cell
    (`1.10x [1.050-1.146x]`, never a bare `1` for 0.9996). The chart reads its own numbers."""
    return [
        r.get("run"),
        BaselineRef.of_row(r),
        _text(r.get("compute"), ".3g"),
        _text(r.get("final_loss"), ".4f"),
        _text(r.get("eval_avg"), ".3f"),
        gain_text(r) or None,
        gain_text(r, "gain_anchored", "gain_anchored_interval") or None,
        r.get("status"),
        r.get("checks"),
        r.get("conclusion"),
    ]


def _slope(t: MethodTrend) -> str:
    return t.trend.slope_text() if t.slope is not None else ""


def _method_row(t: MethodTrend) -> list[Value]:
    budgets = len({c for _, c, _ in t.points})
    said = [f"{budgets} budgets"]
    if _slope(t):
        said.append(f"slope {_slope(t)}")
    said.append("above 1 at every budget" if t.above_one else "not above 1 at every budget")
    if t.projection is not None:
        said.append(t.projection.text())
    return [t.method, t.baseline, t.verdict, "; ".join(said)]


def _label(t: MethodTrend, clash: bool) -> str:
    text = t.method if not clash else f"{t.method} ({t.baseline})"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _pad(rows: list[list[Value]]) -> Grid:
    width = max((len(r) for r in rows), default=0)
    return [r + [None] * (width - len(r)) for r in rows]


def review_grid(
    records: Sequence[dict[str, Value]],
    fits: Sequence[dict[str, Value]],
    days: int,
    today: dt.date | None = None,
    project: Project | None = None,
) -> ReviewTab:
    """The Review tab for the Runs tab's `records` and the Scaling tab's `fits` (`project`:
    where the fits' bootstraps are cached, and the target compute of projections)."""
    today = today or dt.datetime.now(dt.UTC).date()
    since = window(records, days, today)
    # in launch order, not the Runs tab's: a person's sort there changes nothing here
    chosen = sorted(
        (r for r in records if _in_review(r, since)),
        key=lambda r: (str(r.get("launched") or ""), str(r.get("run"))),
    )
    questions: dict[str, list[dict[str, Value]]] = {}
    for r in chosen:
        questions.setdefault(str(r.get("question") or "(no question)"), []).append(r)
    for runs in questions.values():  # each question's runs by compute
        runs.sort(key=lambda r: (finite(r.get("compute")) or math.inf, str(r.get("run"))))
    shown = {str(r.get("run")) for r in chosen}
    every = method_trends(records, fits, project)
    methods = [t for t in every if any(run in shown for run, _, _ in t.points)]
    span = "(no launch dates yet)"
    if since is not None:
        end = since + dt.timedelta(days=days - 1)
        span = f"{since.isoformat()} to {end.isoformat()} (review_days: {days})"
    rows: list[list[Value]] = [
        [
            "Review: research questions with runs launched "
            + span
            + " or still running. Written by `sheetsync sync` from the Runs tab: edit there."
        ],
        [],
    ]
    if methods:
        rows += [[] for _ in range(CHART_ROWS)] + [[]]
    for question, runs in questions.items():
        rows += [[f"Question: {question}"], list(RUN_HEADER)]
        rows += [_run_row(r) for r in runs]
        mine = [
            t
            for t in methods
            if any((t.baseline, t.method) == (BaselineRef.of_row(r), method_of(r)) for r in runs)
        ]
        if mine:
            rows += [list(METHOD_HEADER)] + [_method_row(t) for t in mine]
        rows.append([])
    if not questions:
        rows += [["No run launched in the window, and none running."], []]
    rows += [["Needs attention (each run once)"], ["run", "what", "detail"]]
    rows += [list(a) for a in attention(chosen)] or [["nothing"]]
    rows += [[], ["How good are the fits?"], ["fit", "rungs", "flags", "largest rung left out"]]
    lines = fit_lines(fits)
    rows += [[name, rungs, flags, largest] for name, rungs, largest, flags in lines] or [
        ["no fit recorded yet"]
    ]
    chart = None
    if methods:
        rows += [
            [],
            ["The chart's data: gain against compute per method (90% interval: low, high)"],
        ]
        chart = _chart_block(rows, methods)
    return ReviewTab(_pad(rows), chart, since, list(questions))


def _chart_block(rows: list[list[Value]], methods: list[MethodTrend]) -> ChartPlan:
    """Append the chart's data (one row per budget, a gain/low/high column trio per method)
    to `rows`; the chart's x is log10 of compute (neither chart API has a log axis in
    common: Google's BasicChartAxis has none)."""
    names = [t.method for t in methods]
    header: list[Value] = ["log10 compute", "compute (FLOPs)"]
    series: list[Series] = []
    for i, t in enumerate(methods):
        label = _label(t, names.count(t.method) > 1)
        for kind in ("gain", "low", "high"):
            name = label if kind == "gain" else f"{label} {kind}"
            series.append(Series(name, len(header) + 1, i, kind))
            header.append(name)
    budgets = sorted({c for t in methods for _, c, _ in t.points})
    ys = [1.0] + [g for t in methods for _, _, g in t.points]
    ends = [v for t in methods for pair in t.intervals if pair for v in pair]
    ys += [v for v in ends if finite(v) is not None]
    xs = [math.log10(c) for c in budgets]
    header_row = len(rows) + 1
    rows.append(header)
    for c in budgets:
        line: list[Value] = [round(math.log10(c), 4), _round(c, -3)]
        for t in methods:
            at = [i for i, (_, pc, _) in enumerate(t.points) if pc == c]
            if not at:
                line += [None, None, None]
                continue
            _, _, g = t.points[at[0]]
            lo, hi = t.intervals[at[0]] or (None, None)
            line += [_number(g), _number(lo), _number(hi)]
        rows.append(line)
    return ChartPlan(
        "Gain against compute per method (90% interval)",
        header_row,
        header_row + 1,
        header_row + len(budgets),
        1,
        tuple(series),
        _bounds(min(xs), max(xs), 0.5),
        _bounds(min(ys), max(ys), 0.05),
    )


def _bounds(low: float, high: float, step: float) -> tuple[float, float]:
    """An axis range holding [low, high] with a margin, on multiples of `step`."""
    pad = max((high - low) * 0.05, step / 2)
    lo = math.floor((low - pad) / step) * step
    hi = math.ceil((high + pad) / step) * step
    return round(lo, 6), round(hi, 6)
