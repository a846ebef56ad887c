"""Writing edits into a workbook by splicing bytes: only the worksheets whose cells change are
rewritten (plus stale formula caches, the recalculation flag and, when a formula is
overwritten, the calc chain's removal); every other zip member is copied byte for byte."""

from __future__ import annotations

import io
import numbers
import os
import re
from collections.abc import Mapping
from pathlib import Path

from sheetsync.sheet.backends.xlsx.a1 import (
    MAX_COL,
    MAX_ROW,
    Cell,
    Refusal,
    Unpatchable,
    cell_name,
    inside,
    parse_range,
    range_name,
)
from sheetsync.sheet.backends.xlsx.cellxml import (
    Styles,
    Value,
    cell_xml,
    refuse_value,
    table_headers,
    uncached,
    widen_spans,
)
from sheetsync.sheet.backends.xlsx.formulas import formula_cells, stale_formulas
from sheetsync.sheet.backends.xlsx.package import (
    Package,
    SheetRef,
    full_calc_on_load,
    without_calc_chain,
)
from sheetsync.sheet.backends.xlsx.worksheet import Worksheet, XmlRow, attributes

LOCKED = "locked on a protected sheet; unlock the cell or unprotect the sheet"


class SheetPatch:
    """The byte splices that put edits into one worksheet, and the cells it refused."""

    def __init__(
        self,
        package: Package,
        ref: SheetRef,
        ws: Worksheet,
        header_rows: int,
        styles: Styles | None,
    ):
        self.ref, self.ws, self.header_rows = ref, ws, header_rows
        self.merged = ws.ranges(b"mergeCell")
        self.arrays = [
            rect
            for rect in ws.formula_ranges(b"array") + ws.formula_ranges(b"dataTable")
            if rect[:2] != rect[2:]
        ]
        self.tables = table_headers(package, ref.part)
        self.locked = styles if styles and ws.protected() else None
        self.column_styles = ws.column_styles()
        self.splices: list[tuple[int, int, bytes]] = []
        self.written: set[Cell] = set()
        self.refused: list[Refusal] = []
        self.overwrote_formula = False
        self._above: dict[int, tuple[str | None, dict[int, str | None]]] = {}

    def apply(self, edits: Mapping[Cell, Value]) -> None:
        by_row: dict[int, dict[int, Value]] = {}
        for (row, col), value in edits.items():
            if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
                raise ValueError(f"{self.ref.name}: cell ({row}, {col}) is outside a worksheet")
            if not isinstance(value, str | numbers.Real | None):
                raise TypeError(f"cannot write a {type(value).__name__} to a cell")
            reason = self._conflict(row, col, value)
            if reason:
                self.refused.append(Refusal(self.ref.name, row, col, reason))
            else:
                by_row.setdefault(row, {})[col] = value
        new_rows: dict[int, list[tuple[int, bytes]]] = {}  # insertion offset -> rows
        for row in sorted(by_row):
            index, existing = self.ws.find_row(row)
            if existing is not None:
                self._edit_row(existing, by_row[row])
                continue
            xml = self._new_row(index, row, by_row[row])
            if xml:
                rows = self.ws.rows()
                at = rows[index].start if index < len(rows) else self.ws.data_end
                new_rows.setdefault(at, []).append((row, xml))
        for at, rows in new_rows.items():
            body = b"".join(xml for _, xml in sorted(rows))
            if self.ws.empty_tag:
                body = b"<sheetData>" + body + b"</sheetData>"
                self.splices.append((at, at + len(b"<sheetData/>"), body))
            else:
                self.splices.append((at, at, body))
        if self.written:
            self.splices.extend(_dimension(self.ws, self.written))

    def _conflict(self, row: int, col: int, value: Value) -> str | None:
        """Why this cell may not be written, if it may not."""
        reason = refuse_value(value)
        if reason:
            return reason
        for rect in self.merged:
            if inside(rect, row, col):
                return f"inside merged cells {range_name(rect)}; unmerge them"
        for rect in self.arrays:
            if inside(rect, row, col):
                return f"inside the array formula {range_name(rect)}"
        for name, rect in self.tables:
            if inside(rect, row, col):
                return f"a header of table {name}; rename the column in the table"
        return None

    def refusal(self, row: int, col: int) -> str | None:
        """Why a value may not be written to this cell (merged, array, table header, locked),
        asked before any edit: the style is the cell's own, else its row's or column's."""
        reason = self._conflict(row, col, None)
        if reason or not self.locked:
            return reason
        _, existing = self.ws.find_row(row)
        style = None
        if existing is not None:
            cells = {c.col: c for c in self.ws.cells(existing)}
            if col in cells:
                style = cells[col].attrs.get("s")
            else:
                attrs = attributes(existing.attrs.rstrip(b"/"))
                custom = attrs.get("customFormat") in ("1", "true")
                style = (attrs.get("s") if custom else None) or self._column_style(col)
        else:
            style = self._column_style(col)
        return LOCKED if self.locked.is_locked(style) else None

    def _may_write(self, row: int, col: int, style: str | None) -> bool:
        if self.locked and self.locked.is_locked(style):
            self.refused.append(Refusal(self.ref.name, row, col, LOCKED))
            return False
        self.written.add((row, col))
        return True

    def _column_style(self, col: int) -> str | None:
        for lo, hi, style in self.column_styles:
            if lo <= col <= hi:
                return style
        return None

    def _edit_row(self, existing: XmlRow, wanted: dict[int, Value]) -> None:
        """Replace, clear or insert cells in a row that exists, keeping the column order."""
        cells = self.ws.cells(existing)
        by_col = {c.col: c for c in cells}
        row_attrs = attributes(existing.attrs.rstrip(b"/"))
        custom = row_attrs.get("customFormat") in ("1", "true")
        row_style = row_attrs.get("s") if custom else None
        inserts: list[tuple[int, bytes]] = []
        added: list[int] = []
        for col in sorted(wanted):
            value, cell, row = wanted[col], by_col.get(col), existing.row
            if cell is None:
                style = row_style or self._column_style(col)
                if value is None or not self._may_write(row, col, style):
                    continue
                after = [c.start for c in cells if c.col > col]
                at = after[0] if after else self.ws.row_end(existing)
                inserts.append((at, cell_xml(row, col, style, value)))
                added.append(col)
                continue
            style = cell.attrs.get("s")
            formula = cell.formula
            if formula is not None and formula.get("t") == "shared" and formula.get("ref"):
                raise Unpatchable(f"{self.ref.name}!{cell_name(row, col)} anchors a shared formula")
            if not self._may_write(row, col, style):
                continue
            self.overwrote_formula |= formula is not None
            new = b"" if value is None and not style else cell_xml(row, col, style, value)
            self.splices.append((cell.start, cell.end, new))
        if not inserts:
            return
        if existing.closed:  # <row .../> becomes <row ...>cells</row>
            attrs = widen_spans(existing.attrs[:-1], added)
            body = b"".join(xml for _, xml in inserts)
            tag = b"<row" + attrs + b">" + body + b"</row>"
            self.splices.append((existing.start, existing.tag_end, tag))
            return
        self.splices.extend((at, at, xml) for at, xml in inserts)
        attrs = widen_spans(existing.attrs, added)
        if attrs != existing.attrs:
            self.splices.append((existing.start, existing.tag_end, b"<row" + attrs + b">"))

    def _new_row(self, index: int, row: int, wanted: dict[int, Value]) -> bytes:
        """A new row, its cells styled like the nearest row above that is not a header."""
        row_style, above = self._styles_above(index)
        cells = []
        for col in sorted(wanted):
            value = wanted[col]
            style = above[col] if col in above else row_style or self._column_style(col)
            if value is not None and self._may_write(row, col, style):
                cells.append(cell_xml(row, col, style, value))
        if not cells:
            return b""
        head = f'<row r="{row}"' + (f' s="{row_style}" customFormat="1"' if row_style else "")
        return head.encode() + b">" + b"".join(cells) + b"</row>"

    def _styles_above(self, index: int) -> tuple[str | None, dict[int, str | None]]:
        """The row style and the cell styles by column of the row before `index`."""
        rows = self.ws.rows()
        i = index - 1
        if i < 0 or rows[i].row <= self.header_rows:
            return None, {}
        if i not in self._above:
            attrs = attributes(rows[i].attrs.rstrip(b"/"))
            custom = attrs.get("customFormat") in ("1", "true")
            self._above[i] = (
                attrs.get("s") if custom else None,
                {c.col: c.attrs.get("s") for c in self.ws.cells(rows[i])},
            )
        return self._above[i]


