"""One worksheet part read as bytes: where its rows and cells are, found by regular
expressions over the XML without parsing it whole, so a patch can splice bytes in place."""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sheetsync.sheet.backends.xlsx.a1 import Cell, Rect, Unpatchable, column_number, parse_range
from sheetsync.sheet.backends.xlsx.package import MAIN_NS

_ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_ROW = re.compile(rb"<row\b([^>]*)>")
FORMULA = re.compile(rb"<f\b([^>]*?)(?:/>|>(.*?)</f>)", re.S)


# a cell and the blanks before it: (cell, its attributes, column, row, content)
CELL = re.compile(rb'\s*(<c\b([^>]*?\sr="([A-Z]{1,3})(\d+)"[^>]*?)(?:/>|>(.*?)</c>))', re.DOTALL)
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')


def cell_ref(raw: bytes, part: str) -> Cell:
    """(row, col) of a cell from its start tag's attributes."""
    m = _CELL_REF.search(raw)
    if not m:
        raise Unpatchable(f"{part}: a cell without its reference")
    return int(m.group(2)), column_number(m.group(1).decode())


def attributes(raw: bytes) -> dict[str, str]:
    return {
        m.group(1).decode(): html.unescape((m.group(2) or m.group(3) or b"").decode())
        for m in _ATTR.finditer(raw)
    }


class XmlCell:
    """A cell found in a worksheet, by the match of `CELL` that found it."""

    __slots__ = ("row", "col", "match")

    def __init__(self, row: int, col: int, match: re.Match[bytes]):
        self.row, self.col, self.match = row, col, match

    @property
    def start(self) -> int:
        return self.match.start(1)

    @property
    def end(self) -> int:
        return self.match.end()

    @property
    def inner(self) -> bytes:
        return self.match.group(5) or b""

    @property
    def attrs(self) -> dict[str, str]:
        return attributes(self.match.group(2))

    @property
    def formula(self) -> dict[str, str] | None:
        m = FORMULA.match(self.inner)
        return attributes(m.group(1)) if m else None


@dataclass
class XmlRow:
    row: int
    start: int  # of <row
    tag_end: int  # just after the start tag
    attrs: bytes
    closed: bool  # written <row .../>


