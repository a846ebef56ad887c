"""A workbook a person decorated is attached to a project and synced through the CLI: the
changed cells are right, every other part of the file is byte for byte what it was, and
LibreOffice recalculates the person's formulas to the new values."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from sheetsync.project import Project, load_project
from sheetsync.sheet.backends.local_save import MAX_ROW, check_cells
from sheetsync.sheet.grid import CellWrite, column_letter
from sheetsync.sheet.init import write_project_files
from tests.helpers import BASE, cli, write_run
from tests.xlsx_helpers import (
    SOFFICE,
    changed_parts,
    libreoffice_csv,
    members,
    needs_libreoffice,
    tiny_png,
    xlsxwriter_or_skip,
)

LOSSES = {"r1": 2.4, "r2": 2.2, "r3": 2.0}
PART = {tab: f"xl/worksheets/sheet{i}.xml" for i, tab in enumerate(
    ["Runs", "Summary", "Baselines", "Scaling", "_sheetsync"], 1)}  # fmt: skip
REVIEW = "xl/worksheets/sheet6.xml"  # the Review tab `init` adds to a decorated workbook


def _project(tmp_path: Path, book: str = "experiments.xlsx") -> Project:
    root = tmp_path / "proj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    config.write_text(config.read_text().replace("experiments.xlsx", book))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(config)
    for run_id, loss in LOSSES.items():
        write_run(project, run_id, loss=loss)
    return project


def decorated_book(
    project: Project, vba: bytes | None = None, sheetsync_tabs: bool = True
) -> dict[str, int]:
    """The team's own workbook, attached to sheetsync: runs r1 and r2 typed in by people (r2's
    id a HYPERLINK to its dashboard), a text box, an image, a comment, rich text, a data bar, a
    validation list, a hyperlink, and a Summary tab whose formulas and chart read the losses
    through a defined name. Returns the column index (0-based) of each layout key."""
    xlsxwriter = xlsxwriter_or_skip()
    layout = project.layout()
    col = {c.key: i for i, c in enumerate(layout.runs.columns)}
    loss = column_letter(col["final_loss"] + 1)
    image = project.root / "dot.png"
    image.write_bytes(tiny_png())
    wb = xlsxwriter.Workbook(project.sheet_target)
    wb.set_custom_property("project", "ladder")
    head = wb.add_format({"bold": True, "bg_color": "#DDE7F5"})
    red = wb.add_format({"color": "red", "bold": True})
    runs = wb.add_worksheet("Runs")
    runs.write_row(0, 0, [c.header for c in layout.runs.columns], head)
    runs.write(1, col["run"], "r1")
    runs.write_formula(2, col["run"], '=HYPERLINK("https://runs.example/r2","r2")', None, "r2")
    for row in (1, 2):
        runs.write(row, col["question"], "Does the new tokenizer help?")
    runs.write_rich_string(1, col["notes"], "loss ", red, "diverged", " at step 40")
    runs.write_url(2, col["notes"], "https://runs.example/r2/logs", string="logs")
    runs.write_comment(0, col["final_loss"], "from results.json, written by sheetsync")
    runs.conditional_format(
        1, col["final_loss"], 200, col["final_loss"], {"type": "data_bar", "data_bar_2010": True}
    )
    runs.data_validation(
        1, col["conclusion"], 200, col["conclusion"],
        {"validate": "list", "source": ["helps", "no effect", "redo"]},
    )  # fmt: skip
    runs.insert_textbox("B8", "Oct/Nov: rerun r2 with the new tokenizer")
    runs.insert_image("E8", str(image))
    summary = wb.add_worksheet("Summary")
    summary.write_column("A1", ["mean loss", "best loss", "runs with a loss"])
    summary.write_formula("B1", "=AVERAGE(losses)", None, 0)
    summary.write_formula("B2", f"=MIN(Runs!{loss}:{loss})", None, 0)
    summary.write_formula("B3", "=COUNT(losses)", None, 0)
    wb.define_name("losses", f"=Runs!${loss}$2:${loss}$200")
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"name": "loss", "values": f"=Runs!${loss}$2:${loss}$10"})
    summary.insert_chart("D2", chart)
    if sheetsync_tabs:
        for table in (layout.baselines, layout.scaling):
            wb.add_worksheet(table.tab).write_row(0, 0, [c.header for c in table.columns], head)
        state = wb.add_worksheet(layout.state_tab)
        state.write_row(0, 0, ["tab", "key", "written"])
        state.hide()
    if vba is not None:
        (project.root / "vbaProject.bin").write_bytes(vba)
        wb.add_vba_project(str(project.root / "vbaProject.bin"))
    wb.close()
    return col


def _values(project: Project, tab: str = "Runs") -> list[tuple]:
    ws = load_workbook(project.sheet_target, data_only=True)[tab]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def attached(tmp_path: Path) -> tuple[Project, dict[str, int]]:
    project = _project(tmp_path)
    col = decorated_book(project)
    before = Path(project.sheet_target).read_bytes()
    result = cli(project, "init")
    assert result.exit_code == 0, result.output
    assert "not formatted" in result.output and "text boxes and shapes (1)" in result.output
    (project.root / "before-init.xlsx").write_bytes(before)
    assert changed_parts(project.root / "before-init.xlsx", Path(project.sheet_target)) == {
        REVIEW, "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
    }  # fmt: skip  # attaching adds the Review tab by patching, and changes nothing else
    return project, col


def test_sync_of_a_decorated_workbook_changes_only_its_cells(attached, office_profile):
    project, col = attached
    book = Path(project.sheet_target)
    original = project.root / "original.xlsx"
    original.write_bytes(book.read_bytes())
    added = cli(project, "add", str(project.runs_dir / "r3"), "-q", "Tokenizer at 1B?", "-b", "b",
                "--yes")  # fmt: skip
    assert added.exit_code == 0, added.output
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    rows = _values(project)
    assert [r[col["run"]] for r in rows[1:]] == ["r1", "r2", "r3"]
    assert [r[col["final_loss"]] for r in rows[1:]] == [2.4, 2.2, 2.0]
    assert [r[col["status"]] for r in rows[1:]] == ["finished"] * 3
    assert rows[1][col["notes"]] == "loss diverged at step 40"
    assert changed_parts(original, book) == {
        PART["Runs"], PART["Summary"], PART["_sheetsync"], REVIEW  # r3 is in the Review tab
    }  # fmt: skip
    kept = members(original)
    assert {"xl/drawings/drawing1.xml", "xl/charts/chart1.xml", "xl/comments1.xml",
            "xl/sharedStrings.xml", "xl/media/image1.png", "docProps/custom.xml",
            "xl/styles.xml", "xl/workbook.xml"} <= kept.keys()  # fmt: skip
    with zipfile.ZipFile(book) as zf:
        summary = zf.read(PART["Summary"]).decode()
        runs_xml = zf.read(PART["Runs"]).decode()
    assert summary.count("<f>") == 3 and "</f><v>" not in summary  # stale caches dropped
    assert "x14:dataBar" in runs_xml and "<dataValidation " in runs_xml
    assert "HYPERLINK" in runs_xml  # r2's run cell is still the person's formula

    write_run(project, "r2", loss=1.8)
    before = book.read_bytes()
    again = cli(project, "sync")
    assert again.exit_code == 0, again.output
    assert "r2 (row 3)" in again.output and "r1 (row 2)" not in again.output
    assert [r[col["final_loss"]] for r in _values(project)[1:]] == [2.4, 1.8, 2.0]
    (project.root / "before.xlsx").write_bytes(before)
    # r1 and r2 have no launch date: the Review tab lists only r3, and is left as it was
    assert changed_parts(project.root / "before.xlsx", book) == {PART["Runs"], PART["_sheetsync"]}


def test_init_adds_missing_tabs_to_a_decorated_workbook_without_losing_anything(
    tmp_path, office_profile
):
    project = _project(tmp_path)
    col = decorated_book(project, sheetsync_tabs=False)
    book = Path(project.sheet_target)
    original = project.root / "original.xlsx"
    original.write_bytes(book.read_bytes())
    result = cli(project, "init")  # no --force: adding tabs drops nothing
    assert result.exit_code == 0, result.output
    new_parts = {f"xl/worksheets/sheet{i}.xml" for i in (3, 4, 5, 6)}
    assert changed_parts(original, book) == {
        "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", *new_parts
    }  # fmt: skip
    wb = load_workbook(book)
    layout = project.layout()
    assert wb.sheetnames == ["Runs", "Summary", layout.baselines.tab, layout.scaling.tab,
                             layout.state_tab, layout.review_tab]  # fmt: skip
    assert wb[layout.state_tab].sheet_state == "hidden"
    assert wb["Runs"].sheet_state == "visible"
    assert [c.value for c in wb[layout.baselines.tab][1]][:1] == ["baseline"]  # header written
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    assert [r[col["final_loss"]] for r in _values(project)[1:]] == [2.4, 2.2]
    if SOFFICE is not None:
        tabs = libreoffice_csv(book, office_profile)
        assert {"Runs", "Summary", layout.baselines.tab, layout.state_tab} <= tabs.keys()


@needs_libreoffice
def test_libreoffice_recalculates_the_summary_after_a_sync(attached, office_profile):
    project, _ = attached
    cli(project, "add", str(project.runs_dir / "r3"), "-q", "q", "-b", "b", "--yes")
    assert cli(project, "sync").exit_code == 0
    summary = {row[0]: row[1] for row in libreoffice_csv(Path(project.sheet_target),
                                                          office_profile)["Summary"]}  # fmt: skip
    assert float(summary["mean loss"]) == pytest.approx(sum(LOSSES.values()) / 3)
    assert float(summary["best loss"]) == 2.0
    assert float(summary["runs with a loss"]) == 3


def test_a_hyperlink_run_id_is_read_as_its_text_so_add_makes_no_second_row(attached):
    project, col = attached
    book = Path(project.sheet_target)
    before = book.read_bytes()
    again = cli(project, "add", str(project.runs_dir / "r2"), "-q", "q", "-b", "b", "--yes")
    assert again.exit_code == 1
    assert "Runs tab: run 'r2' is already in row 3" in again.output
    assert book.read_bytes() == before
    ls = cli(project, "ls", "--json")
    assert ls.exit_code == 0, ls.output
    assert [r["run"] for r in json.loads(ls.output)] == ["r1", "r2"]


def test_merged_result_cells_are_reported_and_the_rest_syncs(project):
    for run_id in ("r1", "r2"):
        write_run(project, run_id, loss=LOSSES[run_id])
        assert cli(project, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b",
                   "--yes").exit_code == 0  # fmt: skip
    layout = project.layout()
    loss = column_letter(next(i for i, c in enumerate(layout.runs.columns, 1)
                              if c.key == "final_loss"))  # fmt: skip
    status = column_letter(next(i for i, c in enumerate(layout.runs.columns, 1)
                                if c.key == "status"))  # fmt: skip
    wb = load_workbook(project.sheet_target)
    wb["Runs"].merge_cells(f"{status}2:{loss}2")  # a person's note across r1's results
    wb.save(project.sheet_target)

    first = cli(project, "sync")
    assert first.exit_code == 0, first.output
    refused = f"inside merged cells {status}2:{loss}2; unmerge them"
    assert f"conflict: r1 / final loss ({loss}2): {refused}" in first.output
    ws = load_workbook(project.sheet_target)["Runs"]
    assert ws[f"{loss}3"].value == 2.2 and ws[f"{loss}2"].value is None  # the rest synced
    second = cli(project, "sync")  # not taken for a person's edit: refused again, as refused
    assert f"conflict: r1 / final loss ({loss}2): {refused}" in second.output
    assert "edited by a person" not in second.output

    wb = load_workbook(project.sheet_target)
    wb["Runs"].unmerge_cells(f"{status}2:{loss}2")
    wb.save(project.sheet_target)
    third = cli(project, "sync")
    assert third.exit_code == 0 and "conflict" not in third.output, third.output
    assert load_workbook(project.sheet_target)["Runs"][f"{loss}2"].value == 2.4


def _unpatchable(book: Path) -> None:
    """Give the Runs tab an XML comment: valid, but a shape the patcher does not handle."""
    tmp = book.with_suffix(".tmp.zip")
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == PART["Runs"]:
                body = body.replace(b"<sheetData>", b"<!-- kept by hand --><sheetData>")
            zout.writestr(info, body)
    tmp.replace(book)


def test_the_openpyxl_fallback_names_what_it_would_drop_and_needs_force(attached):
    project, col = attached
    book = Path(project.sheet_target)
    _unpatchable(book)
    before = book.read_bytes()
    refused = cli(project, "sync")
    assert refused.exit_code == 1
    message = refused.output.strip().splitlines()[-1]
    assert "cannot patch it in place" in message and "XML comments" in message
    assert "text boxes and shapes (1)" in message and "Excel 2010 extensions" in message
    assert "pass --force" in message
    assert book.read_bytes() == before
    forced = cli(project, "sync", "--force")
    assert forced.exit_code == 0, forced.output
    assert "dropped (--force): text boxes and shapes (1)" in forced.output
    assert [r[col["final_loss"]] for r in _values(project)[1:3]] == [2.4, 2.2]


def test_a_macro_workbook_keeps_its_macros_patched_or_through_openpyxl(tmp_path):
    project = _project(tmp_path, "experiments.xlsm")
    vba = b"\xd0\xcf\x11\xe0 a macro project, kept byte for byte"
    col = decorated_book(project, vba)
    book = Path(project.sheet_target)
    original = tmp_path / "original.xlsm"
    original.write_bytes(book.read_bytes())
    assert cli(project, "sync").exit_code == 0
    assert members(book)["xl/vbaProject.bin"] == members(original)["xl/vbaProject.bin"]
    assert "xl/vbaProject.bin" not in changed_parts(original, book)
    _unpatchable(book)
    write_run(project, "r1", loss=1.5)
    assert cli(project, "sync", "--force").exit_code == 0
    with zipfile.ZipFile(book) as zf:
        assert zf.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled" in zf.read("[Content_Types].xml")
    assert _values(project)[1][col["final_loss"]] == 1.5


def test_no_cell_is_written_past_excels_last_row():
    check_cells([CellWrite("Runs", MAX_ROW, 1, "fits")])
    with pytest.raises(Exception, match="past the end of a workbook .1,048,576 rows"):
        check_cells([CellWrite("Runs", MAX_ROW + 1, 1, "r-next")])


def test_format_of_a_decorated_workbook_needs_force(attached):
    project, _ = attached
    book = Path(project.sheet_target)
    before = book.read_bytes()
    refused = cli(project, "format")
    assert refused.exit_code == 1
    assert "formats the workbook through openpyxl" in refused.output
    assert "text boxes and shapes (1)" in refused.output and book.read_bytes() == before
    forced = cli(project, "format", "--force")
    assert forced.exit_code == 0, forced.output
    assert "dropped (--force): text boxes and shapes (1)" in forced.output
    assert load_workbook(book)["Runs"].freeze_panes is not None