def _dimension(ws: Worksheet, written: set[Cell]) -> list[tuple[int, int, bytes]]:
    m = re.search(rb'<dimension\s+ref="([^"]*)"\s*/>', ws.xml[: ws.data_start])
    if not m:
        return []
    rect = list(parse_range(m.group(1).decode()))
    for row, col in written:
        rect = [min(rect[0], row), min(rect[1], col), max(rect[2], row), max(rect[3], col)]
    new = f'<dimension ref="{range_name(tuple(rect))}"/>'.encode()
    return [] if new == m.group(0) else [(m.start(), m.end(), new)]


def apply_splices(xml: bytes, splices: list[tuple[int, int, bytes]]) -> bytes:
    pieces, pos = [], 0
    for start, end, new in sorted(splices, key=lambda s: (s[0], s[1])):
        if start < pos:
            raise AssertionError("overlapping splices")  # a bug, never a file's fault
        pieces += [xml[pos:start], new]
        pos = end
    pieces.append(xml[pos:])
    return b"".join(pieces)


# ---------------------------------------------------------------------------------------------
# The public entry points


def _patched(
    data: bytes, edits: Mapping[str, Mapping[Cell, Value]], header_rows: int
) -> tuple[Package, dict[str, bytes], set[str], list[Refusal]]:
    package = Package.open(data)
    for name in edits:
        if package.sheet(name).kind != "worksheet":
            raise Unpatchable(f"sheet {name!r} is not a worksheet")
    sheets = {
        ref.part: Worksheet(ref.part, package.archive.read(ref.part))
        for ref in package.worksheets()
    }
    refused: list[Refusal] = []
    styles = Styles.read(package) if any(ws.protected() for ws in sheets.values()) else None
    splices: dict[str, list[tuple[int, int, bytes]]] = {}
    edited: dict[str, set[Cell]] = {}
    overwrote_formula = False
    for name, cells in edits.items():
        ref = package.sheet(name)
        patch = SheetPatch(package, ref, sheets[ref.part], header_rows, styles)
        patch.apply(cells)
        refused.extend(patch.refused)
        if patch.written:
            splices[ref.part] = patch.splices
            edited[name.casefold()] = patch.written
        overwrote_formula |= patch.overwrote_formula
    replaced: dict[str, bytes] = {}
    removed: set[str] = set()
    if edited:
        stale = stale_formulas(formula_cells(package, sheets), edited)
        for f in stale:
            if f.cached:
                splices.setdefault(f.part, []).append((f.cell.start, f.cell.end, uncached(f.cell)))
        if stale:
            workbook = full_calc_on_load(package.workbook_xml)
            if workbook != package.workbook_xml:
                replaced[package.workbook_part] = workbook
        if overwrote_formula:
            removed = without_calc_chain(package, replaced)
    for part, changes in splices.items():
        if changes:
            replaced[part] = apply_splices(sheets[part].xml, changes)
    return package, replaced, removed, refused


