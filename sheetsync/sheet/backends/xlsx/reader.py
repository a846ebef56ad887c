"""Cell values of a workbook's sheets, read with python-calamine (a Rust reader, about 25 times
faster than openpyxl), with error cells filled in as their text."""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.package import Package
from sheetsync.sheet.backends.xlsx.worksheet import cell_ref

Grid = list[list[object]]
_EXACT_INT = 2**53  # integral floats below this came from an integer literal in the XML


def read_sheets(
    path: str | os.PathLike[str], names: list[str] | tuple[str, ...]
) -> dict[str, Grid]:
    """Cell values of the named worksheets of the file at `path` (see `read_grids`)."""
    return read_grids(Path(path).read_bytes(), names)


def read_grids(
    data: bytes,
    names: list[str] | tuple[str, ...],
    convert: Callable[[object], object] | None = None,
) -> dict[str, Grid]:
    """Cell values of the named worksheets, row-major from A1 (absent names are left out).

    str, int (a number stored without fraction), float, bool, datetime/time/timedelta (a
    number in a date or duration format, or a date cell), None for empty; a formula gives its
    cached value, or its own text (`=1/0`) when the file keeps no value for it (openpyxl and
    pandas write formulas without one: a person's formula is never read as an empty cell), an
    error cell its text (`#DIV/0!`). The grid ends at
    the last row and column holding a value. `convert` is applied to every value that is not
    text, a number or None (booleans, dates, times), in the same pass.
    """
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    present = set(book.sheet_names)
    grids: dict[str, Grid] = {}
    for name in names:
        if name in present:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            grids[name] = plain_grid(rows, convert)
    if grids:
        _fill_from_xml(data, grids)
    return grids


def plain_grid(rows: list[list[object]], convert: Callable[[object], object] | None = None) -> Grid:
    """calamine's grid with its empty '' as None, integral numbers as int, dates as datetime
    (then `convert`ed, like the other values that are not text or numbers)."""
    flt, text = float, str

    def other(v: object) -> object:
        if v.__class__ is dt.date:
            v = dt.datetime(v.year, v.month, v.day)  # type: ignore[attr-defined]
        return convert(v) if convert is not None else v

    grid: Grid = [
        [
            (int(v) if v.is_integer() and -_EXACT_INT < v < _EXACT_INT else v)
            if v.__class__ is flt
            else (v or None)
            if v.__class__ is text
            else other(v)
            for v in row
        ]
        for row in rows
    ]
    while grid and all(v is None for v in grid[-1]):
        grid.pop()  # a row of empty strings
    return grid


_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>/]*)>((?:(?!</c>).)*)</c>', re.DOTALL)
_FORMULA_CELL = re.compile(
    rb"<c\b([^>]*[^/])>\s*<f\b([^>]*?)(?:/>|>([^<]*)</f>)((?:(?!</c>).)*)</c>", re.DOTALL
)
_VALUE = re.compile(rb"<v>([^<]+)</v>")  # `<v/>` and `<v></v>` hold no value


def _fill_from_xml(data: bytes, grids: dict[str, Grid]) -> None:
    """Put error text where calamine reports an error cell as empty, and a formula's own text
    where the file keeps no value for it."""
    try:
        package = Package.open(data)
    except Unpatchable:
        return
    for ref in package.sheets:
        grid = grids.get(ref.name)
        if grid is None or ref.kind != "worksheet":
            continue
        xml = package.archive.read(ref.part)
        if b't="e"' in xml:
            for m in _ERROR_CELL.finditer(xml):
                value = _VALUE.search(m.group(2))
                if value:
                    text = html.unescape(value.group(1).decode())
                    _put(grid, cell_ref(m.group(1), ref.part), text)
        if b"<f" in xml:
            for m in _FORMULA_CELL.finditer(xml):
                if _VALUE.search(m.group(4)) or b"<is>" in m.group(4):
                    continue  # the file keeps its value: calamine read it
                text = html.unescape((m.group(3) or b"").decode()).strip()
                where = cell_ref(m.group(1), ref.part)
                _put(grid, where, "=" + text if text else "=(a shared formula)")


def _put(grid: Grid, where: tuple[int, int], text: str) -> None:
    row, col = where
    width = max(col, len(grid[0]) if grid else 0)
    while len(grid) < row:
        grid.append([None] * width)
    for line in grid:
        line.extend([None] * (width - len(line)))
    grid[row - 1][col - 1] = text
