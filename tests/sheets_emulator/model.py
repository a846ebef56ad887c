"""The emulator's in-memory spreadsheets, A1 ranges, and what a person can do to them.

A cell holds a value (str, number, bool), or an error (an `ErrorValue` type), maybe from a
formula (formulas are not evaluated: a test says what one evaluates to), a note and a format.
Formats applied to ranges (repeatCell, a person formatting a column) are kept as layers, so a
formatted column of a 10,000-row grid costs one entry yet every one of its cells is
"formatted but empty" in grid data, as on Google.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any

from tests.sheets_emulator.render import serial

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}
PROTECTED = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner "
    "to remove protection if you need to edit."
)


class ApiError(Exception):
    """An error reply in the API's JSON shape ({"error": {code, message, status}})."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    @property
    def status(self) -> str:
        return STATUS.get(self.code, "UNKNOWN")

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


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


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_RANGE = re.compile(
    r"^(?:[A-Za-z]{1,3}\d+|(?:[A-Za-z]{1,3}\d*|\d+):(?:[A-Za-z]{1,3}\d*|\d+))$"
)  # a cell (Q3) or a range (A1:B2, A:C, 2:5, A5:A); a lone word is a sheet title
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def a1_title(title: str) -> str:
    """A sheet title as the API writes it in ranges: quoted unless plainly a name."""
    if _PLAIN_TITLE.match(title) and not _RANGE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass
class Cell:
    value: Any = None  # str | float | int | bool | None
    formula: str | None = None
    error: str | None = None  # an ErrorValue type such as DIVIDE_BY_ZERO
    note: str | None = None
    fmt: dict[str, Any] = field(default_factory=dict)

    def empty(self) -> bool:
        return self.value is None and self.error is None


