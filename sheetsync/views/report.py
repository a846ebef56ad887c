"""The review-meeting report: what finished since a date, grouped by research question, with
evals, gains, the does-it-scale verdict per method, the runs that need attention, and each
baseline's scaling plot. One self-contained HTML page and a Markdown twin."""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.errors import UsageError
from sheetsync.records.files import output_folder, output_path, write_file
from sheetsync.records.names import BaselineRef, one_line
from sheetsync.science.gain import interval_of
from sheetsync.sheet.meeting import fit_lines
from sheetsync.sheet.read import SheetRows, read_rows
from sheetsync.sheet.verdicts import gain_text
from sheetsync.views.plots import draw, ladder_png
from sheetsync.views.review import MethodTrend, Report, build, method_of, trends
from sheetsync.vocab import Value, finite

if TYPE_CHECKING:
    from sheetsync.project import Project


def _fmt(value: Value, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _gain_html(r: dict[str, Value], key: str = "gain", interval_key: str = "gain_interval") -> str:
    """A gain cell: `1.10x [1.098-1.100x]` kept on one line (a table never breaks inside a
    gain), the notes after it free to wrap."""
    g = finite(r.get(key))
    if g is None:
        return html.escape(_fmt(r.get(key)))
    parts = [p for p in str(r.get(interval_key) or "").split("; ") if p]
    head = f"{g:.2f}x"
    if parts and interval_of(parts[0]) is not None:
        head += f" [{parts.pop(0)}]"
    notes = "; ".join(parts)
    return f"<span class='nb'>{html.escape(head)}</span>" + (
        f" <span class='muted'>{html.escape(notes)}</span>" if notes else ""
    )


def _tone(r: dict[str, Value]) -> str:
    """The gain cell's class: coloured only when its 90% interval is entirely on one side of 1."""
    from sheetsync.science.gain import interval_of, tone

    bounds = interval_of(r.get("gain_interval")) if finite(r.get("gain")) is not None else None
    verdict = tone(*bounds) if bounds else None
    return {"better": " good", "worse": " bad"}.get(verdict or "", "")


def _eval_columns(rows: SheetRows) -> list[tuple[str, str]]:
    return [(c.key, c.header) for c in rows.layout.eval_columns()]


def md(value: object) -> str:
    """Text made inert in Markdown: one line (a newline cannot start a heading), no HTML tag
    (most renderers show raw HTML live), emphasis and table marks backslash-escaped, and link
    syntax broken (`](` and `][`; a line-start link definition cannot occur)."""
    text = one_line(str(value)).replace("&", "&amp;").replace("<", "&lt;")  # `>` is inert
    text = _MD_MARKS.sub(r"\\\g<0>", text)
    return text.replace("](", "]\\(").replace("][", "]\\[")


_MD_MARKS = re.compile(r"[\\`*_|~]")


@dataclass(frozen=True)
class Cell:
    """A table cell as both writers write it: `text`, escaped by each, unless `markdown` or
    `html` gives that writer's own (already escaped) text; `cls`: its HTML class."""

    text: str
    cls: str = ""
    markdown: str | None = None
    html: str | None = None


def _md_table(header: Sequence[Cell], rows: Sequence[Sequence[Cell]]) -> list[str]:
    def line(cells: Sequence[Cell]) -> str:
        return "| " + " | ".join(md(c.text) if c.markdown is None else c.markdown for c in cells)

    return [line(header) + " |", "|" + "---|" * len(header)] + [line(r) + " |" for r in rows]


def _html_table(header: Sequence[Cell], rows: Sequence[Sequence[Cell]]) -> list[str]:
    def cell(tag: str, c: Cell) -> str:
        text = html.escape(c.text) if c.html is None else c.html
        return f"<{tag} class='{c.cls}'>{text}</{tag}>" if c.cls else f"<{tag}>{text}</{tag}>"

    out = ["<table><tr>" + "".join(cell("th", c) for c in header) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", c) for c in r) + "</tr>" for r in rows]
    return [*out, "</table>"]


def _runs_table(
    runs: Sequence[dict[str, Value]], evals: Sequence[tuple[str, str]]
) -> tuple[list[Cell], list[list[Cell]]]:
    """A question's finished runs: the header and a row per run."""
    header = [Cell(h) for h in ("run", "baseline", "changes", "loss", "eval avg")]
    header += [Cell(h) for _, h in evals]
    header += [Cell("gain", html="gain (90%)"), Cell("gain (anchored)"), Cell("checks")]
    anchored = ("gain_anchored", "gain_anchored_interval")
    rows = [
        [
            Cell(str(r["run"]), "id"),
            Cell(BaselineRef.of_row(r), "id"),
            Cell(_fmt(r.get("changes"))),
            Cell(_fmt(r.get("final_loss")), "num"),
            Cell(_fmt(r.get("eval_avg"), 3), "num"),
            *(Cell(_fmt(r.get(k), 3), "num") for k, _ in evals),
            Cell(gain_text(r), "num" + _tone(r), html=_gain_html(r)),
            Cell(gain_text(r, *anchored), "num", html=_gain_html(r, *anchored)),
            Cell(_fmt(r.get("checks"))),
        ]
        for r in runs
    ]
    return header, rows


def _trends_table(trends: Sequence[MethodTrend]) -> tuple[list[Cell], list[list[Cell]]]:
    """Does it scale: per method its gains by compute, the slope and the verdict."""
    e = html.escape
    header = [Cell("baseline"), Cell("method")]
    header += [Cell("gains by compute", html="gain by compute")]
    header += [Cell("slope (90%)", html="slope of log gain vs log compute (90%)")]
    header += [Cell("verdict"), Cell("beside it")]
    rows = []
    for t in trends:
        pts = ", ".join(f"{g:.2f}x @ {c:.1e}" for _, c, g in t.points)
        pts_html = "<br>".join(
            f"<span class='nb'>{e(run)}: {g:.2f}x at {c:.2e} FLOPs</span>" for run, c, g in t.points
        )
        verdict = Cell(t.verdict, e(t.verdict.replace(" ", "-")), f"**{md(t.verdict)}**")
        rows.append(
            [
                Cell(t.baseline, "id"),
                Cell(t.method),
                Cell(pts, html=pts_html),
                Cell(_slope(t), "num"),
                verdict,
                Cell(beside(t)),
            ]
        )
    return header, rows


def _fits_table(rows: SheetRows) -> tuple[list[Cell], list[list[Cell]]]:
    header = [Cell(h) for h in ("fit", "rungs", "largest rung left out", "flags")]
    return header, [[Cell(a), Cell(b, "num"), Cell(c), Cell(d)] for a, b, c, d in fit_checks(rows)]


def to_markdown(rows: SheetRows, report: Report) -> str:
    evals = _eval_columns(rows)
    since = report.since.isoformat() if report.since else "the start"
    out = [f"# Experiment review: runs finished since {since}", ""]
    for question, runs in report.groups.items():
        out += [f"## {md(question)}", "", *_md_table(*_runs_table(runs, evals)), ""]
    out += ["## Does it scale?", ""]
    if report.trends:
        out += _md_table(*_trends_table(report.trends))
    else:
        out.append("No method has gains at two or more compute budgets yet.")
    out += ["", "## Needs attention", ""]
    out += [
        f"- **{md(run)}**: {md(what)} ({md(detail)})" for run, what, detail in report.attention
    ] or ["Nothing."]
    header, fits = _fits_table(rows)
    if fits:
        out += ["", "## How good are the fits?", "", *_md_table(header, fits)]
    return "\n".join(out) + "\n"


def fit_checks(rows: SheetRows) -> list[tuple[str, str, str, str]]:
    """Per baseline's newest fit: its name, rung count, largest rung left out, flags."""
    return fit_lines(rows.fits)


CSS = "".join(
    [
        "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;",
        "max-width:1200px;color:#222;padding:0 1em}",
        "h1{font-size:1.5em}",
        "h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}",
        "table{border-collapse:collapse;width:100%;font-size:.86em}",
        "th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}",
        "th{background:#eef3fb}",
        "td.num{text-align:right;font-variant-numeric:tabular-nums}",
        ".nb,td.id{white-space:nowrap}",
        ".good{background:#dff3e2}",
        ".bad{background:#fbe1e3}",
        ".rising{color:#1a7f37;font-weight:600}",
        ".stable{color:#555;font-weight:600}",
        ".inconclusive,.too-few-budgets{color:#777}",
        ".falling{color:#c0262d;font-weight:600}",
        "img{max-width:100%}",
        ".muted{color:#777}",
    ]
)


def to_html(rows: SheetRows, report: Report) -> str:
    e = html.escape
    evals = _eval_columns(rows)
    since = report.since.isoformat() if report.since else "the start"
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Experiment review since {e(since)}</title><style>{CSS}</style></head><body>",
        f"<h1>Experiment review: runs finished since {e(since)}</h1>",
    ]
    for question, runs in report.groups.items():
        table = _html_table(*_runs_table(runs, evals))
        out += [f"<h2>{e(question)}</h2>" + table[0], *table[1:]]
    out.append("<h2>Does it scale?</h2>")
    if report.trends:
        out += _html_table(*_trends_table(report.trends))
        for baseline, svg in report.gain_plots.items():
            out.append(
                f"<img alt='gain against compute per method, {e(baseline)}' src='{_data(svg)}'>"
            )
    else:
        out.append("<p class='muted'>No method has gains at two or more compute budgets yet.</p>")
    out.append("<h2>Needs attention</h2>")
    if report.attention:
        header = [Cell("run"), Cell("what"), Cell("detail")]
        out += _html_table(
            header, [[Cell(a, "id"), Cell(b), Cell(c)] for a, b, c in report.attention]
        )
    else:
        out.append("<p class='muted'>Nothing.</p>")
    out.append("<h2>Scaling</h2>")
    for baseline, svg in report.plots.items():
        out.append(
            f"<h3>{e(baseline)}</h3><img alt='scaling plot of {e(baseline)}' src='{_data(svg)}'>"
        )
    if not report.plots:
        out.append("<p class='muted'>No baseline ladder in the sheet yet.</p>")
    header, fits = _fits_table(rows)
    if fits:
        table = _html_table(header, fits)
        out += ["<h3>How good are the fits?</h3>" + table[0], *table[1:]]
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _data(svg: str) -> str:
    """A picture as a data URL: the page stays one file, and an <img> runs no script."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    report: Report
    notices: list[str] = field(default_factory=list)


def write_report(
    project: Project, since: dt.date | None = None, out_dir: Path | None = None
) -> ReportFiles:
    """Read the sheet once and write report.html and report.md into `out_dir` (it may be new;
    its parent folder must exist)."""
    out_dir = output_folder(Path(out_dir or project.root / "report"))
    rows = read_rows(project)
    report = build(rows, since, project)
    draw(project, rows, report)
    try:
        out_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot create the report folder ({exc.strerror})") from None
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    write_file(html_path, to_html(rows, report))
    write_file(md_path, to_markdown(rows, report))
    return ReportFiles(html_path, md_path, report, rows.notices)


def scaling_for(
    project: Project, runs: Sequence[str], plot_file: Path | None = None
) -> list[MethodTrend]:
    """The does-it-scale table of the methods of the named runs (or method texts)."""
    if plot_file is not None:
        output_path(Path(plot_file), "--plot")
    rows = read_rows(project)
    by_id = {str(r["run"]): r for r in rows.records}
    wanted = set()
    for name in runs:
        r = by_id.get(name)
        wanted.add((BaselineRef.of_row(r), method_of(r)) if r else name)
    found = [
        t
        for t in trends(rows.records, rows.fits, project)
        if (t.baseline, t.method) in wanted or t.method in wanted
    ]
    if not found:
        raise UsageError(
            "no method of " + ", ".join(runs) + " has gains at two or more compute budgets yet"
        )
    if plot_file is not None:
        report = Report(None, {"": [by_id[p[0]] for t in found for p in t.points]}, found, [])
        write_file(Path(plot_file), ladder_png(project, rows, report, found[0].baseline))
    return found


def _slope(trend: MethodTrend) -> str:
    """A trend's slope with its 90% interval, or nothing when too few points give one."""
    return trend.trend.slope_text()


def beside(trend: MethodTrend) -> str:
    """What goes beside a verdict: `above 1 at every budget` and the projection, if any."""
    parts = [trend.trend.flag, trend.projection.text() if trend.projection else ""]
    return "; ".join(p for p in parts if p)
