"""The Review tab `sync` keeps, in a local workbook (patched, its chart part opened and drawn
by LibreOffice) and in a Google Sheet (the emulator checks addChart and updateChartSpec
against the discovery document), and a sync that changes nothing writing nothing there."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from python_calamine import CalamineWorkbook

from sheetsync.project import load_project
from sheetsync.sheet.backends.xlsx import patch_cells
from sheetsync.sheet.init import init_sheet, write_project_files
from sheetsync.sheet.review_tab import review_grid, window
from tests.conftest import BASE
from tests.helpers import cli, write_run
from tests.sheets_emulator import Emulator
from tests.test_fits_report import run_at
from tests.xlsx_helpers import changed_parts, needs_libreoffice

AUTH = {"Authorization": "Bearer any"}  # the emulator accepts any bearer token
KEY = "1ReviewTabReviewTabReviewTabReviewTab0123"
PARTS = {"Runs": "xl/worksheets/sheet1.xml", "_sheetsync": "xl/worksheets/sheet4.xml",
         "Review": "xl/worksheets/sheet5.xml", "chart": "xl/charts/chart1.xml"}  # fmt: skip


def ladder_and_method(project) -> None:
    """A fitted ladder; a method whose gain grows 1.10 -> 1.20 -> 1.30 over three budgets;
    a run killed early; then a sync that fills the gains (and the Review tab)."""
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20, 3e20]):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 * (i + 1)})
    for c, k in [(2e18, 1.10), (2e19, 1.20), (2e20, 1.30)]:
        changes = {"model.prores": True, "model.d_model": int(c / 1e16)}
        run_at(project, f"m-{c:.0e}", c, k, changes=changes)
    run_at(project, "killed", 2e19, 1.2, changes={"model.qk_norm": True}, step=300, state="killed")
    assert cli(project, "sync").exit_code == 0
    assert cli(project, "fit", "b").exit_code == 0
    assert cli(project, "sync").exit_code == 0


def review_of(path: Path) -> list[list]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Review").to_python()
    return [[v for v in row if v != ""] for row in rows]


def runs_of(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Runs").to_python()


def gain_of(row: list) -> float:
    """The gain of a run's row: `1.20x [1.180-1.220x]`."""
    return float(row[4].split("x")[0])


def find(rows: list[list], first: str) -> list:
    return next(r for r in rows if r and r[0] == first)


@pytest.fixture
def reviewed(project):
    ladder_and_method(project)
    return project


def test_review_tab_holds_runs_verdicts_attention_fits_and_people_conclusions(reviewed):
    book = Path(reviewed.sheet_target)
    runs = runs_of(book)
    header = runs[0]
    row = next(i for i, r in enumerate(runs, 1) if r[0] == "m-2e+19")
    col = header.index("conclusion") + 1
    patch_cells(book, book, {"Runs": {(row, col): "helps, and more at scale"}})
    assert cli(reviewed, "sync").exit_code == 0
    review = review_of(book)
    assert review[0][0].startswith("Review: research questions with runs launched")
    assert ["Question: question of m-2e+19"] in review
    run = find(review, "m-2e+19")
    assert run[1:3] == ["b@2026-06-01", "2e+19"]  # written as the report writes them
    gain, interval = run[4].split("x [", 1)  # gain (loss, eval avg: no evals here)
    assert float(gain) == pytest.approx(1.20, abs=0.01) and re.fullmatch(
        r"[\d.]+-[\d.]+x\]", interval
    )
    assert run[-3:-1] == ["finished", "ok"]  # status, checks
    assert run[-1] == "helps, and more at scale"  # the people's conclusion, read from Runs
    assert runs_of(book)[row - 1][col - 1] == "helps, and more at scale"  # Runs never written
    method = find(review, "model.prores: false -> true")  # under each of its runs' questions
    assert sum(1 for r in review if r and r[0] == method[0]) == 3
    assert method[1:3] == ["b@2026-06-01", "rising"]
    assert method[3].startswith("3 budgets; slope +") and "; above 1 at every budget" in method[3]
    attention = review[review.index(["Needs attention (each run once)"]) + 2 :]
    assert [r[0] for r in attention[: attention.index([])]] == ["killed"]
    fits = review[review.index(["How good are the fits?"]) + 2]
    assert fits[0].startswith("b@2026-06-01 compute") and fits[1:3] == ["6", "none"]
    assert "ladder-0" not in {r[0] for r in review if r}  # ladder rungs are the fit, not runs


