"""Workbooks a person decorated, written with xlsxwriter, and ways to compare them part by part
and as LibreOffice computes them: shared by the xlsx tests."""

from __future__ import annotations

import csv
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) absent")

RUNS, SUMMARY, NOTES = "Runs", "Summary", "Notes"
LOSSES = [2.5, 2.25, 2.0, 1.75, 1.5]
TOKENS = [1e9, 2e9, 4e9, 8e9, 16e9]


def tiny_png() -> bytes:
    """A 1x1 red PNG, written by hand so the test needs no image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def decorated_workbook(path: Path) -> Path:
    """A workbook a person decorated: chart, image, text box, comment, rich text, data bar,
    validation list, hyperlinks, merged cells, a summary tab of formulas, a defined name."""
    image = path.parent / "dot.png"
    image.write_bytes(tiny_png())
    wb = xlsxwriter_or_skip().Workbook(str(path))
    wb.set_custom_property("project", "ladder")
    bold = wb.add_format({"bold": True, "bg_color": "#DDE7F5"})
    loss_fmt = wb.add_format({"num_format": "0.000"})
    red = wb.add_format({"color": "red", "bold": True})
    ws = wb.add_worksheet(RUNS)
    ws.write_row(0, 0, ["run", "loss", "tokens", "notes", "link"], bold)
    for i, (loss, tokens) in enumerate(zip(LOSSES, TOKENS, strict=True)):
        ws.write(i + 1, 0, f"run-{i}")
        ws.write(i + 1, 1, loss, loss_fmt)
        ws.write(i + 1, 2, tokens)
    ws.write_formula(
        "A7", '=HYPERLINK("https://runs.example/7","ladder-100m")', None, "ladder-100m"
    )
    ws.write("B7", 1.25, loss_fmt)
    ws.write_rich_string("D2", "loss ", red, "diverged", " at step 40")
    ws.write_comment("A2", "first run of the ladder")
    ws.write_url("E2", "https://runs.example/0", string="dashboard")
    ws.conditional_format("B2:B7", {"type": "data_bar", "bar_color": "#638EC6"})
    ws.data_validation("D3:D7", {"validate": "list", "source": ["ok", "redo"]})
    ws.merge_range("A9:C9", "Oct/Nov feature runs", bold)
    ws.insert_image("G2", str(image))
    ws.insert_textbox("G8", "Remember to re-run run-3")
    summary = wb.add_worksheet(SUMMARY)
    summary.write_column("A1", ["mean loss", "best loss", "runs", "tokens", "twice mean", "first"])
    summary.write_formula("B1", "=AVERAGE(Runs!B2:B7)", None, sum(LOSSES + [1.25]) / 6)
    summary.write_formula("B2", "=MIN(losses)", None, 1.25)
    summary.write_formula("B3", "=COUNTA(Runs!A:A)-1", None, 7)
    summary.write_formula("B4", "=SUM(Runs!$C$2:$C$6)", None, sum(TOKENS))
    summary.write_formula("B5", "=B1*2", None, 2 * sum(LOSSES + [1.25]) / 6)
    summary.write_formula("B6", "=Runs!B2", None, LOSSES[0])
    wb.define_name("losses", "=Runs!$B$2:$B$7")
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"name": "loss", "values": "=Runs!$B$2:$B$7"})
    summary.insert_chart("D2", chart)
    notes = wb.add_worksheet(NOTES)
    notes.write("A1", "unrelated")
    notes.write_formula("A2", "=1/0", None, "#DIV/0!")
    notes.write_formula("A3", "=2+3", None, 5)
    wb.close()
    return path


def members(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each zip member's (compression, CRC, raw compressed bytes), in archive order."""
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            head = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", head[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            out[info.filename] = (info.compress_type, info.CRC, fh.read(info.compress_size))
    return out


def changed_parts(before: Path, after: Path) -> set[str]:
    """Members whose bytes differ; also asserts the others are copied exactly and in order."""
    old, new = members(before), members(after)
    kept = [name for name in old if name in new]
    assert kept == [name for name in new if name in old], "member order changed"
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}


def sheet_part(path: Path, sheet: str) -> str:
    names = {RUNS: "xl/worksheets/sheet1.xml", SUMMARY: "xl/worksheets/sheet2.xml"}
    with zipfile.ZipFile(path) as zf:
        assert names[sheet] in zf.namelist()
    return names[sheet]


def sheet_xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read(part).decode()


def cell_xml(path: Path, part: str, ref: str) -> str:
    m = re.search(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', sheet_xml(path, part))
    assert m, f"no cell {ref}"
    return m.group(0)


def openpyxl_values(path: Path, sheet: str) -> dict[str, object]:
    from openpyxl import load_workbook

    wb = load_workbook(path, data_only=True)
    return {c.coordinate: c.value for row in wb[sheet].iter_rows() for c in row}


def libreoffice_csv(path: Path, profile: str) -> dict[str, list[list[str]]]:
    """Every tab as LibreOffice computes it on opening the file (raw values, not as shown)."""
    out = path.parent / f"{path.stem}-csv"
    out.mkdir(exist_ok=True)
    options = "44,34,76,1,,0,false,true,false,false,false,-1"  # -1: one file per tab
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
         f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    tabs = {}
    for file in out.glob(f"{path.stem}-*.csv"):
        with open(file, newline="", encoding="utf-8") as fh:
            tabs[file.stem.removeprefix(f"{path.stem}-")] = list(csv.reader(fh))
    return tabs


def libreoffice_xlsx(path: Path, profile: str, out: Path) -> Path:
    """The workbook as LibreOffice saves it."""
    out.mkdir(exist_ok=True)
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xlsx",
         "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return out / path.name


def xlsxwriter_or_skip():
    return pytest.importorskip("xlsxwriter")


def at(grid: list[list[str]], r: int, c: int) -> str:
    return grid[r][c] if r < len(grid) and c < len(grid[r]) else ""


def runs_cells(workbook: bytes) -> dict[tuple[str, str], object]:
    """A workbook's Runs tab cells by (run, header), rows without a run left out."""
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(workbook))["Runs"]
    header = [c.value for c in ws[1]]
    return {
        (row[0], h): v
        for row in ws.iter_rows(min_row=2, values_only=True)
        for h, v in zip(header, row, strict=False)
        if row[0]
    }
