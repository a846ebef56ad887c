"""The patcher keeps a decorated workbook intact: only the changed cells change, every other
part stays byte for byte, and LibreOffice recalculates the formulas that read them."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.sheet.backends import xlsx as xp
from sheetsync.sheet.backends.xlsx.a1 import parse_cell
from sheetsync.sheet.backends.xlsx.package import MAIN_NS
from tests.xlsx_helpers import (
    LOSSES,
    NOTES,
    RUNS,
    SUMMARY,
    TOKENS,
    at,
    cell_xml,
    changed_parts,
    decorated_workbook,
    libreoffice_csv,
    libreoffice_xlsx,
    members,
    needs_libreoffice,
    openpyxl_values,
    sheet_part,
    sheet_xml,
    xlsxwriter_or_skip,
)

EDITS = {
    RUNS: {
        (3, 2): 0.5,  # a loss the summary reads
        (2, 4): "re-run: <loss> & \"tokens\" 'ok'",  # over rich text
        (8, 1): "run-7",  # a new row below the last one
        (8, 2): 1.0,
        (8, 3): 3.2e10,
        (3, 6): "=SUM(A1:A3)",  # text that looks like a formula stays text
        (4, 4): True,
    }
}


@pytest.fixture
def patched(tmp_path: Path) -> tuple[Path, Path, list[xp.Refusal]]:
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    dst = tmp_path / "patched.xlsx"
    refused = xp.patch_cells(src, dst, EDITS)
    return src, dst, refused


def test_patch_rewrites_only_the_edited_tab_and_the_stale_formula_tab(patched):
    src, dst, refused = patched
    assert refused == []
    # workbook.xml already asks for a full recalculation (xlsxwriter sets it), so it stays
    assert changed_parts(src, dst) == {sheet_part(src, RUNS), sheet_part(src, SUMMARY)}
    for name in ("xl/sharedStrings.xml", "xl/worksheets/sheet3.xml", "xl/charts/chart1.xml",
                 "xl/drawings/drawing1.xml", "xl/comments1.xml", "docProps/custom.xml",
                 "xl/media/image1.png", "xl/styles.xml"):  # fmt: skip
        assert members(src)[name] == members(dst)[name]


def test_patched_cells_read_back_with_openpyxl_and_the_reader(patched):
    src, dst, _ = patched
    values = openpyxl_values(dst, RUNS)
    assert values["B3"] == 0.5
    assert values["D2"] == "re-run: <loss> & \"tokens\" 'ok'"
    assert (values["A8"], values["B8"], values["C8"]) == ("run-7", 1, 3.2e10)
    assert values["F3"] == "=SUM(A1:A3)"
    assert values["D4"] is True
    assert values["A2"] == "run-0" and values["B2"] == 2.5  # untouched neighbours
    grid = xp.read_sheets(dst, [RUNS])[RUNS]
    assert grid[2][1] == 0.5 and grid[1][3] == "re-run: <loss> & \"tokens\" 'ok'"
    assert grid[7][:3] == ["run-7", 1, 3.2e10]
    assert grid[2][5] == "=SUM(A1:A3)" and grid[3][3] is True
    assert grid[6][0] == "ladder-100m"  # the HYPERLINK run id, by its displayed text


def test_new_text_is_stored_inline_and_formula_like_text_stays_text(patched):
    src, dst, _ = patched
    part = sheet_part(src, RUNS)
    assert 't="inlineStr"' in cell_xml(dst, part, "F3")
    assert "<f>" not in cell_xml(dst, part, "F3")
    from openpyxl import load_workbook

    assert load_workbook(dst)[RUNS]["F3"].data_type == "s"


def test_new_row_takes_the_styles_of_the_row_above(patched):
    src, dst, _ = patched
    part = sheet_part(src, RUNS)
    above_loss_style = re.search(r's="(\d+)"', cell_xml(src, part, "B7")).group(1)
    assert f's="{above_loss_style}"' in cell_xml(dst, part, "B8")
    from openpyxl import load_workbook

    assert load_workbook(dst)[RUNS]["B8"].number_format == "0.000"


def test_dimension_grows_to_cover_new_cells(patched):
    src, dst, _ = patched
    part = sheet_part(src, RUNS)
    before = re.search(r'<dimension ref="([^"]+)"', sheet_xml(src, part)).group(1)
    after = re.search(r'<dimension ref="([^"]+)"', sheet_xml(dst, part)).group(1)
    assert (before, after) == ("A1:E9", "A1:F9")


def test_formulas_reading_edited_cells_lose_their_cached_value_and_others_keep_it(patched):
    src, dst, _ = patched
    summary = sheet_part(src, SUMMARY)
    for ref in ("B1", "B2", "B3", "B5"):  # read B3 or column A (through a name, a chain)
        assert "<v>" in cell_xml(src, summary, ref)
        assert "<v>" not in cell_xml(dst, summary, ref), ref
    for ref in ("B4", "B6"):  # read only cells that did not change
        assert cell_xml(dst, summary, ref) == cell_xml(src, summary, ref)
    runs = sheet_part(src, RUNS)
    assert cell_xml(dst, runs, "A7") == cell_xml(src, runs, "A7")  # a constant HYPERLINK


@needs_libreoffice
def test_libreoffice_recalculates_the_summary_and_sees_everything_else_unchanged(
    patched, office_profile
):
    src, dst, _ = patched
    before, after = libreoffice_csv(src, office_profile), libreoffice_csv(dst, office_profile)
    losses = [LOSSES[0], 0.5, *LOSSES[2:], 1.25, 1.0]
    summary = {row[0]: row[1] for row in after[SUMMARY]}
    assert float(summary["mean loss"]) == pytest.approx(sum(losses[:6]) / 6)
    assert float(summary["best loss"]) == 0.5
    assert float(summary["runs"]) == 8  # the new row, and the merged divider text
    assert float(summary["twice mean"]) == pytest.approx(2 * sum(losses[:6]) / 6)
    assert float(summary["tokens"]) == sum(TOKENS)
    assert after[NOTES] == before[NOTES]
    edited = {(r - 1, c - 1) for r, c in EDITS[RUNS]}
    width = max(len(row) for row in before[RUNS] + after[RUNS])
    for r in range(max(len(before[RUNS]), len(after[RUNS]))):
        for c in range(width):
            if (r, c) not in edited:
                assert at(after[RUNS], r, c) == at(before[RUNS], r, c), (r, c)
    assert [at(after[RUNS], 7, c) for c in range(3)] == ["run-7", "1", "32000000000"]


def test_merged_cells_and_unstorable_values_are_refused_and_the_rest_written(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    dst = tmp_path / "patched.xlsx"
    refused = xp.patch_cells(
        src,
        dst,
        {RUNS: {(9, 2): "x", (2, 5): "bad\x07bell", (3, 3): math.nan, (4, 3): 7.0}},
    )
    assert {(r.row, r.col) for r in refused} == {(9, 2), (2, 5), (3, 3)}
    reasons = {(r.row, r.col): r.reason for r in refused}
    assert "merged cells A9:C9" in reasons[(9, 2)]
    assert "control character" in reasons[(2, 5)]
    assert str(refused[0]).startswith("Runs!")
    values = openpyxl_values(dst, RUNS)
    assert values["C4"] == 7 and values["B9"] is None and values["E2"] == "dashboard"


def test_none_clears_the_value_and_keeps_the_style(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    dst = tmp_path / "patched.xlsx"
    xp.patch_cells(src, dst, {RUNS: {(2, 2): None, (2, 3): None, (40, 40): None}})
    part = sheet_part(src, RUNS)
    style = re.search(r's="(\d+)"', cell_xml(src, part, "B2")).group(1)
    assert cell_xml(dst, part, "B2") == f'<c r="B2" s="{style}"/>'
    assert '<c r="C2"' not in sheet_xml(dst, part)  # no style: the cell goes
    assert '<row r="40"' not in sheet_xml(dst, part)  # clearing nothing adds nothing
    grid = xp.read_sheets(dst, [RUNS])[RUNS]
    assert grid[1][1] is None and grid[1][2] is None and len(grid) == 9


def test_cells_are_inserted_in_column_order_and_spans_widen(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    dst = tmp_path / "patched.xlsx"
    edits = {(7, 4): "between", (7, 3): "next", (7, 26): "far", (1, 6): "new col"}
    xp.patch_cells(src, dst, {RUNS: edits})
    row7 = re.search(r'<row r="7"[^>]*>(.*?)</row>', sheet_xml(src, sheet_part(src, RUNS)))
    assert re.findall(r'<c r="([A-Z]+)7"', row7.group(1)) == ["A", "B"]
    row7 = re.search(r'<row r="7"[^>]*>(.*?)</row>', sheet_xml(dst, sheet_part(src, RUNS)))
    assert re.findall(r'<c r="([A-Z]+)7"', row7.group(1)) == ["A", "B", "C", "D", "Z"]
    assert 'spans="1:26"' in row7.group(0)
    assert_cells_in_order(dst, sheet_part(src, RUNS))
    values = openpyxl_values(dst, RUNS)
    assert (values["C7"], values["D7"], values["Z7"], values["F1"]) == (
        "next", "between", "far", "new col",
    )  # fmt: skip


def test_a_cell_is_inserted_between_the_cells_around_it(sparse_workbook, tmp_path):
    dst = tmp_path / "out.xlsx"
    xp.patch_cells(sparse_workbook, dst, {RUNS: {(8, 4): "mid", (2, 2): 3, (8, 9): "after"}})
    xml = sheet_xml(dst, "xl/worksheets/sheet1.xml")
    assert re.findall(r'<c r="([A-Z]+)8"', xml) == ["A", "D", "G", "I"]
    assert re.findall(r'<c r="([A-Z]+)2"', xml) == ["A", "B", "D"]


def test_numbers_bools_and_text_round_trip_exactly(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    dst = tmp_path / "patched.xlsx"
    row = [0.1 + 0.2, -3, 2**40, 1e-300, 6.02e23, False, "  padded  ", "tab\tnew\nline\r",
           "_x000D_ literal", "ünïcødé ✓"]  # fmt: skip
    xp.patch_cells(src, dst, {NOTES: {(5, c): v for c, v in enumerate(row, 1)}})
    assert xp.read_sheets(dst, [NOTES])[NOTES][4] == row
    from openpyxl import load_workbook

    ws = load_workbook(dst)[NOTES]
    assert [ws.cell(5, c).value for c in range(1, 8)] == row[:7]


def test_locked_cells_on_a_protected_sheet_and_table_headers_are_refused(tmp_path):
    wb = xlsxwriter_or_skip().Workbook(str(tmp_path / "guarded.xlsx"))
    ws = wb.add_worksheet("Locked")
    unlocked = wb.add_format({"locked": False})
    ws.write("A1", "locked")
    ws.write("B1", "open", unlocked)
    ws.protect()
    tab = wb.add_worksheet("Table")
    tab.add_table("A1:B3", {"name": "Results", "data": [[1, 2], [3, 4]],
                            "columns": [{"header": "run"}, {"header": "loss"}]})  # fmt: skip
    wb.close()
    dst = tmp_path / "out.xlsx"
    refused = xp.patch_cells(
        tmp_path / "guarded.xlsx",
        dst,
        {"Locked": {(1, 1): "x", (1, 2): "y"}, "Table": {(1, 2): "renamed", (2, 2): 9}},
    )
    assert {(r.sheet, r.row, r.col) for r in refused} == {("Locked", 1, 1), ("Table", 1, 2)}
    assert "table Results" in next(r.reason for r in refused if r.sheet == "Table")
    assert openpyxl_values(dst, "Locked")["B1"] == "y"
    assert openpyxl_values(dst, "Table")["B2"] == 9


def test_openpyxl_written_workbook_is_patched_losslessly(tmp_path):
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = RUNS
    ws.append(["run", "loss", "gain", "status"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="DDE7F5", end_color="DDE7F5")
    ws["B1"].comment = Comment("final loss (written by sheetsync: sync)", "sheetsync")
    ws.freeze_panes = "B2"
    ws.column_dimensions["C"].number_format = '0.00"x"'
    for i in range(3):
        ws.append([f"run-{i}", 2.0 - i / 10, None, "finished"])
        ws.cell(i + 2, 3).number_format = '0.00"x"'
    ws.conditional_formatting.add(
        "C2:C100", CellIsRule(operator="greaterThan", formula=["1"], fill=PatternFill("solid"))
    )
    state = wb.create_sheet("State")
    state.sheet_state = "hidden"
    state.append(["key", "value"])
    src = tmp_path / "init.xlsx"
    wb.save(src)
    dst = tmp_path / "out.xlsx"
    edits = {RUNS: {(2, 3): 1.25, (5, 1): "run-3", (5, 3): 0.8, (5, 4): "running"}}
    assert xp.patch_cells(src, dst, edits) == []
    assert changed_parts(src, dst) == {"xl/worksheets/sheet1.xml"}
    ws = load_workbook(dst)[RUNS]
    assert [c.value for c in ws[5]] == ["run-3", None, 0.8, "running"]
    assert ws["C2"].value == 1.25 and ws["C5"].number_format == '0.00"x"'
    assert ws["A5"].font.bold is not True  # styles come from row 4, not the header
    assert xp.read_sheets(dst, [RUNS, "State"])["State"] == [["key", "value"]]


@needs_libreoffice
def test_libreoffice_written_workbook_is_patched_and_recalculated(tmp_path, office_profile):
    src = libreoffice_xlsx(decorated_workbook(tmp_path / "ladder.xlsx"), office_profile,
                           tmp_path / "lo")  # fmt: skip
    dst = tmp_path / "out.xlsx"  # patched, not refused: only the parts below change
    assert xp.patch_cells(src, dst, {RUNS: {(2, 2): 0.25, (8, 1): "run-7", (8, 2): 3.0}}) == []
    with zipfile.ZipFile(src) as zf:
        workbook = zf.read("xl/workbook.xml")
        runs, summary = (
            next(n for n in zf.namelist() if n.endswith(f"sheet{i}.xml")) for i in (1, 2)
        )
    assert b"fullCalcOnLoad" not in workbook  # LibreOffice does not write the flag ...
    assert changed_parts(src, dst) == {runs, summary, "xl/workbook.xml"}
    with zipfile.ZipFile(dst) as zf:
        assert b'fullCalcOnLoad="1"' in zf.read("xl/workbook.xml")  # ... the patch adds it
    assert xp.read_sheets(dst, [RUNS])[RUNS][7][:2] == ["run-7", 3]
    after = {row[0]: row[1] for row in libreoffice_csv(dst, office_profile)[SUMMARY]}
    losses = [0.25, *LOSSES[1:], 1.25]
    assert float(after["mean loss"]) == pytest.approx(sum(losses) / 6)
    assert float(after["best loss"]) == 0.25
    assert float(after["first"]) == 0.25


def test_atomic_replace_swaps_in_the_new_file_or_leaves_the_old_one(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    before = src.read_bytes()
    with pytest.raises(xp.Unpatchable), xp.atomic_replace(src) as tmp:
        xp.patch_cells(src, tmp, {"Nope": {(1, 1): 1}})
    assert src.read_bytes() == before
    assert list(tmp_path.glob(".ladder.xlsx.*")) == []
    with xp.atomic_replace(src) as tmp:
        xp.patch_cells(src, tmp, {RUNS: {(2, 2): 9.5}})
    assert openpyxl_values(src, RUNS)["B2"] == 9.5
    assert list(tmp_path.glob(".ladder.xlsx.*")) == []


def test_an_empty_tab_gets_its_first_rows(tmp_path):
    wb = xlsxwriter_or_skip().Workbook(str(tmp_path / "empty.xlsx"))
    wb.add_worksheet("State")
    wb.close()
    with zipfile.ZipFile(tmp_path / "empty.xlsx") as zf:
        assert b"<sheetData/>" in zf.read("xl/worksheets/sheet1.xml")
    dst = tmp_path / "out.xlsx"
    xp.patch_cells(tmp_path / "empty.xlsx", dst, {"State": {(2, 1): "k", (1, 1): "key", (1, 2): 1}})
    assert xp.read_sheets(dst, ["State"])["State"] == [["key", 1], ["k", None]]
    assert openpyxl_values(dst, "State") == {"A1": "key", "B1": 1, "A2": "k", "B2": None}


@pytest.fixture(scope="module")
def sparse_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows with gaps, cells with gaps, styled empty cells and a row style, by openpyxl."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = RUNS
    for (row, col), value in {
        (1, 1): "run",
        (1, 3): "loss",
        (2, 1): "a",
        (2, 4): 1.5,
        (3, 2): 7,
        (5, 5): True,
        (8, 1): "z",
        (8, 7): "end",
    }.items():
        ws.cell(row, col, value)  # fmt: skip
    ws.cell(3, 6).font = Font(italic=True)  # a styled empty cell
    ws.row_dimensions[5].font = Font(bold=True)  # a row style
    path = tmp_path_factory.mktemp("sparse") / "sparse.xlsx"
    wb.save(path)
    return path


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(
        st.one_of(
            st.sampled_from("&<>\"' =_x0D\t\n"),
            st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
        ),
        min_size=1,
        max_size=12,
    ),
)


def assert_cells_in_order(path: Path, part: str) -> None:
    """Rows ascend, and cells ascend within each row, as the format requires."""
    root = ElementTree.fromstring(sheet_xml(path, part))
    ns = {"m": MAIN_NS}
    numbers = [int(row.get("r")) for row in root.iterfind(".//m:sheetData/m:row", ns)]
    assert numbers == sorted(set(numbers))
    for row in root.iterfind(".//m:sheetData/m:row", ns):
        cols = [parse_cell(c.get("r")) for c in row.iterfind("m:c", ns)]
        assert cols == sorted(set(cols)) and all(r == int(row.get("r")) for r, _ in cols)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.dictionaries(st.tuples(st.integers(1, 10), st.integers(1, 9)), values, max_size=12))
def test_any_edits_read_back_as_written_over_what_was_there(sparse_workbook, tmp_path, edits):
    before = xp.read_sheets(sparse_workbook, [RUNS])[RUNS]
    expected = {(r, c): v for r, row in enumerate(before, 1) for c, v in enumerate(row, 1)}
    expected.update(edits)
    dst = tmp_path / "out.xlsx"
    assert xp.patch_cells(sparse_workbook, dst, {RUNS: edits}) == []
    after = xp.read_sheets(dst, [RUNS])[RUNS]
    got = {(r, c): v for r, row in enumerate(after, 1) for c, v in enumerate(row, 1)}
    assert {k: v for k, v in got.items() if v is not None} == {
        k: v for k, v in expected.items() if v is not None
    }
    assert_cells_in_order(dst, "xl/worksheets/sheet1.xml")
    from openpyxl import load_workbook

    load_workbook(dst)  # and the file stays one openpyxl opens


def test_the_guard_tells_the_plan_which_cells_a_patch_would_refuse(tmp_path):
    wb = xlsxwriter_or_skip().Workbook(str(tmp_path / "guarded.xlsx"))
    ws = wb.add_worksheet("Locked")
    ws.write("A1", "locked")
    ws.write("B1", "open", wb.add_format({"locked": False}))
    ws.protect()
    free = wb.add_worksheet("Free")
    free.merge_range("A2:C2", "Oct/Nov feature runs")
    wb.close()
    guard = xp.Guard((tmp_path / "guarded.xlsx").read_bytes())
    assert "locked on a protected sheet" in guard.reason("Locked", 1, 1)
    assert guard.reason("Locked", 1, 2) is None
    assert "locked on a protected sheet" in guard.reason("Locked", 1, 3)  # default: locked
    assert guard.reason("Free", 2, 2) == "inside merged cells A2:C2; unmerge them"
    assert guard.reason("Free", 3, 2) is None and guard.reason("Absent", 1, 1) is None
    refused = xp.patch_cells(tmp_path / "guarded.xlsx", tmp_path / "out.xlsx",
                             {"Locked": {(1, 1): "x", (1, 2): "y", (1, 3): "z"}})  # fmt: skip
    assert {(r.row, r.col) for r in refused} == {(1, 1), (1, 3)}  # the guard agrees


def test_added_tabs_take_any_name_a_sheet_may_have_and_can_then_be_patched(tmp_path):
    from openpyxl import load_workbook

    src = decorated_workbook(tmp_path / "ladder.xlsx")
    names = ['R&D <runs> "q"', "Ünïcode 'tab'", "_state"]
    data = xp.add_tabs(src.read_bytes(), names, hidden=["_state"])
    out = tmp_path / "tabs.xlsx"
    out.write_bytes(data)
    wb = load_workbook(out)
    assert wb.sheetnames == [RUNS, SUMMARY, NOTES, *names]
    assert [wb[n].sheet_state for n in names] == ["visible", "visible", "hidden"]
    assert xp.read_sheets(out, names) == {n: [] for n in names}  # calamine reads them too
    again = tmp_path / "again.xlsx"
    assert xp.patch_cells(out, again, {names[1]: {(1, 1): "run", (2, 1): "r1"}}) == []
    assert openpyxl_values(again, names[1]) == {"A1": "run", "A2": "r1"}
    with pytest.raises(xp.Unpatchable):
        xp.add_tabs(data, [RUNS.upper()])  # names are unique without regard to case
    with pytest.raises(xp.Unpatchable):
        xp.add_tabs(data, ["a/b"])
