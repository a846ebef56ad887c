"""The Sheets API v4 as the Google backend uses it: the endpoint, field masks, render
options, tab markers, and the pure helpers that shape requests and normalise responses."""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetsync.errors import BackendError
from sheetsync.sheet import header
from sheetsync.sheet.grid import CellWrite, Grid, column_letter
from sheetsync.vocab import Value

ENDPOINT_ENV = "SHEETSYNC_SHEETS_API"  # another endpoint (a proxy, or the test emulator)
TIMEOUT_ENV = "SHEETSYNC_GOOGLE_TIMEOUT"  # "connect,read" or "read" seconds
DEFAULT_TIMEOUT = (10.0, 120.0)
RETRY_STATUS = (429, 500, 502, 503, 504)
MAX_REQUEST_BYTES = 2_000_000  # Google's usage-limits page: keep payloads under 2 MB
MAX_RANGES = 2_000  # boxes per tab in a check-read (a POST body of about 80 kB)
API = "https://sheets.googleapis.com/v4/spreadsheets/"
VALUES = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
META_FIELDS = (
    "sheets(properties(sheetId,title,hidden,gridProperties(rowCount,columnCount)),"
    "protectedRanges(range,description,warningOnly,requestingUserCanEdit)),"
    "developerMetadata(metadataKey,metadataValue)"
)
FORMAT_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(frozenRowCount,frozenColumnCount)),"
    "data.rowData.values(effectiveValue,note,userEnteredFormat.textFormat.bold),"
    "protectedRanges.description,conditionalFormats.booleanRule.condition)"
)
MARKER = "sheetsync.tab"  # developer metadata: a tab sheetsync created, by sheet id
_KEY = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def sheet_key(target: str) -> str:
    """The spreadsheet key from a URL or a bare key."""
    m = _KEY.search(target)
    return m[1] if m else target.strip()


def quote_tab(tab: str) -> str:
    """A tab title as an A1 range that cannot be read as a cell (`'Q3'`, not `Q3`)."""
    return "'" + tab.replace("'", "''") + "'"


def timeout_from_env() -> tuple[float, float]:
    """$SHEETSYNC_GOOGLE_TIMEOUT as (connect, read) seconds; the default when unset."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) <= 0:
        raise BackendError(f"${TIMEOUT_ENV}={text!r}: give seconds as READ or CONNECT,READ")
    return (parts[0], parts[-1]) if len(parts) == 2 else (DEFAULT_TIMEOUT[0], parts[0])


@dataclass(frozen=True)
class Tab:
    """A tab as the sheet has it: its title may differ in case from the layout's name."""

    title: str
    sheet_id: int
    rows: int
    cols: int
    hidden: bool = False
    protected: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SheetInfo:
    """The tabs of the spreadsheet, and sheetsync's markers (title -> the sheet id it made)."""

    tabs: tuple[Tab, ...]
    markers: Mapping[str, int] = field(default_factory=dict)

    def find(self, name: str) -> Tab | None:
        """The tab named `name`, else the one whose title differs only in case (Google keeps
        titles unique without regard to case, so there is at most one)."""
        for tab in self.tabs:
            if tab.title == name:
                return tab
        return next((t for t in self.tabs if t.title.casefold() == name.casefold()), None)

    def renamed(self, name: str) -> str | None:
        """The current title of the tab sheetsync created as `name`, if a person renamed it."""
        sid = self.markers.get(name)
        tab = next((t for t in self.tabs if t.sheet_id == sid), None)
        if tab is not None and tab.title.casefold() != name.casefold():
            return tab.title
        return None


@dataclass(frozen=True)
class ReadToken:
    """What a read saw, for the write that follows it."""

    info: SheetInfo
    titles: Mapping[str, str]  # the engine's tab name -> the tab's title on the sheet


# --- helpers ----------------------------------------------------------------------------


def ordered_tabs(
    tabs: set[str], writes: Sequence[CellWrite], more: Sequence[str] = ()
) -> list[str]:
    """Tabs in the order the writes first name them (the plan puts the state tab last)."""
    seen: dict[str, None] = {}
    for tab in [w.tab for w in writes] + list(more):
        if tab in tabs:
            seen.setdefault(tab)
    return list(seen)