class Worksheet:
    """One worksheet part: where its rows and cells are, found without parsing it whole."""

    def __init__(self, part: str, xml: bytes):
        self.part = part
        self.xml = xml
        head = xml[:4096]
        if re.match(rb"\s*<\?xml[^>]*encoding=[\"'](?!utf-8)", head, re.I):
            raise Unpatchable(f"{part} is not UTF-8")
        if not re.search(rb'<worksheet\b[^>]*\sxmlns="' + MAIN_NS.encode() + b'"', head):
            raise Unpatchable(f"{part} is not a worksheet in the default SpreadsheetML namespace")
        for marker, what in (
            (b"<![CDATA[", "CDATA"),
            (b"<!--", "XML comments"),
            (b"<!DOCTYPE", "a DOCTYPE"),
        ):
            if marker in xml:
                raise Unpatchable(f"{part} holds {what}")
        empty = xml.find(b"<sheetData/>")
        if empty >= 0:
            self.data_start = self.data_end = empty
            self.empty_tag = True
        else:
            opening = xml.find(b"<sheetData>")
            self.data_start = opening + len(b"<sheetData>")
            self.data_end = xml.find(b"</sheetData>")
            self.empty_tag = False
            if opening < 0 or self.data_end < 0:
                raise Unpatchable(f"{part} has no sheetData")
        if xml.count(b"<sheetData") != 1:
            raise Unpatchable(f"{part} has more than one sheetData")
        self._rows: list[XmlRow] | None = None

    def rows(self) -> list[XmlRow]:
        if self._rows is None:
            rows = []
            last = 0
            for m in _ROW.finditer(self.xml, self.data_start, self.data_end):
                attrs = m.group(1)
                r = re.search(rb'\sr="(\d+)"', attrs)
                if not r:
                    raise Unpatchable(f"{self.part}: a row without its number")
                n = int(r.group(1))
                if n <= last:
                    raise Unpatchable(f"{self.part}: rows out of order at row {n}")
                last = n
                rows.append(XmlRow(n, m.start(), m.end(), attrs, attrs.endswith(b"/")))
            self._rows = rows
            self._numbers = [r.row for r in rows]
        return self._rows

    def find_row(self, n: int) -> tuple[int, XmlRow | None]:
        """Index of the first row numbered n or more, and that row if it is n."""
        rows = self.rows()
        i = bisect.bisect_left(self._numbers, n)
        return i, (rows[i] if i < len(rows) and rows[i].row == n else None)

    def row_end(self, row: XmlRow) -> int:
        """Offset of the row's `</row>` (or of its end when self-closing)."""
        if row.closed:
            return row.tag_end
        end = self.xml.find(b"</row>", row.tag_end, self.data_end)
        if end < 0:
            raise Unpatchable(f"{self.part}: row {row.row} is not closed")
        return end

    def cells(self, row: XmlRow) -> list[XmlCell]:
        if row.closed:
            return []
        end = self.row_end(row)
        cells: list[XmlCell] = []
        pos = row.tag_end
        number = str(row.row).encode()
        for m in CELL.finditer(self.xml, pos, end):
            if m.start() != pos or m.group(4) != number:
                raise Unpatchable(f"{self.part}: row {row.row} holds more than cells")
            col = column_number(m.group(3).decode())
            if cells and col <= cells[-1].col:
                raise Unpatchable(f"{self.part}: cells out of order in row {row.row}")
            cells.append(XmlCell(row.row, col, m))
            pos = m.end()
        if self.xml[pos:end].strip():
            raise Unpatchable(f"{self.part}: row {row.row} holds more than cells")
        return cells

    def ranges(self, tag: bytes) -> list[Rect]:
        """Ranges of `<mergeCell ref=...>` and the like, outside sheetData."""
        tail = self.xml[self.data_end :]
        return [
            parse_range(m.group(1).decode())
            for m in re.finditer(rb"<" + tag + rb'\b[^>]*?\sref="([^"]+)"', tail)
        ]

    def formula_ranges(self, kind: bytes) -> list[Rect]:
        """Ranges of array or data-table formulas (no cell of a multi-cell one is written)."""
        if b'"' + kind + b'"' not in self.xml:
            return []
        out = []
        for m in FORMULA.finditer(self.xml, self.data_start, self.data_end):
            attrs = attributes(m.group(1))
            if attrs.get("t") == kind.decode() and attrs.get("ref"):
                out.append(parse_range(attrs["ref"]))
        return out

    def formula_cells(self) -> Iterator[XmlCell]:
        """Every cell holding a formula."""
        xml = self.xml
        if b"<f" not in xml:
            return
        pos = self.data_start
        while True:
            f = FORMULA.search(xml, pos, self.data_end)
            if not f:
                return
            m = CELL.match(xml, xml.rfind(b"<c", 0, f.start()), self.data_end)
            if not m or not m.start(5) <= f.start() < m.end(5):
                raise Unpatchable(f"{self.part}: a formula outside a cell")
            yield XmlCell(int(m.group(4)), column_number(m.group(3).decode()), m)
            pos = m.end()

    def column_styles(self) -> list[tuple[int, int, str]]:
        head = self.xml[: self.data_start]
        out = []
        for m in re.finditer(rb"<col\b([^>]*)>", head):
            a = attributes(m.group(1))
            if a.get("style") and a.get("min") and a.get("max"):
                out.append((int(a["min"]), int(a["max"]), a["style"]))
        return out

    def protected(self) -> bool:
        m = re.search(rb"<sheetProtection\b([^>]*)>", self.xml[self.data_end :])
        return bool(m) and attributes(m.group(1)).get("sheet") in ("1", "true")