def patch_bytes(
    data: bytes, edits: Mapping[str, Mapping[Cell, Value]], *, header_rows: int = 1
) -> tuple[bytes, list[Refusal]]:
    """The workbook `data` with `edits` ({sheet: {(row, col): value}}, 1-based) written in.

    Only worksheets whose cells change are rewritten (plus formula caches that go stale,
    workbook.xml's recalculation flag, and calcChain.xml's removal when a formula is
    overwritten); every other member is copied byte for byte. New text is stored inline, so
    sharedStrings.xml never changes. A new row copies the styles of the nearest row above
    that is not one of the `header_rows`. Returns the new bytes and the cells left alone and
    why (merged, array formula, table header, locked, unstorable value). Raises
    `Unpatchable` when the file has a shape this cannot prove it handles.
    """
    package, replaced, removed, refused = _patched(data, edits, header_rows)
    if not replaced and not removed:
        return data, refused
    out = io.BytesIO()
    package.archive.write(out, replaced, removed)
    return out.getvalue(), refused


def patch_cells(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    edits: Mapping[str, Mapping[Cell, Value]],
    *,
    header_rows: int = 1,
) -> list[Refusal]:
    """Write `src` with `edits` to `dst` (see `patch_bytes`); nothing is written to `dst`
    when the file is `Unpatchable`."""
    data, refused = patch_bytes(Path(src).read_bytes(), edits, header_rows=header_rows)
    Path(dst).write_bytes(data)
    return refused