@dataclass
class Layer:
    """A format over rows r0..r1, columns c0..c1 (1-based, inclusive); `keys` are the
    userEnteredFormat fields it sets (None: all of them)."""

    r0: int
    c0: int
    r1: int
    c1: int
    fmt: dict[str, Any]
    keys: tuple[str, ...] | None = None

    def covers(self, r: int, c: int) -> bool:
        return self.r0 <= r <= self.r1 and self.c0 <= c <= self.c1


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
    layers: list[Layer] = field(default_factory=list)
    validations: list[tuple[int, int, int, int, dict[str, Any]]] = field(default_factory=list)
    conditional: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)  # EmbeddedChart, as added

    # --- reading -------------------------------------------------------------------------

    def used(self) -> tuple[int, int]:
        """Last row and column holding a value (what the values API returns up to)."""
        filled = [(r, c) for (r, c), cell in self.cells.items() if not cell.empty()]
        if not filled:
            return 0, 0
        return max(r for r, _ in filled), max(c for _, c in filled)

    def extent(self) -> tuple[int, int]:
        """Last row and column holding anything: a value, a note, a format or a validation
        rule (what grid data returns up to)."""
        rows = [r for (r, _c), cell in self.cells.items() if not cell.empty() or cell.note]
        cols = [c for (_r, c), cell in self.cells.items() if not cell.empty() or cell.note]
        rows += [r for (r, _c), cell in self.cells.items() if cell.fmt]
        cols += [c for (_r, c), cell in self.cells.items() if cell.fmt]
        for box in [(x.r0, x.c0, x.r1, x.c1) for x in self.layers] + [
            v[:4] for v in self.validations
        ]:
            rows.append(min(box[2], self.rows))
            cols.append(min(box[3], self.cols))
        return (max(rows) if rows else 0), (max(cols) if cols else 0)

    def get(self, r: int, c: int) -> Any:
        cell = self.cells.get((r, c))
        return None if cell is None else cell.value

    def user_format(self, r: int, c: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for layer in self.layers:
            if layer.covers(r, c):
                if layer.keys is None:
                    out = copy.deepcopy(layer.fmt)
                else:
                    for key in layer.keys:
                        if key in layer.fmt:
                            out[key] = copy.deepcopy(layer.fmt[key])
                        else:
                            out.pop(key, None)
        cell = self.cells.get((r, c))
        if cell is not None and cell.fmt:
            out.update(copy.deepcopy(cell.fmt))
        return out

    def validation_at(self, r: int, c: int) -> dict[str, Any] | None:
        for r0, c0, r1, c1, rule in reversed(self.validations):
            if r0 <= r <= r1 and c0 <= c <= c1:
                return rule
        return None

    def grid(self) -> list[list[Any]]:
        """Values as a person sees them, row-major, for test assertions (errors as #TEXT)."""
        from tests.sheets_emulator.render import ERROR_TEXT

        rows, cols = self.used()
        out = []
        for r in range(1, rows + 1):
            row = []
            for c in range(1, cols + 1):
                cell = self.cells.get((r, c))
                row.append(ERROR_TEXT[cell.error] if cell and cell.error else self.get(r, c))
            out.append(row)
        return out

    # --- writing (the API's requests and a person's edits) ---------------------------------

    def fresh(self, r: int, c: int) -> Cell:
        """The cell at (r, c) as a new object to change (copy on write: a failed batch
        restores the old objects)."""
        old = self.cells.get((r, c))
        cell = Cell() if old is None else Cell(old.value, old.formula, old.error, old.note)
        if old is not None:
            cell.fmt = dict(old.fmt)
        self.cells[(r, c)] = cell
        return cell

    def check_inside(self, r: int, c: int, r1: int | None = None, c1: int | None = None) -> None:
        """A values write (or a GridRange) reaching past the grid: HTTP 400 "Range (Blad1!BB1)
        exceeds grid limits. Max rows: 1000, max columns: 30" (google/hyou issue #15 from
        values.batchUpdate; jroehl/gsheet.action issue #611 from a values write one row past;
        socialpoint-labs/sheetfu issue #53 from updateCells with a `range`)."""
        r1, c1 = r1 or r, c1 or c
        if r1 > self.rows or c1 > self.cols:
            cells = f"{col_letters(c)}{r}"
            if (r1, c1) != (r, c):
                cells += f":{col_letters(c1)}{r1}"
            raise ApiError(
                400,
                f"Range ({a1_title(self.title)}!{cells}) exceeds grid limits. "
                f"Max rows: {self.rows}, max columns: {self.cols}",
            )

    def check_writable(self, r: int, c: int) -> None:
        """updateCells (from a `start`) and appendCells writing past the grid: HTTP 400
        "Attempting to write column: 26, beyond the last requested column of: 25" (0-based;
        AMWA-TV/nmos-testing PR #578 from updateCells, OpenRefine issue #2760 from
        appendCells) and "Attempting to write row: 1000, beyond the last requested row of:
        999" (Thource/dude-wheres-my-stuff issue #428). Neither request grows the columns."""
        if r > self.rows:
            raise ApiError(
                400,
                f"Attempting to write row: {r - 1}, beyond the last requested row of: "
                f"{self.rows - 1}",
            )
        if c > self.cols:
            raise ApiError(
                400,
                f"Attempting to write column: {c - 1}, beyond the last requested column of: "
                f"{self.cols - 1}",
            )

    def put(self, r: int, c: int, value: Any, formula: str | None = None) -> None:
        """A value typed (or pasted) into a cell; a date becomes a serial number shown as
        yyyy-mm-dd, as when a person types 2026-06-01."""
        self.check_inside(r, c)
        cell = self.fresh(r, c)
        if isinstance(value, dt.date):
            cell.fmt["numberFormat"] = {
                "type": "DATE_TIME" if isinstance(value, dt.datetime) else "DATE",
                "pattern": "yyyy-mm-dd hh:mm" if isinstance(value, dt.datetime) else "yyyy-mm-dd",
            }
            value = serial(value)
        cell.value = None if value == "" else value
        cell.formula = formula
        cell.error = None

    def put_error(self, r: int, c: int, formula: str, error: str = "DIVIDE_BY_ZERO") -> None:
        """A formula that evaluates to an error, such as =1/0 (#DIV/0!)."""
        self.check_inside(r, c)
        cell = self.fresh(r, c)
        cell.value, cell.formula, cell.error = None, formula, error

    def sort_rows(self, col: int, first: int = 2, reverse: bool = False) -> None:
        """A person sorts the rows from `first` down by column `col` (Data > Sort range;
        SortRangeRequest: whole rows move, cells with their values, formulas, notes and
        formats; empty cells sort last whatever the order)."""
        last = self.used()[0]
        rows = list(range(first, last + 1))
        value = {r: _sort_key(self.get(r, col)) for r in rows}
        filled = sorted((r for r in rows if value[r] is not None), key=value.get, reverse=reverse)
        order = filled + [r for r in rows if value[r] is None]
        self._move_rows({old: new for new, old in zip(rows, order, strict=True)})

    def insert_rows(self, at: int, count: int = 1) -> None:
        """A person inserts `count` empty rows above row `at` (InsertDimensionRequest: the
        rows below move down and the grid grows by `count`)."""
        self.rows += count
        self._move_rows({r: r + count for r in range(at, self.used()[0] + 1)})

    def delete_rows(self, at: int, count: int = 1) -> None:
        """A person deletes rows `at`..`at + count - 1` (DeleteDimensionRequest: the rows below
        move up and the grid shrinks; a tab keeps at least one row)."""
        if count >= self.rows:
            raise ApiError(400, "You can't delete all the rows on the sheet.")
        for key in [k for k in self.cells if at <= k[0] < at + count]:
            del self.cells[key]
        self._move_rows({r: r - count for r in range(at + count, self.used()[0] + 1)})
        self.rows -= count

    def _move_rows(self, moves: dict[int, int]) -> None:
        moved = {(r, c): cell for (r, c), cell in self.cells.items() if r in moves}
        for key in moved:
            del self.cells[key]
        for (r, c), cell in moved.items():
            self.cells[(moves[r], c)] = cell

    def format_range(
        self, r0: int, c0: int, r1: int | None, c1: int | None, fmt: dict[str, Any]
    ) -> None:
        """A person formats a range (None: to the grid's end), e.g. a whole empty column."""
        r1 = min(r1 or self.rows, self.rows)
        c1 = min(c1 or self.cols, self.cols)
        self.layers.append(Layer(r0, c0, r1, c1, copy.deepcopy(fmt), tuple(fmt)))

    def protect(
        self,
        r0: int = 1,
        c0: int = 1,
        r1: int | None = None,
        c1: int | None = None,
        description: str = "",
        warning_only: bool = False,
        by_caller: bool = False,
    ) -> dict[str, Any]:
        """A protected range made by a person (the caller is not among its editors) or, with
        `by_caller`, by the API caller."""
        rng: dict[str, Any] = {"sheetId": self.sheet_id}
        rng["startRowIndex"], rng["startColumnIndex"] = r0 - 1, c0 - 1
        if r1 is not None:
            rng["endRowIndex"] = r1
        if c1 is not None:
            rng["endColumnIndex"] = c1
        prot = {
            "protectedRangeId": random.Random(len(self.protected)).randrange(10**8, 10**9),
            "range": rng,
            "description": description,
            "warningOnly": warning_only,
            "requestingUserCanEdit": by_caller or warning_only,
        }
        self.protected.append(prot)
        return prot

    def blocking(self, r0: int, c0: int, r1: int, c1: int) -> dict[str, Any] | None:
        """The first protected range the caller may not edit that overlaps the box."""
        for prot in self.protected:
            if prot.get("warningOnly") or prot.get("requestingUserCanEdit"):
                continue
            g = prot.get("range", {})
            pr0, pc0 = g.get("startRowIndex", 0) + 1, g.get("startColumnIndex", 0) + 1
            pr1, pc1 = g.get("endRowIndex", self.rows), g.get("endColumnIndex", self.cols)
            if r0 <= pr1 and pr0 <= r1 and c0 <= pc1 and pc0 <= c1:
                return prot
        return None

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:  # proto3 JSON leaves out zeros and false (recorded responses)
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        out: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            out["hidden"] = True
        return out


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str = "Experiments"
    sheets: list[Sheet] = field(default_factory=list)
    access: str = "writer"  # the caller's role: owner, writer, reader or none
    metadata: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 0

    def add_sheet(
        self,
        title: str,
        rows: int = DEFAULT_ROWS,
        cols: int = DEFAULT_COLS,
        hidden: bool = False,
        sheet_id: int | None = None,
    ) -> Sheet:
        """A new tab. Titles are unique without regard to case, as in the Sheets UI."""
        if any(s.title.casefold() == title.casefold() for s in self.sheets):
            raise ApiError(
                400,
                f'A sheet with the name "{title}" already exists. Please enter another name.',
            )
        if sheet_id is None:
            sheet_id = 0 if not self.sheets else self._new_id()
        elif any(s.sheet_id == sheet_id for s in self.sheets):
            raise ApiError(400, f"Sheet with id {sheet_id} already exists.")
        sheet = Sheet(sheet_id, title, len(self.sheets), rows, cols, hidden)
        self.sheets.append(sheet)
        return sheet

    def _new_id(self) -> int:
        self.next_id += 1
        return random.Random(f"{self.spreadsheet_id}/{self.next_id}").randrange(1, 2**31 - 1)

    def delete_sheet(self, title: str) -> None:
        """deleteSheet (or a person deleting a tab): a spreadsheet keeps at least one sheet,
        "You can't remove all the sheets in a document." (googleapis/google-api-php-client
        issue #1293, from deleteSheet)."""
        sheet = self.sheet(title)
        if len(self.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        self.sheets.remove(sheet)
        for i, s in enumerate(self.sheets):
            s.index = i

    def sheet(self, title: str) -> Sheet:
        """The tab named `title` (exactly, else ignoring case, as A1 references resolve)."""
        for s in self.sheets:
            if s.title == title:
                return s
        for s in self.sheets:
            if s.title.casefold() == title.casefold():
                return s
        raise ApiError(400, f"Unable to parse range: {title}")

    def cells(self) -> int:
        """Cells in every tab's grid, the number Google's 10,000,000-cell limit counts."""
        return sum(s.rows * s.cols for s in self.sheets)

    def by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def read_range(self, a1: str) -> tuple[Sheet, int, int, int | None, int | None]:
        """`parse_range` for a read, refused as the API refuses it when a row or column it
        names lies past the tab's grid (pygsheets issues #416 and #124: values.get of such a
        range is HTTP 400 "Range (...) exceeds grid limits. Max rows: R, max columns: C";
        gspread issues #371 and #411 met the same with 26 columns and with rows). Open ends
        (`A:Z`, `1:1`, `A2:Z`) run to the grid's end and are never refused; a bound named past
        it is (`A:AC` on 26 columns, `A1001:A` on 1,000 rows). A tab always has a row and a
        column (deleteDimension refuses "You can't delete all the rows on the sheet",
        GoogleSheetsWrapper issue #43), so `Tab` and `Tab!1:1` are always within it."""
        sheet, r0, c0, r1, c1 = self.parse_range(a1)
        beyond = r0 > sheet.rows or c0 > sheet.cols
        beyond = beyond or (r1 is not None and r1 > sheet.rows)
        beyond = beyond or (c1 is not None and c1 > sheet.cols)
        if beyond:
            cells = _split(a1)[1]
            raise ApiError(
                400,
                f"Range ({a1_title(sheet.title)}!{cells}) exceeds grid limits. "
                f"Max rows: {sheet.rows}, max columns: {sheet.cols}",
            )
        return sheet, r0, c0, r1, c1

    def parse_range(self, a1: str) -> tuple[Sheet, int, int, int | None, int | None]:
        """'Tab!A1:C3' -> (sheet, row0, col0, row1, col1), 1-based, None = to the grid's end.

        As the A1-notation guide says: `Sheet1` is a whole sheet, `A1:B2` (no sheet) is on the
        first visible sheet, and a title that reads as a range (`Q3`) must be quoted.
        """
        title, cells = _split(a1)
        if title is None:
            if _RANGE.match(cells):
                visible = [s for s in self.sheets if not s.hidden]
                if not visible:
                    raise ApiError(400, f"Unable to parse range: {a1}")
                sheet, title_cells = visible[0], cells
            else:
                sheet, title_cells = self.sheet(cells), ""
        else:
            sheet, title_cells = self.sheet(title), cells
        if not title_cells:
            return sheet, 1, 1, None, None
        if not _RANGE.match(title_cells):
            raise ApiError(400, f"Unable to parse range: {a1}")
        start, _, end = title_cells.partition(":")
        m1, m2 = _CELL.match(start), _CELL.match(end or start)
        assert m1 and m2
        c0 = col_number(m1[1]) if m1[1] else 1
        r0 = int(m1[2]) if m1[2] else 1
        c1 = col_number(m2[1]) if m2[1] else None
        r1 = int(m2[2]) if m2[2] else None
        if not end:
            c1, r1 = c0, r0
        if (r1 is not None and r1 < r0) or (c1 is not None and c1 < c0):
            r0, r1 = min(r0, r1 or r0), max(r0, r1 or r0)
            c0, c1 = min(c0, c1 or c0), max(c0, c1 or c0)
        return sheet, r0, c0, r1, c1


def _sort_key(value: Any) -> tuple[int, Any] | None:
    """Numbers before text, as the Sheets sort orders them; None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return (0, float(value))
    return (1, str(value).casefold())


def _split(a1: str) -> tuple[str | None, str]:
    """('Title', 'A1:B2') from "'Title'!A1:B2"; (None, text) when no sheet is named."""
    if a1.startswith("'"):
        i, title = 1, []
        while i < len(a1):
            if a1[i] == "'":
                if a1[i + 1 : i + 2] == "'":
                    title.append("'")
                    i += 2
                    continue
                break
            title.append(a1[i])
            i += 1
        rest = a1[i + 1 :]
        if rest and not rest.startswith("!"):
            raise ApiError(400, f"Unable to parse range: {a1}")
        return "".join(title), rest[1:]
    if "!" in a1:
        title, _, cells = a1.rpartition("!")
        return title, cells
    return None, a1
