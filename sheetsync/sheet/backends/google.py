"""The Google Sheets backend, through gspread's HTTP client.

A sync costs two reads and one write, whatever the number of runs: one values.batchGet of
the tabs; one spreadsheets.get of the tabs' cells just before writing (to prove that no
person sorted, inserted or edited them in between); and one spreadsheets.batchUpdate that
grows the grid if needed and writes exactly the planned cells as typed values (text is
stored as text, never parsed as a formula), all or nothing. 429, 500, 503 and dropped
connections are retried with exponential backoff and jitter, within a time budget.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, StaleSheet
from sheetsync.sheet.grid import CellWrite, Grid, Snapshot
from sheetsync.vocab import Value

if TYPE_CHECKING:
    import requests

    from sheetsync.layout import Layout

ENDPOINT_ENV = "SHEETSYNC_SHEETS_API"  # another endpoint (a proxy, or the test emulator)
RETRY_STATUS = (429, 500, 502, 503, 504)
_KEY = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def sheet_key(target: str) -> str:
    """The spreadsheet key from a URL or a bare key."""
    m = _KEY.search(target)
    return m[1] if m else target.strip()


def quote_tab(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


class GoogleBackend:
    """A Google Sheet, by URL or key."""

    def __init__(
        self,
        target: str,
        credentials: str | None = None,
        session: requests.Session | None = None,
        retry_budget: float = 60.0,
        sleep: Callable[[float], None] | None = None,
    ):
        self.key = sheet_key(target)
        self.target = target
        self._credentials = credentials
        self._session = session
        self.retry_budget = retry_budget
        self.sleep = sleep if sleep is not None else time.sleep
        self._http: Any = None
        self.notices: list[str] = []
        self.retries = 0

    def describe(self) -> str:
        return f"Google Sheet {self.key}"

    # --- HTTP, through gspread's client --------------------------------------------------

    def http(self) -> Any:
        """gspread's HTTP client, authorised (or pointed at $SHEETSYNC_SHEETS_API)."""
        if self._http is None:
            import gspread

            from sheetsync.sheet.backends.google_auth import authorized_session, redirected_session

            endpoint = os.environ.get(ENDPOINT_ENV)
            if self._session is None:
                self._session = (
                    redirected_session(endpoint)
                    if endpoint
                    else authorized_session(self._credentials)
                )
            self._http = gspread.Client(None, session=self._session).http_client
        return self._http

    def request(self, call: str, *args: Any) -> Any:
        """One API call by gspread, retried on quota and server faults with backoff and
        jitter (Retry-After honoured), within the time budget."""
        import requests
        from gspread.exceptions import APIError

        deadline = time.monotonic() + self.retry_budget
        delay = 1.0
        while True:
            wait = None
            try:
                return getattr(self.http(), call)(*args)
            except requests.ConnectionError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            except APIError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUS:
                    raise BackendError(f"{self.describe()}: {_api_message(exc.response)}") from None
                problem = f"HTTP {status}"
                wait = _retry_after(exc.response)
            pause = wait if wait is not None else delay * (0.5 + random.random())
            if time.monotonic() + pause > deadline:
                raise BackendError(
                    f"{self.describe()}: {problem}, still failing after retrying for "
                    f"{self.retry_budget:.0f}s; nothing was written, run the command again"
                )
            self.retries += 1
            self.sleep(pause)
            delay = min(delay * 2, 32.0)

    # --- the protocol ----------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        yield

    def _metadata(self, ranges: Sequence[str] = (), grid: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {"includeGridData": "true" if grid else "false"}
        if ranges:
            params["ranges"] = list(ranges)
        return self.request("fetch_sheet_metadata", self.key, params)

    def read(self, tabs: Sequence[str]) -> Snapshot:
        params = {
            "valueRenderOption": "UNFORMATTED_VALUE",
            "dateTimeRenderOption": "FORMATTED_STRING",
            "majorDimension": "ROWS",
        }
        try:
            data = self.request(
                "values_batch_get", self.key, [quote_tab(t) for t in tabs], dict(params)
            )
        except BackendError as exc:
            if "Unable to parse range" not in str(exc):
                raise
            present = {s["properties"]["title"] for s in self._metadata().get("sheets", [])}
            tabs = [t for t in tabs if t in present]
            if not tabs:
                return Snapshot({})
            data = self.request(
                "values_batch_get", self.key, [quote_tab(t) for t in tabs], dict(params)
            )
        grids: dict[str, Grid] = {}
        for tab, vr in zip(tabs, data.get("valueRanges", []), strict=False):
            grids[tab] = [[None if v == "" else v for v in row] for row in vr.get("values", [])]
        return Snapshot(grids)

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        if not writes:
            return
        tabs = sorted({w.tab for w in writes})
        fresh = self._metadata([quote_tab(t) for t in tabs], grid=True)
        sheets = {s["properties"]["title"]: s for s in fresh.get("sheets", [])}
        requests_: list[dict[str, Any]] = []
        for tab in tabs:
            if tab not in sheets:
                raise StaleSheet(f"tab {tab!r} disappeared")
            now = _grid_of(sheets[tab])
            before = snapshot.grid(tab) or []
            if (now[:1] or [[]])[0] != (before[:1] or [[]])[0] and any(
                w.tab == tab and w.row > 1 for w in writes
            ):
                raise StaleSheet(f"the header of {tab!r} changed")
            for w in (w for w in writes if w.tab == tab):
                moved = (
                    w.row_key is not None
                    and w.key_col is not None
                    and (str(_at(now, w.row, w.key_col)) != w.row_key)
                )
                if moved:
                    raise StaleSheet(f"row {w.row} of {tab!r} no longer holds {w.row_key}")
                if not _same(_at(now, w.row, w.col), w.expect):
                    raise StaleSheet(f"{tab!r} row {w.row} col {w.col} changed")
            props = sheets[tab]["properties"]
            sid, gp = props["sheetId"], props.get("gridProperties", {})
            need_rows = max(w.row for w in writes if w.tab == tab) - gp.get("rowCount", 1000)
            need_cols = max(w.col for w in writes if w.tab == tab) - gp.get("columnCount", 26)
            if need_rows > 0:
                requests_.append(
                    {
                        "appendDimension": {
                            "sheetId": sid,
                            "dimension": "ROWS",
                            "length": need_rows + 100,
                        }
                    }
                )
            if need_cols > 0:
                requests_.append(
                    {
                        "appendDimension": {
                            "sheetId": sid,
                            "dimension": "COLUMNS",
                            "length": need_cols,
                        }
                    }
                )
            for w in (w for w in writes if w.tab == tab):
                requests_.append(
                    {
                        "updateCells": {
                            "start": {
                                "sheetId": sid,
                                "rowIndex": w.row - 1,
                                "columnIndex": w.col - 1,
                            },
                            "rows": [{"values": [_cell(w.value)]}],
                            "fields": "userEnteredValue",
                        }
                    }
                )
        self.request("batch_update", self.key, {"requests": requests_})

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        present = {s["properties"]["title"] for s in self._metadata().get("sheets", [])}
        missing = [t for t in tabs if t not in present]
        if missing:
            self.request(
                "batch_update",
                self.key,
                {
                    "requests": [
                        {"addSheet": {"properties": {"title": t, "hidden": t in hidden}}}
                        for t in missing
                    ]
                },
            )

    def format(self, layout: Layout) -> None:
        from sheetsync.sheet.backends.google_format import format_requests

        tabs = [t.tab for t in layout.tables()]
        meta = self._metadata([f"{quote_tab(t)}!1:2" for t in tabs], grid=True)
        reqs = format_requests(meta, layout)
        if reqs:
            self.request("batch_update", self.key, {"requests": reqs})


def _cell(value: Value) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _grid_of(sheet: dict[str, Any]) -> Grid:
    grid: Grid = []
    for block in sheet.get("data", []):
        for row in block.get("rowData", []):
            out = []
            for cell in row.get("values", []):
                ev = cell.get("effectiveValue", {})
                out.append(next(iter(ev.values())) if ev else None)
            grid.append(out)
    return grid


def _at(grid: Grid, row: int, col: int) -> Value:
    if row - 1 >= len(grid) or col - 1 >= len(grid[row - 1]):
        return None
    return grid[row - 1][col - 1]


def _same(a: Value, b: Value) -> bool:
    from sheetsync.sheet.grid import same

    return same(a, b)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _api_message(response: Any) -> str:
    try:
        error = response.json()["error"]
        return f"HTTP {error.get('code')}: {error.get('message')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
