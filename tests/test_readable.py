"""Readable in the room: the workbook prints legibly, numbers never touch the next cell's text,
the report's plots keep their labels apart and their legend, its tables keep ids and gains
whole, and each run is listed once under "Needs attention"."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from sheetsync.sheet.read import SheetRows
from sheetsync.views import plots
from sheetsync.views.review import build
from sheetsync.views.svg import RIGHT, WIDTH, Plot
from tests import test_fits_report
from tests.helpers import cli
from tests.test_fits_report import run_at

laddered = test_fits_report.laddered  # the fixture: a ladder, a method at three budgets
SVG = "{http://www.w3.org/2000/svg}"


def test_the_runs_tab_prints_landscape_at_70_percent_with_its_header_and_run_column(laddered):
    long_q = "Does ProRes (progressive residual warm-up) make training more compute efficient?"
    run_at(laddered, "long-q", 2e19, 1.1, changes={"model.qk_norm": True})
    assert cli(laddered, "format").exit_code == 0
    wb = load_workbook(laddered.sheet_target)
    ws = wb["Runs"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.scale >= 70 and not ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == "1:1"
    assert ws.print_title_cols.replace("$", "") == "A:A"
    header = [c.value for c in ws[1]]
    q = header.index("question") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "long-q")
    ws.cell(row, q).value = long_q
    wb.save(laddered.sheet_target)
    assert cli(laddered, "format").exit_code == 0
    ws = load_workbook(laddered.sheet_target)["Runs"]
    assert ws.cell(row, q).alignment.wrap_text
    assert ws.row_dimensions[row].height >= 30  # two lines at least: its lines do not overlap
    # every number format ends in a space: `2.59E+19 unfinished`, `1.10x 1.098-1.100x`
    for key in ("compute (FLOPs)", "final loss", "gain", "gain (anchored)"):
        letter = get_column_letter(header.index(key) + 1)
        assert ws.column_dimensions[letter].number_format.endswith(' "'), key
    assert ws["N2"].number_format == ws.column_dimensions["N"].number_format == '0.00E+00" "'
    stamp = _stamp(laddered.sheet_target)
    assert cli(laddered, "format").exit_code == 0 and _stamp(laddered.sheet_target) == stamp


def _stamp(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _rows(records):
    from sheetsync.layout import load_layout

    return SheetRows(load_layout(None), records, [], [], [])


def test_each_run_is_listed_once_under_needs_attention():
    records = [
        {
            "run": "qk",
            "status": "unfinished: killed at step 3/5",
            "checks": "fail: config drift (optim.lr); warn: stale baseline: b@2 is newer",
            "role": "feature",
            "baseline": "b",
            "baseline_date": "2026-06-01",
            "launched": "2026-10-01 09:00",
        }
    ]
    report = build(_rows(records), dt.date(2026, 1, 1))
    assert [run for run, _, _ in report.attention] == ["qk"]
    run, what, detail = report.attention[0]
    assert what == "unfinished, config drift, stale baseline"
    assert "killed at step 3/5" in detail and "b@2026-06-01" in detail


CROWDED = [  # runs at two budgets, three of them within 1% of each other's compute
    ("prores-150m", 2.7e18, 3.2689),
    ("lns-150m", 2.7e18, 3.2648),
    ("qk-150m", 2.71e18, 3.2660),
    ("prores-400m", 1.92e19, 2.8503),
    ("lns-400m", 1.92e19, 2.8701),
]


def test_labels_of_runs_at_one_budget_do_not_overlap():
    fig, ax = plots._figure()
    points = CROWDED
    ax.scatter([c for _, c, _ in points], [lo for _, _, lo in points])
    ax.set_xscale("log")
    texts = plots.place_labels(ax, points)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert [t.get_text() for t in texts] == [
        p[0] for p in sorted(points, key=lambda p: (p[1], -p[2]))
    ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_the_report_keeps_its_legend_and_its_ids_and_gains_whole(laddered, tmp_path):
    cli(laddered, "fit", "b")
    cli(laddered, "sync")
    assert cli(laddered, "report", "--out", str(tmp_path / "rep")).exit_code == 0
    html = (tmp_path / "rep" / "report.html").read_text()
    assert ".nb,td.id{white-space:nowrap}" in html
    assert "<td class='id'>m-2e+19</td><td class='id'>b@2026-06-01</td>" in html
    assert "<span class='nb'>1.20x [" in html
    # the legend is below the axes, inside the figure: the saved picture holds all of it
    fig, ax = plots._figure()
    ax.plot([1e18, 1e20], [3.0, 2.5], label="fit b@2026-06-01 compute 2026-12-07 90988ff3")
    ax.scatter([1e19], [2.8], label="ladder")
    plots._log_compute_axis(ax)
    plots._legend_below(ax, 8)
    fig.canvas.draw()
    legend = fig.legends[0].get_window_extent()
    canvas = fig.bbox
    assert canvas.x0 <= legend.x0 and legend.x1 <= canvas.x1 and canvas.y0 <= legend.y0
    assert legend.y1 < ax.get_window_extent().y0  # under the axes, covering no point


def test_the_reports_svg_labels_runs_at_one_budget_apart_and_keeps_its_legend():
    plot = Plot("b: ladder", "compute (FLOPs)", "final loss")
    points = CROWDED
    plot.points([c for _, c, _ in points], [lo for _, _, lo in points], "#333", "runs")
    for i in range(7):  # a legend of many long entries, wrapped, never cut
        plot.line([1e18, 1e20], [3.3, 2.8], "#1f77b4", f"fit b@2026-06-01 compute {i} " * 3)
    svg = plot.svg()
    placed = plot.place(points, 9)
    assert [run for run, *_ in placed] == [
        p[0] for p in sorted(points, key=lambda p: (p[1], -p[2]))
    ]
    boxes = [box for *_, box in placed]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    edge = Plot("b", "x", "y")  # a run at the axes' right end: its label to the left
    edge.points([1e18, 1e20], [3.0, 2.5], "#333")
    (_, x, _, box), *_ = edge.place([("a-long-run-id-at-the-edge", 1e20, 2.5)], 9)
    assert box.x1 < WIDTH - RIGHT and x < edge._px(1e20)
    root = ElementTree.fromstring(svg)
    height = float(root.get("height"))
    ys = [float(t.get("y")) for t in root.iter(f"{SVG}text")]
    assert max(ys) < height  # the legend's last line is inside the picture
    said = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for i in range(7):  # each entry whole, wrapped onto lines of its own
        assert " ".join([f"fit b@2026-06-01 compute {i}"] * 3) in said


def test_the_report_draws_without_matplotlib_and_escapes_text_in_its_pictures(laddered, tmp_path):
    cli(laddered, "fit", "b")
    cli(laddered, "sync")
    code = (
        "import sys; from pathlib import Path; from sheetsync.project import load_project;"
        "from sheetsync.views.report import write_report;"
        f"project = load_project(Path({str(laddered.path)!r}));"
        f"write_report(project, out_dir=Path({str(tmp_path)!r}));"
        "print(sorted(m for m in ('matplotlib', 'scipy', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # no plotting library, no scipy.stats for a quantile
    plot = Plot("<script>alert(1)</script> & b", "x", "y")
    plot.points([1e19], [2.0], "#333", "a<b")
    plot.labels([("run<&>", 1e19, 2.0)])
    svg = plot.svg()
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "run&lt;&amp;&gt;" in svg
    ElementTree.fromstring(svg)
