"""Formulas: which cells each one may read (through names, shared copies and other tabs), and
so which cached values go stale when cells change."""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sheetsync.sheet.backends.xlsx.a1 import MAX_COL, MAX_ROW, Cell, Unpatchable, column_number
from sheetsync.sheet.backends.xlsx.package import Package
from sheetsync.sheet.backends.xlsx.worksheet import FORMULA, Worksheet, XmlCell, attributes

RECALC_ROUNDS = 8  # formula-to-formula hops followed cell by cell, then tab by tab


@dataclass(frozen=True)
class _Ref:
    sheet: str | None  # case-folded sheet name; None for the formula's own sheet
    r1: int
    c1: int
    r2: int
    c2: int
    fixed: tuple[bool, bool, bool, bool]  # $ on r1, c1, r2, c2: what a shared copy keeps


_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"]|"")*")
  | (?P<error>\#[A-Z0-9/]+[!?]?)
  | (?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_\\][\w.\\]*(?::[A-Za-z_\\][\w.\\]*)?)!)?
    (?:(?P<area>(?P<c1>\$?[A-Za-z]{1,3})(?P<r1>\$?\d+)(?::(?P<c2>\$?[A-Za-z]{1,3})(?P<r2>\$?\d+))?)
      |(?P<cols>(?P<cc1>\$?[A-Za-z]{1,3}):(?P<cc2>\$?[A-Za-z]{1,3}))
      |(?P<rows>(?P<rr1>\$?\d+):(?P<rr2>\$?\d+)))
    (?![\w.(\[!])
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_\\][\w.\\?]*)(?P<call>\s*\()?(?P<bracket>\[)?
  | (?P<other>.)
    """,
    re.X | re.S,
)
_INDIRECT = {"INDIRECT", "OFFSET", "_XLFN.LET", "_XLFN.LAMBDA"}


def _bound(text: str) -> tuple[int, bool]:
    fixed = text.startswith("$")
    return (
        int(text.lstrip("$")) if text.lstrip("$").isdigit() else column_number(text.lstrip("$"))
    ), fixed


def _references(
    text: str, names: Mapping[tuple[str, int | None], str], sheet_index: int, depth: int = 0
) -> list[_Ref] | None:
    """The cell ranges a formula reads, or None when that cannot be told (names it cannot
    resolve, INDIRECT, structured or 3-D references): then it may read anything."""
    refs: list[_Ref] = []
    for m in _TOKEN.finditer(text):
        sheet = m.group("sheet")
        if sheet is not None:
            if ":" in sheet or sheet.startswith("["):
                return None  # a 3-D or external reference
            sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            sheet = sheet.casefold()
        if m.group("area"):
            r1, f_r1 = _bound(m.group("r1"))
            c1, f_c1 = _bound(m.group("c1"))
            r2, f_r2 = _bound(m.group("r2") or m.group("r1"))
            c2, f_c2 = _bound(m.group("c2") or m.group("c1"))
            refs.append(_Ref(sheet, r1, c1, r2, c2, (f_r1, f_c1, f_r2, f_c2)))
        elif m.group("cols"):
            c1, f_c1 = _bound(m.group("cc1"))
            c2, f_c2 = _bound(m.group("cc2"))
            refs.append(_Ref(sheet, 1, c1, MAX_ROW, c2, (True, f_c1, True, f_c2)))
        elif m.group("rows"):
            r1, f_r1 = _bound(m.group("rr1"))
            r2, f_r2 = _bound(m.group("rr2"))
            refs.append(_Ref(sheet, r1, 1, r2, MAX_COL, (f_r1, True, f_r2, True)))
        elif m.group("name"):
            word = m.group("name").upper()
            if m.group("bracket") or sheet is not None:
                return None  # a table's structured reference or a sheet-scoped name
            if m.group("call"):
                if word in _INDIRECT:
                    return None
                continue
            if word in ("TRUE", "FALSE"):
                continue
            body = names.get((word, sheet_index), names.get((word, None)))
            if body is None or depth > 5:
                return None
            inner = _references(body, names, sheet_index, depth + 1)
            if inner is None:
                return None
            refs.extend(inner)
    return refs


@dataclass
class FormulaCell:
    sheet: str  # case-folded
    part: str
    row: int
    col: int
    refs: list[tuple[str, int, int, int, int]] | None  # None: may read anything
    cached: bool
    cell: XmlCell


def formula_cells(package: Package, sheets: Mapping[str, Worksheet]) -> list[FormulaCell]:
    """Every formula cell of the workbook with the ranges it reads."""
    names = package.defined_names()
    out = []
    for ref in package.worksheets():
        ws = sheets[ref.part]
        own = ref.name.casefold()
        masters: dict[str, tuple[int, int, list[_Ref] | None]] = {}
        pending = []
        for cell in ws.formula_cells():
            m = FORMULA.match(cell.inner)
            attrs = attributes(m.group(1)) if m else {}
            text = html.unescape((m.group(2) or b"").decode()) if m else ""
            if attrs.get("t") == "shared" and not text.strip():
                pending.append((cell, attrs.get("si", "")))
                continue
            parsed = _references(text, names, ref.index)
            if attrs.get("t") == "shared":
                masters[attrs.get("si", "")] = (cell.row, cell.col, parsed)
            pending.append((cell, None))
            out.append(_absolute(own, ref.part, cell, parsed))
        for cell, si in pending:
            if si is None:
                continue
            if si not in masters:
                raise Unpatchable(f"{ws.part}: a shared formula without its first cell")
            mrow, mcol, parsed = masters[si]
            shifted = (
                None
                if parsed is None
                else [_shift(p, cell.row - mrow, cell.col - mcol) for p in parsed]
            )
            out.append(_absolute(own, ref.part, cell, shifted))
    return out


def _shift(ref: _Ref, drow: int, dcol: int) -> _Ref:
    f = ref.fixed
    return _Ref(
        ref.sheet,
        ref.r1 if f[0] else ref.r1 + drow,
        ref.c1 if f[1] else ref.c1 + dcol,
        ref.r2 if f[2] else ref.r2 + drow,
        ref.c2 if f[3] else ref.c2 + dcol,
        f,
    )


def _absolute(own: str, part: str, cell: XmlCell, refs: list[_Ref] | None) -> FormulaCell:
    rects = None if refs is None else [(r.sheet or own, r.r1, r.c1, r.r2, r.c2) for r in refs]
    cached = b"<v" in cell.inner
    return FormulaCell(own, part, cell.row, cell.col, rects, cached, cell)


class _Changed:
    """Changed cells per sheet, indexed by column for range queries."""

    def __init__(self) -> None:
        self.cols: dict[str, dict[int, list[int]]] = {}

    def add(self, sheet: str, row: int, col: int) -> None:
        bisect.insort(self.cols.setdefault(sheet, {}).setdefault(col, []), row)

    def hits(self, rect: tuple[str, int, int, int, int]) -> bool:
        sheet, r1, c1, r2, c2 = rect
        for col, rows in self.cols.get(sheet, {}).items():
            if c1 <= col <= c2:
                i = bisect.bisect_left(rows, r1)
                if i < len(rows) and rows[i] <= r2:
                    return True
        return False


def stale_formulas(formulas: list[FormulaCell], edited: dict[str, set[Cell]]) -> list[FormulaCell]:
    """Formula cells whose value may change when the edited cells change (transitively)."""
    fresh = _Changed()
    for sheet, cells in edited.items():
        for row, col in cells:
            fresh.add(sheet, row, col)
    remaining = [
        f for f in formulas if (f.row, f.col) not in edited.get(f.sheet, ()) and f.refs != []
    ]
    stale: list[FormulaCell] = []
    for _ in range(RECALC_ROUNDS):
        if not fresh.cols or not remaining:
            return stale
        hit, kept = [], []
        for f in remaining:
            if f.refs is None or any(fresh.hits(rect) for rect in f.refs):
                hit.append(f)
            else:
                kept.append(f)
        fresh = _Changed()
        for f in hit:
            fresh.add(f.sheet, f.row, f.col)
        stale.extend(hit)
        remaining = kept
    if fresh.cols:
        # a longer chain: from here on any formula reading a tab that holds a stale formula
        # is taken as stale too (edited cells alone were checked cell by cell above)
        dirty = {f.sheet for f in stale}
        grew = True
        while grew:
            grew, kept = False, []
            for f in remaining:
                if any(rect[0] in dirty for rect in f.refs or ()):
                    stale.append(f)
                    grew |= f.sheet not in dirty
                    dirty.add(f.sheet)
                else:
                    kept.append(f)
            remaining = kept
    return stale
