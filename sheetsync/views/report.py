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


def to_markdown(rows: SheetRows, report: Report) -> str:
    evals = _eval_columns(rows)
    since = report.since.isoformat() if report.since else "the start"
    out = [f"# Experiment review: runs finished since {since}", ""]
    for question, runs in report.groups.items():
        out += [
            f"## {md(question)}",
            "",
            "| run | baseline | changes | loss | eval avg | "
            + " | ".join(md(h) for _, h in evals)
            + " | gain | gain (anchored) | checks |",
            "|" + "---|" * (8 + len(evals)),
        ]
        for r in runs:
            cells = [
                str(r["run"]),
                BaselineRef.of_row(r),
                _fmt(r.get("changes")),
                _fmt(r.get("final_loss")),
                _fmt(r.get("eval_avg"), 3),
                *(_fmt(r.get(k), 3) for k, _ in evals),
                gain_text(r),
                gain_text(r, "gain_anchored", "gain_anchored_interval"),
                _fmt(r.get("checks")),
            ]
            out.append("| " + " | ".join(md(c) for c in cells) + " |")
        out.append("")
    out += ["## Does it scale?", ""]
    if report.trends:
        out += [
            "| baseline | method | gains by compute | slope (90%) | verdict | beside it |",
            "|---|---|---|---|---|---|",
        ]
        for t in report.trends:
            pts = ", ".join(f"{g:.2f}x @ {c:.1e}" for _, c, g in t.points)
            slope = _slope(t)
            out.append(
                f"| {md(t.baseline)} | {md(t.method)} | {md(pts)} | {md(slope)} | "
                f"**{md(t.verdict)}** | {md(beside(t))} |"
            )
    else:
        out.append("No method has gains at two or more compute budgets yet.")
    out += ["", "## Needs attention", ""]
    out += [
        f"- **{md(run)}**: {md(what)} ({md(detail)})" for run, what, detail in report.attention
    ] or ["Nothing."]
    fits = fit_checks(rows)
    if fits:
        out += ["", "## How good are the fits?", ""]
        out += ["| fit | rungs | largest rung left out | flags |", "|---|---|---|---|"]
        out += [f"| {md(a)} | {md(b)} | {md(c)} | {md(d)} |" for a, b, c, d in fits]
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
        out.append(
            f"<h2>{e(question)}</h2><table><tr><th>run</th><th>baseline</th>"
            "<th>changes</th><th>loss</th><th>eval avg</th>"
            + "".join(f"<th>{e(h)}</th>" for _, h in evals)
            + "<th>gain (90%)</th><th>gain (anchored)</th><th>checks</th></tr>"
        )
        for r in runs:
            tone = _tone(r)
            out.append(
                f"<tr><td class='id'>{e(str(r['run']))}</td>"
                f"<td class='id'>{e(BaselineRef.of_row(r))}</td>"
                f"<td>{e(_fmt(r.get('changes')))}</td>"
                f"<td class='num'>{e(_fmt(r.get('final_loss')))}</td>"
                f"<td class='num'>{e(_fmt(r.get('eval_avg'), 3))}</td>"
                + "".join(f"<td class='num'>{e(_fmt(r.get(k), 3))}</td>" for k, _ in evals)
                + f"<td class='num{tone}'>{_gain_html(r)}</td>"
                + f"<td class='num'>{_gain_html(r, 'gain_anchored', 'gain_anchored_interval')}</td>"
                + f"<td>{e(_fmt(r.get('checks')))}</td></tr>"
            )
        out.append("</table>")
    out.append("<h2>Does it scale?</h2>")
    if report.trends:
        out.append(
            "<table><tr><th>baseline</th><th>method</th><th>gain by compute</th>"
            "<th>slope of log gain vs log compute (90%)</th><th>verdict</th><th>beside it</th>"
            "</tr>"
        )
        for t in report.trends:
            pts = "<br>".join(
                f"<span class='nb'>{e(run)}: {g:.2f}x at {c:.2e} FLOPs</span>"
                for run, c, g in t.points
            )
            slope = _slope(t)
            out.append(
                f"<tr><td class='id'>{e(t.baseline)}</td><td>{e(t.method)}</td><td>{pts}</td>"
                f"<td class='num'>{e(slope)}</td><td class='{e(t.verdict.replace(' ', '-'))}'>"
                f"{e(t.verdict)}</td><td>{e(beside(t))}</td></tr>"
            )
        out.append("</table>")
        for baseline, svg in report.gain_plots.items():
            out.append(
                f"<img alt='gain against compute per method, {e(baseline)}' src='{_data(svg)}'>"
            )
    else:
        out.append("<p class='muted'>No method has gains at two or more compute budgets yet.</p>")
    out.append("<h2>Needs attention</h2>")
    if report.attention:
        out.append("<table><tr><th>run</th><th>what</th><th>detail</th></tr>")
        out += [
            f"<tr><td class='id'>{e(run)}</td><td>{e(what)}</td><td>{e(detail)}</td></tr>"
            for run, what, detail in report.attention
        ]
        out.append("</table>")
    else:
        out.append("<p class='muted'>Nothing.</p>")
    out.append("<h2>Scaling</h2>")
    for baseline, svg in report.plots.items():
        out.append(
            f"<h3>{e(baseline)}</h3><img alt='scaling plot of {e(baseline)}' src='{_data(svg)}'>"
        )
    if not report.plots:
        out.append("<p class='muted'>No baseline ladder in the sheet yet.</p>")
    fits = fit_checks(rows)
    if fits:
        out.append(
            "<h3>How good are the fits?</h3><table><tr><th>fit</th><th>rungs</th>"
            "<th>largest rung left out</th><th>flags</th></tr>"
        )
        out += [
            f"<tr><td>{e(a)}</td><td class='num'>{e(b)}</td><td>{e(c)}</td><td>{e(d)}</td></tr>"
            for a, b, c, d in fits
        ]
        out.append("</table>")
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
