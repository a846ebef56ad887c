"""Formula caches a patch leaves stale are dropped (shared formulas, names, long chains, anything
INDIRECT may read); an overwritten formula takes the calculation chain with it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from sheetsync.sheet.backends import xlsx as xp
from sheetsync.sheet.backends.xlsx.package import MAIN_NS
from tests.xlsx_helpers import (
    RUNS,
    SUMMARY,
    cell_xml,
    changed_parts,
    openpyxl_values,
    xlsxwriter_or_skip,
)


def excel_shaped(tmp_path: Path) -> Path:
    """A workbook shaped as Excel saves one: shared formulas and a calculation chain."""
    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter_or_skip().Workbook(str(plain))
    ws = wb.add_worksheet(RUNS)
    for r in range(2, 6):
        ws.write(f"A{r}", r)
        ws.write(f"B{r}", 10 * r)
        ws.write_formula(f"C{r}", f"=A{r}+B{r}", None, 11 * r)
    wb.close()
    out = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode().replace("<f>A2+B2</f>", '<f t="shared" ref="C2:C5" si="0">'
                                             "A2+B2</f>")  # fmt: skip
                for r in range(3, 6):
                    text = text.replace(f"<f>A{r}+B{r}</f>", '<f t="shared" si="0"/>')
                body = text.encode()
            elif info.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" '
                                    b'ContentType="application/vnd.openxmlformats-officedocument.'
                                    b'spreadsheetml.calcChain+xml"/></Types>')  # fmt: skip
            elif info.filename == "xl/_rels/workbook.xml.rels":
                body = body.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http:'
                                    b'//schemas.openxmlformats.org/officeDocument/2006/'
                                    b'relationships/calcChain" Target="calcChain.xml"/>'
                                    b"</Relationships>")  # fmt: skip
            zout.writestr(info, body)
        chain = "".join(f'<c r="C{r}"' + (' i="1"' if r == 2 else "") + "/>" for r in range(2, 6))
        zout.writestr("xl/calcChain.xml", f'<calcChain xmlns="{MAIN_NS}">{chain}</calcChain>')
    return out


def test_shared_formula_copies_lose_their_cache_when_their_inputs_change(tmp_path):
    src = excel_shaped(tmp_path)
    dst = tmp_path / "out.xlsx"
    assert xp.patch_cells(src, dst, {RUNS: {(4, 1): 100}}) == []
    part = "xl/worksheets/sheet1.xml"
    assert "<v>" not in cell_xml(dst, part, "C4")  # reads A4 through the shared formula
    for ref in ("C2", "C3", "C5"):
        assert cell_xml(dst, part, ref) == cell_xml(src, part, ref)
    assert changed_parts(src, dst) == {part}  # calcChain stays: no formula was overwritten


def test_overwriting_a_formula_drops_the_calculation_chain(tmp_path):
    src = excel_shaped(tmp_path)
    dst = tmp_path / "out.xlsx"
    assert xp.patch_cells(src, dst, {RUNS: {(3, 3): 5}}) == []
    assert changed_parts(src, dst) == {
        "xl/worksheets/sheet1.xml", "xl/calcChain.xml", "[Content_Types].xml",
        "xl/_rels/workbook.xml.rels",
    }  # fmt: skip
    with zipfile.ZipFile(dst) as zf:
        assert "xl/calcChain.xml" not in zf.namelist()
        assert b"calcChain" not in zf.read("[Content_Types].xml")
        assert b"calcChain" not in zf.read("xl/_rels/workbook.xml.rels")
    assert openpyxl_values(dst, RUNS)["C3"] == 5


def test_the_anchor_of_a_shared_formula_is_left_to_openpyxl(tmp_path):
    src = excel_shaped(tmp_path)
    beside = tmp_path / "beside.xlsx"  # the workbook itself is patched: a cell beside it
    assert xp.patch_cells(src, beside, {RUNS: {(2, 4): 1}}) == []
    assert changed_parts(src, beside) == {"xl/worksheets/sheet1.xml"}
    with pytest.raises(xp.Unpatchable, match="C2 anchors a shared formula"):
        xp.patch_cells(src, tmp_path / "out.xlsx", {RUNS: {(2, 3): 1}})
    assert not (tmp_path / "out.xlsx").exists()


def test_formulas_that_may_read_anything_or_chain_far_all_lose_their_cache(tmp_path):
    wb = xlsxwriter_or_skip().Workbook(str(tmp_path / "chain.xlsx"))
    wb.add_worksheet(RUNS).write_column("A1", [1, 2, 3])
    sheet = wb.add_worksheet(SUMMARY)
    sheet.write_formula("A1", "=Runs!A1", None, 1)
    for r in range(2, 13):  # twelve hops: more than the patcher follows one by one
        sheet.write_formula(f"A{r}", f"=A{r - 1}+1", None, r)
    sheet.write_formula("B1", '=INDIRECT("Runs!A3")', None, 3)
    sheet.write_formula("C1", "=Runs!A2", None, 2)  # reads a cell that does not change
    sheet.write_formula("D1", '=HYPERLINK("https://runs.example","run")', None, "run")
    wb.close()
    dst = tmp_path / "out.xlsx"
    xp.patch_cells(tmp_path / "chain.xlsx", dst, {RUNS: {(1, 1): 10}})
    part = "xl/worksheets/sheet2.xml"
    stale = [f"A{r}" for r in range(1, 13)] + ["B1"]
    assert [ref for ref in stale if "<v>" in cell_xml(dst, part, ref)] == []
    for ref in ("C1", "D1"):
        assert cell_xml(dst, part, ref) == cell_xml(tmp_path / "chain.xlsx", part, ref)
