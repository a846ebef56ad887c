"""The demo shows the meeting all of it (verdict words, the above-1 flag, the projection, the
anchored gain, a pinned floor, the Review tab with people's conclusions and its chart), and
`scaling --json`, the report and the Review tab say the same words for every method."""

from __future__ import annotations

import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetsync.demo_project import CONCLUSIONS, build_demo
from sheetsync.project import load_project
from sheetsync.sheet.review_tab import RUN_HEADER
from tests.helpers import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "sheetsync-demo"
    return build_demo(folder)


def tab(demo, name: str) -> list[list]:
    rows = CalamineWorkbook.from_path(str(demo.workbook)).get_sheet_by_name(name).to_python()
    return [list(r) for r in rows]


def review_methods(rows: list[list]) -> dict[str, tuple[str, str]]:
    """method -> (verdict, what is said beside it), from the rows under each `method` header."""
    found, under = {}, False
    for row in rows:
        if under and row[0]:
            found[row[0]] = (row[2], row[3])
        under = (under and bool(row[0])) or row[0] == "method"
    return found


def test_the_demo_log_shows_every_verdict_word_flag_projection_anchored_gain_and_floor(demo):
    log = "\n".join(demo.log)
    assert re.search(r"scaling: .*: (falling|rising|stable|inconclusive)", log)
    assert "above 1 at every budget" in log and "projected at 1e23: " in log
    assert "anchored (" in log and "vs ladder-600m" in log
    assert "(pinned)" in log
    (review,) = [line for line in demo.log if line.startswith("review: ")]
    assert "a chart of gain against compute" in review and "conclusions of" in review


def test_scaling_json_the_report_and_the_review_tab_say_the_same_words(demo):
    project = load_project(demo.folder / "sheetsync.yaml")
    runs = [r[0] for r in tab(demo, "Runs")[1:] if r[0].startswith(("prores-", "lns-"))]
    result = cli(project, "scaling", "--json", *runs)
    assert result.exit_code == 0, result.output
    scaling = {m["method"]: m for m in json.loads(result.output)}
    review = review_methods(tab(demo, "Review"))
    report = (demo.folder / "report" / "report.md").read_text()
    table = report.split("## Does it scale?")[1].split("## ")[0]
    assert set(scaling) == set(review) and len(scaling) == 2
    assert {m["verdict"] for m in scaling.values()} == {"falling", "inconclusive"}
    for method, m in scaling.items():
        verdict, said = review[method]
        assert verdict == m["verdict"]
        assert ("; above 1 at every budget" in said) == m["above_one"]
        projection = m["projection"]
        text = f"projected at 1e23: {projection['gain']:.2f}x [{projection['low']:.2f}-"
        assert text in said
        (row,) = [line for line in table.splitlines() if method.replace("_", r"\_") in line]
        assert f"**{m['verdict']}**" in row and text in row
        assert ("above 1 at every budget" in row) == m["above_one"]
        slope = f"{m['slope']:+.3f} [{m['low']:+.3f}, {m['high']:+.3f}]"
        assert slope in said and slope in row
        text = cli(project, "scaling", *runs).output  # and as `scaling` prints it
        assert f"(90%) {slope}: {m['verdict']}\n" in text


def test_the_review_tab_reads_peoples_conclusions_and_holds_its_chart(demo):
    review: dict[str, list] = {}
    for r in tab(demo, "Review"):  # a run's own row, before its line under Needs attention
        review.setdefault(r[0], r)
    header = tab(demo, "Runs")[0]
    runs = {r[0]: dict(zip(header, r, strict=False)) for r in tab(demo, "Runs")[1:]}
    for run, text in CONCLUSIONS.items():
        assert review[run][RUN_HEADER.index("conclusion")] == text
        assert runs[run]["conclusion"] == text  # the person's cell, as they wrote it
    with zipfile.ZipFile(demo.workbook) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert chart.count("<c:ser>") == 6  # two methods: gain, low, high each
    assert "'Review'!" in chart


def test_the_review_tab_and_the_report_write_each_gain_alike(demo):
    report = (demo.folder / "report" / "report.md").read_text()
    gains = [
        (r[0], r[RUN_HEADER.index(h)])
        for r in tab(demo, "Review")
        for h in ("gain [90%]", "gain (anchored) [90%]")
        if r[0] != "run" and len(r) > 6 and str(r[RUN_HEADER.index(h)]).endswith("]")
    ]
    assert len(gains) == 14  # seven runs with a gain, each anchored to a ladder run
    for run, text in gains:
        assert f"| {run} |" in report and f"| {text} |" in report.split(f"| {run} |")[1]


def test_the_readme_shows_the_review_tab_drawn_from_the_demo(demo, tmp_path):
    readme = (ROOT / "README.md").read_text()
    assert "![The demo's Review tab, drawn by LibreOffice](docs/review.png)" in readme
    assert (ROOT / "docs" / "review.png").read_bytes()[:4] == b"\x89PNG"
    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or poppler absent: the picture is not drawn again here")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from render_docs import render
    finally:
        sys.path.remove(str(ROOT / "tools"))
    png = render(tmp_path / "review.png", 40, demo.workbook)  # python tools/render_docs.py
    from PIL import Image

    image = Image.open(png).convert("RGB")
    assert image.width > image.height > 200  # the tab's columns, its chart and its tables
    red = sum(1 for r, g, b in image.getdata() if r > 180 and g < 80 and b < 80)
    assert red > 20  # ProRes' series, drawn in its colour from the tab's data