def test_a_sync_that_changes_nothing_writes_nothing(reviewed):
    book = Path(reviewed.sheet_target)
    before = book.read_bytes()
    result = cli(reviewed, "sync")
    assert result.exit_code == 0 and "up to date" in result.output
    assert book.read_bytes() == before


def test_a_new_result_rewrites_review_cells_only_and_its_chart_part_stays(reviewed, tmp_path):
    book = Path(reviewed.sheet_target)
    old = tmp_path / "old.xlsx"
    old.write_bytes(book.read_bytes())
    folder = reviewed.runs_dir / "m-2e+19"
    results = json.loads((folder / "results.json").read_text())
    results["final_loss"] -= 0.004  # a better loss: a larger gain, the same budgets
    (folder / "results.json").write_text(json.dumps(results))
    assert cli(reviewed, "sync").exit_code == 0
    assert changed_parts(old, book) == {PARTS["Runs"], PARTS["_sheetsync"], PARTS["Review"]}
    assert gain_of(find(review_of(book), "m-2e+19")) > gain_of(find(review_of(old), "m-2e+19"))


def test_a_new_budget_rewrites_the_chart_part_and_every_other_part_stays(reviewed, tmp_path):
    book = Path(reviewed.sheet_target)
    old = tmp_path / "old.xlsx"
    old.write_bytes(book.read_bytes())
    run_at(reviewed, "m-6e+20", 6e20, 1.35, changes={"model.prores": True, "model.d_model": 6})
    assert cli(reviewed, "sync").exit_code == 0
    # the new run's row, its state, the tab, and the chart (four budgets now): nothing else
    assert changed_parts(old, book) == {
        PARTS["Runs"], PARTS["_sheetsync"], PARTS["Review"], PARTS["chart"]
    }  # fmt: skip
    with zipfile.ZipFile(book) as zf:
        chart = zf.read(PARTS["chart"]).decode()
    data = next(i for i, r in enumerate(review_of(book), 1) if r and r[0] == "log10 compute")
    assert f"<c:f>'Review'!$A${data + 1}:$A${data + 4}</c:f>" in chart


def test_the_first_chart_adds_its_parts_and_every_other_part_stays(project, tmp_path):
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20, 3e20]):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 * (i + 1)})
    for c, k in [(2e18, 1.10), (2e19, 1.20), (2e20, 1.30)]:
        run_at(project, f"m-{c:.0e}", c, k, changes={"model.prores": True, "model.d_model": 7})
    assert cli(project, "sync").exit_code == 0 and cli(project, "fit", "b").exit_code == 0
    book = Path(project.sheet_target)
    old = tmp_path / "old.xlsx"
    old.write_bytes(book.read_bytes())
    with zipfile.ZipFile(old) as zf:
        assert PARTS["chart"] not in zf.namelist()  # no gains yet: no chart
    assert cli(project, "sync").exit_code == 0  # the gains, hence the methods and the chart
    added = {PARTS["chart"], "xl/drawings/drawing1.xml", "xl/drawings/_rels/drawing1.xml.rels",
             "xl/worksheets/_rels/sheet5.xml.rels"}  # fmt: skip
    assert changed_parts(old, book) == {
        PARTS["Runs"], PARTS["_sheetsync"], PARTS["Review"], "[Content_Types].xml", *added
    }  # fmt: skip


def test_the_chart_part_reads_its_data_from_the_review_tab(reviewed):
    with zipfile.ZipFile(reviewed.sheet_target) as zf:
        chart = zf.read(PARTS["chart"]).decode()
        types = zf.read("[Content_Types].xml").decode()
        sheet_rels = zf.read("xl/worksheets/_rels/sheet5.xml.rels").decode()
        drawing_rels = zf.read("xl/drawings/_rels/drawing1.xml.rels").decode()
    review = review_of(Path(reviewed.sheet_target))
    data = next(i for i, r in enumerate(review, 1) if r and r[0] == "log10 compute")
    assert f"<c:f>'Review'!$A${data + 1}:$A${data + 3}</c:f>" in chart  # three budgets
    assert chart.count("<c:ser>") == 3  # the method's gain, and its interval's two ends
    assert "drawingml.chart+xml" in types and "drawing+xml" in types
    assert "../drawings/drawing1.xml" in sheet_rels and "../charts/chart1.xml" in drawing_rels


