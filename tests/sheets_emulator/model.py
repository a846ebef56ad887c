"""The emulator's in-memory spreadsheets and A1 ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str = "INVALID_ARGUMENT"):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


@dataclass
class Cell:
    value: Any = None  # str | float | int | bool | None
    formula: str | None = None
    note: str | None = None
    fmt: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = DEFAULT_ROWS
    cols: int = DEFAULT_COLS
    hidden: bool = False
    frozen_rows: int = 0
    frozen_cols: int = 0
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    validation: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)

    def used(self) -> tuple[int, int]:
        filled = [(r, c) for (r, c), cell in self.cells.items() if cell.value not in (None, "")]
        if not filled:
            return 0, 0
        return max(r for r, _ in filled), max(c for _, c in filled)

    def get(self, r: int, c: int) -> Any:
        cell = self.cells.get((r, c))
        return None if cell is None else cell.value

    def put(self, r: int, c: int, value: Any, formula: str | None = None) -> None:
        if r > self.rows or c > self.cols:
            raise ApiError(
                400,
                f"Range ('{self.title}'!{col_letters(c)}{r}) exceeds grid limits. "
                f"Max rows: {self.rows}, max columns: {self.cols}",
            )
        cell = self.cells.setdefault((r, c), Cell())
        cell.value = None if value == "" else value
        cell.formula = formula

    def grid(self) -> list[list[Any]]:
        """Values as a person sees them, row-major, for test assertions."""
        rows, cols = self.used()
        return [[self.get(r, c) for c in range(1, cols + 1)] for r in range(1, rows + 1)]

    def properties(self) -> dict[str, Any]:
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "hidden": self.hidden,
            "gridProperties": {
                "rowCount": self.rows,
                "columnCount": self.cols,
                "frozenRowCount": self.frozen_rows,
                "frozenColumnCount": self.frozen_cols,
            },
        }


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str = "Experiments"
    sheets: list[Sheet] = field(default_factory=list)
    next_id: int = 0

    def add_sheet(
        self, title: str, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLS, hidden: bool = False
    ) -> Sheet:
        if any(s.title == title for s in self.sheets):
            raise ApiError(
                400,
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" '
                "already exists. Please enter another name.",
            )
        sheet = Sheet(self.next_id, title, len(self.sheets), rows, cols, hidden)
        self.next_id += 1
        self.sheets.append(sheet)
        return sheet

    def sheet(self, title: str) -> Sheet:
        for s in self.sheets:
            if s.title == title:
                return s
        raise ApiError(400, f"Unable to parse range: {title}")

    def by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def parse_range(self, a1: str) -> tuple[Sheet, int, int, int | None, int | None]:
        """'Tab!A1:C3' -> (sheet, row0, col0, row1, col1), 1-based, None = to the grid's end."""
        title, _, cells = a1.rpartition("!")
        if not title:
            title, cells = cells, ""
        if title.startswith("'") and title.endswith("'"):
            title = title[1:-1].replace("''", "'")
        sheet = self.sheet(title)
        if not cells:
            return sheet, 1, 1, None, None
        start, _, end = cells.partition(":")
        m1, m2 = _CELL.match(start), _CELL.match(end or start)
        if not m1 or not m2 or not (start and (m1[1] or m1[2])):
            raise ApiError(400, f"Unable to parse range: {a1}")
        c0 = col_number(m1[1]) if m1[1] else 1
        r0 = int(m1[2]) if m1[2] else 1
        c1 = col_number(m2[1]) if m2[1] else None
        r1 = int(m2[2]) if m2[2] else None
        if not end:
            c1, r1 = c0, r0
        return sheet, r0, c0, r1, c1
