"""Cell references in A1 notation, and the two outcomes every part of the patcher speaks of:
a file it cannot prove it handles (`Unpatchable`) and a cell it left alone (`Refusal`)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sheetsync.sheet.grid import column_letter

Cell = tuple[int, int]  # (row, col), 1-based
Rect = tuple[int, int, int, int]  # (row1, col1, row2, col2), inclusive
MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's last row and column


class Unpatchable(Exception):
    """The file has a shape the patcher cannot prove it handles; fall back to openpyxl."""


@dataclass(frozen=True)
class Refusal:
    """An edited cell the patcher left alone, and why (the rest of the patch is written)."""

    sheet: str
    row: int
    col: int
    reason: str

    def __str__(self) -> str:
        return f"{self.sheet}!{cell_name(self.row, self.col)}: {self.reason}"


def cell_name(row: int, col: int) -> str:
    """(2, 3) -> C2."""
    return f"{column_letter(col)}{row}"


@functools.cache
def column_number(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def parse_cell(ref: str) -> Cell:
    """`B3` or `$B$3` -> (3, 2)."""
    m = _A1.fullmatch(ref)
    if not m:
        raise Unpatchable(f"a cell reference {ref!r} the patcher cannot read")
    return int(m.group(2)), column_number(m.group(1))


def parse_range(ref: str) -> Rect:
    """`A1:C3` or `B2` -> (row1, col1, row2, col2)."""
    first, _, last = ref.partition(":")
    r1, c1 = parse_cell(first)
    r2, c2 = parse_cell(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def inside(rect: Rect, row: int, col: int) -> bool:
    return rect[0] <= row <= rect[2] and rect[1] <= col <= rect[3]


def range_name(rect: Rect) -> str:
    """(1, 1, 3, 3) -> A1:C3; a single cell by its name."""
    first, last = cell_name(rect[0], rect[1]), cell_name(rect[2], rect[3])
    return first if first == last else f"{first}:{last}"