@needs_libreoffice
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler) absent")
def test_libreoffice_opens_and_draws_the_chart(reviewed, office_profile, tmp_path):
    from PIL import Image

    export = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
    subprocess.run(
        ["soffice", f"-env:UserInstallation={office_profile}", "--headless", "--convert-to",
         export, "--outdir", str(tmp_path), reviewed.sheet_target],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "experiments.pdf"
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    last = int(next(x for x in pages.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    subprocess.run(
        ["pdftoppm", "-f", str(last), "-l", str(last), "-r", "50", "-png", str(pdf),
         str(tmp_path / "review")], check=True, timeout=120,
    )  # fmt: skip
    (png,) = tmp_path.glob("review*.png")
    image = Image.open(png).convert("RGB")
    blue = sum(
        1
        for r, g, b in image.getdata()
        if abs(r - 0x1F) < 24 and abs(g - 0x77) < 24 and abs(b - 0xB4) < 24
    )
    assert blue > 30  # the method's line and markers, in its colour, drawn from the tab


def test_the_window_counts_back_from_the_newest_launch_and_keeps_running_runs():
    records = [
        {"run": "old", "launched": "2026-01-01 09:00", "status": "finished", "question": "q1"},
        {"run": "slow", "launched": "2026-01-02 09:00", "status": "running", "question": "q2"},
        {"run": "new", "launched": "2026-03-10 09:00", "status": "finished", "question": "q3"},
        {"run": "edge", "launched": "2026-02-25", "status": "finished", "question": "q4"},
    ]
    today = dt.date(2026, 6, 1)
    assert window(records, 14, today) == dt.date(2026, 2, 25)
    tab = review_grid(records, [], 14, today)
    assert tab.questions == ["q2", "q4", "q3"] and tab.chart is None  # in launch order
    assert review_grid(records[::-1], [], 14, today).grid == tab.grid  # a sort changes nothing
    assert window(records, 14, dt.date(2026, 3, 1)) == dt.date(2026, 2, 16)  # never past today


def launched_on(project, run_id: str, day: str) -> None:
    """Add a finished run whose launch.json says it was launched on `day`."""
    folder = write_run(project, run_id, changes={"model.prores": True})
    launch = json.loads((folder / "launch.json").read_text())
    (folder / "launch.json").write_text(json.dumps({**launch, "launched_at": f"{day} 10:00"}))
    assert cli(project, "add", str(folder), "-q", f"q-{run_id}", "-b", "b", "--yes").exit_code == 0


def test_review_days_in_sheetsync_yaml_sets_the_window(project):
    launched_on(project, "september", "2026-09-20")
    launched_on(project, "october", "2026-10-25")
    launched_on(project, "november", "2026-11-01")
    assert cli(project, "sync").exit_code == 0
    review = review_of(Path(project.sheet_target))
    assert "launched 2026-10-19 to 2026-11-01 (review_days: 14)" in review[0][0]
    shown = [r[0] for r in review if r and str(r[0]).startswith("Question: ")]
    assert shown == ["Question: q-october", "Question: q-november"]
    project.path.write_text(project.path.read_text().replace("review_days: 14", "review_days: 60"))
    assert cli(project, "sync").exit_code == 0
    review = review_of(Path(project.sheet_target))
    assert "(review_days: 60)" in review[0][0]
    shown = [r[0] for r in review if r and str(r[0]).startswith("Question: ")]
    assert shown == ["Question: q-september", "Question: q-october", "Question: q-november"]


@pytest.mark.parametrize("value", ["0", "two weeks", "true", "14.5", "4000"])
def test_a_bad_review_days_is_a_one_line_error(project, value):
    text = project.path.read_text().replace("review_days: 14", f"review_days: {value}")
    project.path.write_text(text)
    result = cli(project, "sync")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.strip().endswith("review_days must be a whole number of days, 1-3650")
    assert len(result.output.strip().splitlines()) == 1


# --- Google Sheets ---------------------------------------------------------------------------


@pytest.fixture
def emulator(monkeypatch):
    emu = Emulator()
    emu.create(KEY)
    emu.books[KEY].add_sheet("Sheet1")
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


@pytest.fixture
def greviewed(tmp_path, emulator):
    root = tmp_path / "proj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit"
    config.write_text(config.read_text().replace("  local: experiments.xlsx", f"  google: {url}"))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(config)
    init_sheet(project)
    ladder_and_method(project)
    return project


def google_review(emulator) -> list[list]:
    grid = emulator.books[KEY].sheet("Review").grid()
    return [[v for v in row if v not in ("", None)] for row in grid]


def test_google_review_tab_and_its_chart_added_once(greviewed, emulator):
    sheet = emulator.books[KEY].sheet("Review")
    review = google_review(emulator)
    assert find(review, "model.prores: false -> true")[1:3] == ["b@2026-06-01", "rising"]
    assert any(r[:2] == ["killed", "unfinished"] for r in review)  # needs attention
    (chart,) = sheet.charts
    basic = chart["spec"]["basicChart"]
    assert basic["chartType"] == "SCATTER" and len(basic["series"]) == 3
    (domain,) = [d["domain"]["sourceRange"]["sources"][0] for d in basic["domains"]]
    data = next(i for i, r in enumerate(review) if r and r[0] == "log10 compute")
    assert domain == {"sheetId": sheet.sheet_id, "startRowIndex": data, "endRowIndex": data + 4,
                      "startColumnIndex": 0, "endColumnIndex": 1}  # fmt: skip  # header + 3
    anchor = chart["position"]["overlayPosition"]["anchorCell"]
    assert anchor == {"sheetId": sheet.sheet_id, "rowIndex": 2, "columnIndex": 0}


def test_google_second_sync_sends_nothing(greviewed, emulator):
    emulator.reset_counts()
    assert cli(greviewed, "sync").exit_code == 0
    assert emulator.writes() == 0 and emulator.reads() == 2  # the sync's own read


def test_google_chart_is_updated_in_place_when_its_data_moves(greviewed, emulator):
    (before,) = emulator.books[KEY].sheet("Review").charts
    before = json.loads(json.dumps(before))
    run_at(greviewed, "m-6e+20", 6e20, 1.35, changes={"model.prores": True, "model.d_model": 6})
    emulator.reset_counts()
    assert cli(greviewed, "sync").exit_code == 0
    (after,) = emulator.books[KEY].sheet("Review").charts  # one chart still: updated, not added
    assert after["chartId"] == before["chartId"] and after["position"] == before["position"]
    domain = after["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"][0]
    was = before["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"][0]
    assert domain["endRowIndex"] - domain["startRowIndex"] == 5  # header + four budgets
    assert domain["startRowIndex"] > was["startRowIndex"]  # a row more above: the new run
    # the sync's read, write (and its check), then the chart: one read, one updateChartSpec
    assert emulator.counts["batchUpdate"] == 2 and emulator.counts["get"] == 2


def test_emulator_refuses_a_chart_spec_the_discovery_document_does_not_know(emulator):
    import requests

    url = f"{emulator.base}/v4/spreadsheets/{KEY}:batchUpdate"
    body = {"requests": [{"addChart": {"chart": {"spec": {"basicChart": {"chartKind": "X"}}}}}]}
    reply = requests.post(url, json=body, headers=AUTH)
    message = reply.json()["error"]["message"]
    assert reply.status_code == 400 and 'Unknown name "chartKind"' in message
    bad = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0,
           "endColumnIndex": 2}  # fmt: skip  # two columns: not one series
    series = [{"series": {"sourceRange": {"sources": [bad]}}}]
    spec = {"basicChart": {"chartType": "SCATTER", "series": series}}
    position = {"overlayPosition": {"anchorCell": {"sheetId": 0}}}
    body = {"requests": [{"addChart": {"chart": {"spec": spec, "position": position}}}]}
    reply = requests.post(url, json=body, headers=AUTH)
    assert reply.status_code == 400 and "exactly one dimension" in reply.text
    assert emulator.books[KEY].sheets[0].charts == []