def cells_by_row(values: Mapping[tuple[int, int], Value]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for r, c in values:
        out.setdefault(r, set()).add(c)
    return out


def exact_boxes(cells: Mapping[int, set[int]]) -> list[tuple[int, int, int, int]]:
    """Rectangles (r0, c0, r1, c1) covering exactly the given cells: runs of adjacent columns
    in a row, stacked while the rows below have the same run."""
    open_: dict[tuple[int, int], list[int]] = {}  # (c0, c1) -> [r0, r1]
    done: list[tuple[int, int, int, int]] = []
    for r in sorted(cells):
        runs = []
        for c in sorted(cells[r]):
            if runs and c == runs[-1][1] + 1:
                runs[-1][1] = c
            else:
                runs.append([c, c])
        current = {(a, b) for a, b in runs}
        for span in list(open_):
            if span not in current or open_[span][1] != r - 1:
                r0, r1 = open_.pop(span)
                done.append((r0, span[0], r1, span[1]))
        for span in current:
            if span in open_:
                open_[span][1] = r
            else:
                open_[span] = [r, r]
    done += [(r0, span[0], r1, span[1]) for span, (r0, r1) in open_.items()]
    return sorted(done)


def cover_boxes(cells: Mapping[int, set[int]], limit: int) -> list[tuple[int, int, int, int]]:
    """At most `limit` boxes (r0, c0, r1, c1) covering the cells: adjacent rows share a box
    spanning their columns; when there are too many, the closest boxes are merged."""
    boxes: list[list[int]] = []
    for r in sorted(cells):
        lo, hi = min(cells[r]), max(cells[r])
        if boxes and boxes[-1][2] == r - 1:
            box = boxes[-1]
            box[1], box[2], box[3] = min(box[1], lo), r, max(box[3], hi)
        else:
            boxes.append([r, lo, r, hi])
    if len(boxes) > limit:  # merge exactly the len - limit smallest gaps
        order = sorted(range(len(boxes) - 1), key=lambda i: boxes[i + 1][0] - boxes[i][2])
        joins = set(order[: len(boxes) - limit])
        merged = [boxes[0]]
        for i, box in enumerate(boxes[1:]):
            last = merged[-1]
            if i in joins:
                last[1], last[2], last[3] = min(last[1], box[1]), box[2], max(last[3], box[3])
            else:
                merged.append(box)
        boxes = merged
    return [(a, b, c, d) for a, b, c, d in boxes]


def clip(
    tab: Tab, r0: int, c0: int, r1: int | None, c1: int | None
) -> tuple[int, int, int | None, int] | None:
    """A box (1-based; None = to the end) cut to the tab's grid, or None when none of it is
    inside: the API refuses a read naming a row or column past the grid (HTTP 400 "exceeds
    grid limits"), and the cells past it are empty. Rows stay open-ended (`B2:D`)."""
    if r0 > tab.rows or c0 > tab.cols:
        return None
    return r0, c0, None if r1 is None else min(r1, tab.rows), min(c1 or tab.cols, tab.cols)


def a1_box(title: str, r0: int, c0: int, r1: int | None, c1: int) -> str:
    """`'Tab'!B2:D9` for a box (1-based; r1 None = to the grid's last row)."""
    return f"{quote_tab(title)}!{column_letter(c0)}{r0}:{column_letter(c1)}{r1 or ''}"


def pack(reqs: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = [[]]
    size = 20
    for req in reqs:
        n = len(json.dumps(req, separators=(",", ":"))) + 1
        if batches[-1] and size + n > limit:
            batches.append([])
            size = 20
        batches[-1].append(req)
        size += n
    return [b for b in batches if b]


def has_growth(batch: list[dict[str, Any]]) -> bool:
    return any("appendDimension" in r for r in batch)


def new_sheet_id(used: set[int]) -> int:
    while True:
        sid = random.randrange(10**8, 2**31 - 1)
        if sid not in used:
            used.add(sid)
            return sid


def marker_request(title: str, sheet_id: int) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": MARKER,
                "metadataValue": json.dumps({"title": title, "sheetId": sheet_id}),
                "location": {"spreadsheet": True},
                "visibility": "DOCUMENT",
            }
        }
    }


def column_width(sheet_id: int, col: int, pixels: int) -> dict[str, Any]:
    """The request setting column `col` (0-based) of a tab to `pixels` wide."""
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": col,
                "endIndex": col + 1,
            },
            "properties": {"pixelSize": pixels},
            "fields": "pixelSize",
        }
    }


def cell_data(value: Value) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def blank(value: Any) -> Value:
    """A value from the values API: "" is an empty cell."""
    return None if value == "" else value


def trim(row: Sequence[Value]) -> list[Value]:
    out = list(row)
    while out and out[-1] is None:
        out.pop()
    return out


def normal(rows: list[list[Any]]) -> Grid:
    """Rows as the values API gives them, with empty cells as None and no trailing empties
    (so a formatted empty column or row reads the same as an untouched one)."""
    grid = [trim([blank(v) for v in row]) for row in rows]
    while grid and not grid[-1]:
        grid.pop()
    return grid


def kept_spans(skip: Sequence[int], width: int) -> list[tuple[int, int]]:
    """The spans (c0, c1) of columns 1..width left when the sorted columns `skip` are taken out."""
    spans, start = [], 1
    for c in [*skip, width + 1]:
        if c > start:
            spans.append((start, c - 1))
        start = c + 1
    return spans


def from_cells(cells: Mapping[int, Mapping[int, Value]]) -> Grid:
    """A grid from row -> column -> value (1-based), empty rows and cells as None/[]."""
    grid: Grid = []
    for r in range(1, max(cells, default=0) + 1):
        line = cells.get(r, {})
        grid.append([line.get(c) for c in range(1, max(line, default=0) + 1)])
    return normal(grid)


def key_text(value: Value) -> str:
    """A key cell's text as the sheet's rows are indexed by it; an empty cell is ""."""
    return "" if value is None else header.key_text(value)


def row_key(cells: Mapping[int, Value], cols: Sequence[int]) -> tuple[str, ...]:
    return tuple(key_text(cells.get(c)) for c in cols)


def retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


HTML_PAGE = "the Sheets API answered with an HTML page: a proxy or a login page?"


def not_json(response: Any) -> str | None:
    """What answered instead of the API when a body is not its JSON (a corporate proxy's login
    page answers 200 with HTML), else None."""
    kind = response.headers.get("Content-Type", "")
    start = response.content[:100].lstrip().lower()
    if "html" in kind or start.startswith((b"<!doctype html", b"<html")):
        return HTML_PAGE
    if "json" in kind:
        return None
    try:
        response.json()
    except ValueError:
        return f"the Sheets API answered with {kind or 'a body of no stated type'}, not JSON"
    return None


def api_message(response: Any) -> str:
    try:
        error = response.json()["error"]
        return f"HTTP {error.get('code')}: {error.get('message')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
