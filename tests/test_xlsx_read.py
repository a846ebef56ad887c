"""The fast reader gives the values openpyxl gives; the patcher refuses, with a reason and
without writing, files it cannot prove it handles."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from sheetsync.sheet.backends import xlsx as xp
from tests.xlsx_helpers import (
    NOTES,
    RUNS,
    SUMMARY,
    decorated_workbook,
    openpyxl_values,
    xlsxwriter_or_skip,
)


def test_reader_matches_openpyxl_cached_values(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    wb = xlsxwriter_or_skip().Workbook(str(tmp_path / "types.xlsx"))
    ws = wb.add_worksheet("T")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row("A1", ["text", 3, 2.5, True])
    ws.write_datetime("A2", dt.datetime(2026, 6, 1), date)
    ws.write_datetime("B2", dt.datetime(2026, 6, 1, 14, 5), stamp)
    ws.write_formula("C2", "=1/0", None, "#DIV/0!")
    ws.write_formula("D2", "=NA()", None, "#N/A")
    wb.close()
    for path, sheets in ((src, [RUNS, SUMMARY, NOTES]), (tmp_path / "types.xlsx", ["T"])):
        grids = xp.read_sheets(path, sheets + ["absent"])
        assert set(grids) == set(sheets)
        for sheet in sheets:
            expected = openpyxl_values(path, sheet)
            got = {
                xp.cell_name(r, c): v
                for r, row in enumerate(grids[sheet], 1)
                for c, v in enumerate(row, 1)
                if v is not None
            }
            assert got == {k: v for k, v in expected.items() if v is not None}, sheet
    grid = xp.read_sheets(tmp_path / "types.xlsx", ["T"])["T"]
    assert grid[1] == [dt.datetime(2026, 6, 1), dt.datetime(2026, 6, 1, 14, 5), "#DIV/0!", "#N/A"]
    assert type(grid[0][1]) is int and type(grid[0][2]) is float


def refusal(src, edits, dst) -> str:
    """Why patching `src` with `edits` is refused; asserts nothing was written to `dst`."""
    with pytest.raises(xp.Unpatchable) as refused:
        xp.patch_cells(src, dst, edits)
    assert not dst.exists()
    return str(refused.value)


def test_the_patcher_refuses_a_missing_part_or_tab(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    out = tmp_path / "out.xlsx"
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet2.xml":
                zout.writestr(info, zin.read(info))
    assert "xl/worksheets/sheet2.xml" in refusal(broken, {RUNS: {(2, 2): 1.0}}, out)
    assert "Nope" in refusal(src, {"Nope": {(1, 1): 1}}, out)
    (tmp_path / "text.xlsx").write_text("not a zip")
    refusal(tmp_path / "text.xlsx", {RUNS: {(2, 2): 1.0}}, out)


def test_the_patcher_refuses_a_cell_without_its_reference_or_a_damaged_zip(tmp_path):
    src = decorated_workbook(tmp_path / "ladder.xlsx")
    odd = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b'<c r="C3"', b"<c")
            zout.writestr(info, body)
    out = tmp_path / "out.xlsx"
    # the row holding the cell is refused (its cells cannot all be placed)
    assert "sheet1.xml: row 3 holds more than cells" in refusal(odd, {RUNS: {(3, 2): 1.0}}, out)
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(src.read_bytes()[:-200])
    refusal(truncated, {RUNS: {(2, 2): 1.0}}, out)
