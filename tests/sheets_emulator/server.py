"""The emulator's HTTP server: routes checked against the discovery document, the methods
sheetsync and gspread use, faults, counters and person-edit hooks."""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter

from tests.sheets_emulator import fields as masks
from tests.sheets_emulator.discovery import discovery
from tests.sheets_emulator.model import (
    PROTECTED,
    ApiError,
    Sheet,
    Spreadsheet,
    a1_title,
    col_letters,
)
from tests.sheets_emulator.render import (
    DEFAULT_FORMAT,
    ERROR_MESSAGE,
    ERROR_TEXT,
    formatted,
    is_date,
    serial,
)
from tests.sheets_emulator.requests_batch import MAX_CELLS, TOO_MANY_CELLS

API = "https://sheets.googleapis.com"
MAX_REQUEST = 10 * 1024 * 1024  # "Request payload size exceeds the limit: 10485760 bytes."
LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in to continue</title></head>"
    b"<body><form action='/login' method='post'>Proxy login</form></body></html>"
)
READS = {"get", "values.get", "values.batchGet", "getByDataFilter", "values.batchGetByDataFilter"}


class _Redirect(HTTPAdapter):
    """Sends https://sheets.googleapis.com/... to the emulator (the client stays unchanged)."""

    def __init__(self, base: str):
        super().__init__(max_retries=0)
        self.base = base

    def send(self, request, **kwargs):
        request.url = self.base + request.url[len(API) :]
        return super().send(request, **kwargs)


def redirect_session(base: str) -> requests.Session:
    session = requests.Session()
    session.mount(API, _Redirect(base))
    session.headers["Authorization"] = "Bearer emulator"
    return session


@dataclass
class Exchange:
    """One request as the client saw it: bytes sent (URL path and query, body) and received
    (the JSON as served, and on the wire after gzip)."""

    kind: str
    status: int
    sent: int
    received: int
    wire: int


@dataclass
class Fault:
    status: int = 0
    retry_after: str | None = None
    drop: bool = False
    after_apply: bool = False
    stall: float = 0.0
    kind: str | None = None
    html: bool = False


class Emulator:
    """Start with `Emulator()`; `.base` is its URL; `.close()` stops it."""

    def __init__(self) -> None:
        self.books: dict[str, Spreadsheet] = {}
        self.counts: Counter[str] = Counter()
        self.requests: list[str] = []
        self.log: list[Exchange] = []
        self.ranges_read: list[str] = []  # A1 ranges of values reads, as asked
        self.lock = threading.RLock()
        self._faults: list[Fault] = []
        self._hooks: list[tuple[int, Callable[[Emulator], None]]] = []
        self._before: list[tuple[str, Callable[[Emulator], None]]] = []
        discovery()  # load the discovery document once, before any thread needs it
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def create(self, key: str = "sheet-key", title: str = "Experiments") -> Spreadsheet:
        self.books[key] = Spreadsheet(key, title)
        return self.books[key]

    # --- counters --------------------------------------------------------------------------

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.requests.clear()
            self.log.clear()
            self.ranges_read.clear()

    def reads(self) -> int:
        return sum(v for k, v in self.counts.items() if k in READS)

    def writes(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in READS)

    @property
    def sent(self) -> int:
        """Bytes the client sent (URL path and query, and bodies) since the last reset."""
        return sum(x.sent for x in self.log)

    @property
    def received(self) -> int:
        """Bytes of JSON the client received (before gzip)."""
        return sum(x.received for x in self.log)

    @property
    def received_wire(self) -> int:
        """Bytes the client received on the wire (gzip when it asked for it)."""
        return sum(x.wire for x in self.log)

    @property
    def largest_request(self) -> int:
        return max((x.sent for x in self.log), default=0)

    # --- faults and people -----------------------------------------------------------------

    def fail_next(
        self,
        status: int | None,
        times: int = 1,
        retry_after: str | None = None,
        drop: bool = False,
        after_apply: bool = False,
        stall: float = 0.0,
        kind: str | None = None,
        html: bool = False,
    ) -> None:
        """The next `times` requests (of `kind`, e.g. "batchUpdate", if given) get `status`
        (Google sends 429 without Retry-After), a dropped connection (`drop`; with
        `after_apply` the request is applied first, as when a connection breaks after Google
        wrote), or a reply `stall` seconds late. With `html`, the answer is an HTML page with
        that status, as a proxy's login page answers in Google's place (reported to gspread in
        issue #1504 and fixed by PR #1510; PyDrive2 issue #251 shows such a page)."""
        fault = Fault(status or 0, retry_after, drop, after_apply, stall, kind, html)
        self._faults += [fault] * times

    def on_request(self, nth: int, action: Callable[[Emulator], None]) -> None:
        """Run `action` (a person editing the sheet) just before the nth next request."""
        self._hooks.append((len(self.requests) + nth, action))

    def before_next(self, kind: str, action: Callable[[Emulator], None]) -> None:
        """Run `action` (a person editing the sheet) when the next request of `kind` (e.g.
        "batchUpdate") arrives, before it is applied: after every earlier request was
        answered, so a write's verifying read has already seen the sheet as it was."""
        self._before.append((kind, action))

    # --- HTTP ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                sent = len(self.path.encode()) + len(raw)
                try:
                    method_id, spec, params = discovery().route(method, url.path)
                    kind = method_id.removeprefix("sheets.spreadsheets.")
                except ApiError:
                    method_id, spec, params, kind = "", {}, {}, "unknown"
                with emulator.lock:
                    emulator.requests.append(kind)
                    n = len(emulator.requests)
                    for _at, action in [h for h in emulator._hooks if h[0] == n]:
                        action(emulator)
                    emulator._hooks = [h for h in emulator._hooks if h[0] != n]
                    due = next((b for b in emulator._before if b[0] == kind), None)
                    if due is not None:
                        emulator._before.remove(due)
                        due[1](emulator)
                    fault = next((f for f in emulator._faults if f.kind in (None, kind)), None)
                    if fault is not None:
                        emulator._faults.remove(fault)
                    if fault is None or fault.stall:
                        emulator.counts[kind] += 1
                if fault is not None and fault.stall:
                    time.sleep(fault.stall)
                    fault = None
                if fault is not None and not fault.after_apply:
                    if fault.drop:
                        self._drop(kind, sent)
                        return
                    if fault.html:
                        self._reply(kind, sent, fault.status, LOGIN_PAGE)
                        return
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    error = ApiError(fault.status, "injected fault")
                    self._reply(kind, sent, error.code, error.payload(), headers)
                    return
                try:
                    if length > MAX_REQUEST:
                        raise ApiError(
                            400, f"Request payload size exceeds the limit: {MAX_REQUEST} bytes."
                        )
                    if not method_id:
                        raise ApiError(404, f"The requested URL {url.path} was not found.")
                    if not self.headers.get("Authorization", "").startswith("Bearer "):
                        raise ApiError(
                            401, "Request is missing required authentication credential."
                        )
                    query = parse_qs(url.query, keep_blank_values=True)
                    discovery().check_query(spec, query)
                    body = json.loads(raw) if raw else {}
                    if "request" in spec:
                        discovery().check_body(spec["request"]["$ref"], body)
                    mask = None
                    if "fields" in query:
                        mask = masks.parse(query["fields"][-1])
                        discovery().check_mask(spec["response"]["$ref"], mask)
                    with emulator.lock:
                        result = emulator._execute(kind, params, query, body, mask)
                    if mask is not None:
                        result = masks.apply(result, mask)
                    status, payload = 200, result
                except ApiError as exc:
                    status, payload = exc.code, exc.payload()
                if fault is not None and fault.after_apply:
                    self._drop(kind, sent)
                    return
                pretty = parse_qs(url.query).get("prettyPrint", ["true"])[-1] != "false"
                self._reply(kind, sent, status, payload, pretty=pretty)

            def _drop(self, kind: str, sent: int) -> None:
                with emulator.lock:
                    emulator.log.append(Exchange(kind, 0, sent, 0, 0))
                self.close_connection = True
                self.connection.close()

            def _reply(
                self,
                kind: str,
                sent: int,
                status: int,
                payload: Any,
                headers: dict[str, str] | None = None,
                pretty: bool = True,
            ) -> None:
                # Google pretty-prints JSON unless prettyPrint=false (the standard parameter's
                # default is true), and gzips only when asked twice: Accept-Encoding: gzip
                # and a User-Agent containing "gzip" (Performance tips, "Using gzip").
                kind_of = "application/json; charset=UTF-8"
                if isinstance(payload, bytes):  # a page that is not the API's
                    data, kind_of = payload, "text/html; charset=utf-8"
                elif pretty:
                    data = json.dumps(payload, indent=2).encode()
                else:
                    data = json.dumps(payload, separators=(",", ":")).encode()
                size = len(data)
                zipped = "gzip" in self.headers.get("Accept-Encoding", "") and "gzip" in (
                    self.headers.get("User-Agent", "")
                )
                if zipped:
                    data = gzip.compress(data, 6)
                with emulator.lock:
                    emulator.log.append(Exchange(kind, status, sent, size, len(data)))
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Type", kind_of)
                    self.send_header("Content-Length", str(len(data)))
                    if zipped:
                        self.send_header("Content-Encoding", "gzip")
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PUT(self) -> None:
                self._serve("PUT")

        return Handler

    # --- methods ---------------------------------------------------------------------------

    def _book(self, key: str, write: bool) -> Spreadsheet:
        if key not in self.books:
            raise ApiError(404, "Requested entity was not found.")
        book = self.books[key]
        if book.access == "none" or (write and book.access == "reader"):
            raise ApiError(403, "The caller does not have permission")
        return book

    def _execute(
        self,
        kind: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        mask: masks.Mask | None,
    ) -> Any:
        book = self._book(params["spreadsheetId"], write=kind not in READS)
        opt = {k: v[-1] for k, v in query.items()}
        if kind == "get":
            return self._get(book, query.get("ranges", []), opt, mask)
        if kind == "batchUpdate":
            saved = _checkpoint(book)
            try:
                from tests.sheets_emulator.requests_batch import apply_requests

                replies = apply_requests(book, body.get("requests", []))
            except ApiError:
                _restore(book, saved)  # all or nothing
                raise
            return {"spreadsheetId": book.spreadsheet_id, "replies": replies}
        if kind == "values.batchGet":
            used: dict[int, tuple[int, int]] = {}
            ranges = query.get("ranges", [])
            return {
                "spreadsheetId": book.spreadsheet_id,
                "valueRanges": [self._values(book, r, opt, used) for r in ranges],
            }
        if kind == "values.batchGetByDataFilter":
            options = {k: v for k, v in body.items() if k != "dataFilters"}
            matched, used = [], {}
            for data_filter in body.get("dataFilters", []):
                if set(data_filter) != {"a1Range"}:
                    raise ApiError(501, "data filters other than a1Range are not emulated")
                matched.append(
                    {
                        "valueRange": self._values(book, data_filter["a1Range"], options, used),
                        "dataFilters": [copy.deepcopy(data_filter)],
                    }
                )
            return {"spreadsheetId": book.spreadsheet_id, "valueRanges": matched}
        if kind == "values.get":
            return self._values(book, params["range"], opt)
        if kind == "values.update":
            option = opt.get("valueInputOption", "")
            return self._write(book, params["range"], body.get("values", []), option)
        if kind == "values.batchUpdate":
            option = body.get("valueInputOption", "")
            saved = _checkpoint(book)
            responses = []
            for i, d in enumerate(body.get("data", [])):
                try:
                    responses.append(self._write(book, d["range"], d.get("values", []), option))
                except ApiError as exc:  # "Invalid data[0]: Range (...) exceeds grid limits"
                    _restore(book, saved)  # (google/hyou issue #15)
                    if exc.code == 400 and not exc.message.startswith("Invalid"):
                        exc.message = f"Invalid data[{i}]: {exc.message}"
                    raise
            return {
                "spreadsheetId": book.spreadsheet_id,
                "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                "responses": responses,
            }
        if kind == "values.append":
            # InsertDataOption OVERWRITE (the default): "adding data to the end of the sheet
            # will still insert new rows or columns so the data can be written"
            sheet, *_ = book.parse_range(params["range"])
            start = sheet.used()[0] + 1
            rows = body.get("values", [])
            width = max((len(r) for r in rows), default=0)
            sheet.rows = max(sheet.rows, start + len(rows) - 1)
            sheet.cols = max(sheet.cols, width)
            if book.cells() > MAX_CELLS:
                raise ApiError(400, TOO_MANY_CELLS)
            target = f"{a1_title(sheet.title)}!A{start}"
            option = opt.get("valueInputOption", "")
            return {
                "spreadsheetId": book.spreadsheet_id,
                "updates": self._write(book, target, body.get("values", []), option),
            }
        if kind == "values.clear":
            return {
                "spreadsheetId": book.spreadsheet_id,
                "clearedRange": self._clear(book, params["range"]),
            }
        if kind == "values.batchClear":
            return {
                "spreadsheetId": book.spreadsheet_id,
                "clearedRanges": [self._clear(book, r) for r in body.get("ranges", [])],
            }
        raise ApiError(501, f"{kind} is valid Sheets API but not emulated")

    def _values(
        self,
        book: Spreadsheet,
        a1: str,
        opt: dict[str, str],
        used: dict[int, tuple[int, int]] | None = None,
    ) -> dict[str, Any]:
        """A ValueRange: trailing empty rows and cells left out, empty cells inside a row as
        "" (gspread cassettes: test_get_all_values); dates and errors rendered per
        valueRenderOption and dateTimeRenderOption (test_get_all_values_date_time_...)."""
        sheet, r0, c0, r1, c1 = book.read_range(a1)
        self.ranges_read.append(a1)
        r1, c1 = min(r1 or sheet.rows, sheet.rows), min(c1 or sheet.cols, sheet.cols)
        used = {} if used is None else used  # one request's ranges share the scan
        if sheet.sheet_id not in used:
            used[sheet.sheet_id] = sheet.used()
        used_r, used_c = used[sheet.sheet_id]
        rows = []
        for r in range(r0, min(r1, used_r) + 1):
            row = [_render(sheet, r, c, opt) for c in range(c0, min(c1, used_c) + 1)]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        if opt.get("majorDimension") == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            cols = [[r[i] if i < len(r) else "" for r in rows] for i in range(width)]
            rows = []
            for col in cols:
                while col and col[-1] == "":
                    col.pop()
                rows.append(col)
        out: dict[str, Any] = {
            "range": f"{a1_title(sheet.title)}!{col_letters(c0)}{r0}:{col_letters(c1)}{r1}",
            "majorDimension": opt.get("majorDimension", "ROWS"),
        }
        if rows:
            out["values"] = rows
        return out

    def _write(
        self, book: Spreadsheet, a1: str, values: list[list[Any]], option: str
    ) -> dict[str, Any]:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        sheet, r0, c0, _, _ = book.parse_range(a1)
        width = max((len(r) for r in values), default=0)
        if sheet.blocking(r0, c0, r0 + len(values) - 1, c0 + width - 1) is not None:
            raise ApiError(403, PROTECTED)
        cells = 0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue  # "Null values will be skipped" (ValueRange.values)
                formula = None
                if option == "USER_ENTERED" and isinstance(value, str):
                    value, formula = _parse_entered(value)
                sheet.put(r0 + i, c0 + j, value, formula)
                cells += 1
        end = f"{col_letters(c0 + max(width, 1) - 1)}{r0 + max(len(values), 1) - 1}"
        return {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": f"{a1_title(sheet.title)}!{col_letters(c0)}{r0}:{end}",
            "updatedRows": len(values),
            "updatedColumns": width,
            "updatedCells": cells,
        }

    def _clear(self, book: Spreadsheet, a1: str) -> str:
        sheet, r0, c0, r1, c1 = book.parse_range(a1)
        r1, c1 = min(r1 or sheet.rows, sheet.rows), min(c1 or sheet.cols, sheet.cols)
        for r, c in list(sheet.cells):
            if r0 <= r <= r1 and c0 <= c <= c1:
                cell = sheet.fresh(r, c)
                cell.value = cell.error = cell.formula = None
        return f"{a1_title(sheet.title)}!{col_letters(c0)}{r0}:{col_letters(c1)}{r1}"

    def _get(
        self,
        book: Spreadsheet,
        ranges: list[str],
        opt: dict[str, str],
        mask: masks.Mask | None,
    ) -> dict[str, Any]:
        """A Spreadsheet. Grid data only when asked for: "If a field mask is set, the
        includeGridData parameter is ignored" (spreadsheets.get reference)."""
        if mask is not None:
            sheets_mask = mask.get("sheets", {}) if "sheets" in mask else {}
            grid = "*" in mask or sheets_mask is None or "data" in (sheets_mask or {})
        else:
            grid = opt.get("includeGridData", "false").lower() == "true"
        wanted: dict[int, list[tuple[int, int, int | None, int | None]]] = {}
        for r in ranges:
            sheet, r0, c0, r1, c1 = book.read_range(r)
            wanted.setdefault(sheet.sheet_id, []).append((r0, c0, r1, c1))
        sheets = []
        for sheet in book.sheets:
            if ranges and sheet.sheet_id not in wanted:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if sheet.conditional:
                entry["conditionalFormats"] = copy.deepcopy(sheet.conditional)
            if sheet.protected:
                entry["protectedRanges"] = copy.deepcopy(sheet.protected)
            if sheet.metadata:
                entry["developerMetadata"] = copy.deepcopy(sheet.metadata)
            if sheet.charts:
                entry["charts"] = copy.deepcopy(sheet.charts)
            if grid:
                boxes = wanted.get(sheet.sheet_id, [(1, 1, None, None)])
                entry["data"] = [_grid_data(sheet, *box) for box in boxes]
            sheets.append(entry)
        out: dict[str, Any] = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {
                "title": book.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
                "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        if book.metadata:
            out["developerMetadata"] = copy.deepcopy(book.metadata)
        return out


def _checkpoint(book: Spreadsheet) -> tuple[Any, ...]:
    """What a failed batch restores; cells are copied on write, so shallow copies suffice."""
    state = [
        (s, {k: (v.copy() if isinstance(v, dict | list) else v) for k, v in vars(s).items()})
        for s in book.sheets
    ]
    return list(book.sheets), state, copy.deepcopy(book.metadata), book.next_id


def _restore(book: Spreadsheet, saved: tuple[Any, ...]) -> None:
    sheets, state, metadata, next_id = saved
    book.sheets, book.metadata, book.next_id = sheets, metadata, next_id
    for sheet, attrs in state:
        vars(sheet).update(attrs)


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _parse_entered(text: str) -> tuple[Any, str | None]:
    """USER_ENTERED: as if typed into the UI (formulas, numbers, ISO dates)."""
    import datetime as dt

    if text.startswith("="):
        return text, text
    if _NUMBER.match(text.strip()):
        number = float(text)
        return (int(number) if number.is_integer() else number), None
    m = _ISO_DATE.match(text.strip())
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3])), None
    return text, None


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _render(sheet: Sheet, r: int, c: int, opt: dict[str, str]) -> Any:
    cell = sheet.cells.get((r, c))
    if cell is None or (cell.empty() and cell.formula is None):
        return ""
    how = opt.get("valueRenderOption", "FORMATTED_VALUE")
    if how == "FORMULA" and cell.formula:
        return cell.formula
    if cell.error:
        return ERROR_TEXT[cell.error]
    value = cell.value
    if isinstance(value, str):
        return value
    if how == "FORMATTED_VALUE":
        return formatted(value, sheet.user_format(r, c).get("numberFormat"))
    if isinstance(value, bool):
        return value
    if opt.get("dateTimeRenderOption", "SERIAL_NUMBER") == "FORMATTED_STRING":
        number_format = sheet.user_format(r, c).get("numberFormat")
        if is_date(number_format):
            return formatted(value, number_format)
    return _number(value)


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": _number(value)}
    return {"stringValue": str(value)}


def _merged(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in top.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _cell_data(sheet: Sheet, r: int, c: int) -> dict[str, Any]:
    """A CellData as spreadsheets.get returns it: values, formatted text, formats (a
    formatted empty cell is {userEnteredFormat, effectiveFormat}), note, validation."""
    cell = sheet.cells.get((r, c))
    fmt = sheet.user_format(r, c)
    out: dict[str, Any] = {}
    if cell is not None and not cell.empty():
        if cell.formula:
            out["userEnteredValue"] = {"formulaValue": cell.formula}
        else:
            out["userEnteredValue"] = _typed(cell.value)
        if cell.error:
            message = ERROR_MESSAGE.get(cell.error, "Error")
            out["effectiveValue"] = {"errorValue": {"type": cell.error, "message": message}}
            out["formattedValue"] = ERROR_TEXT[cell.error]
        else:
            out["effectiveValue"] = _typed(cell.value)
            out["formattedValue"] = formatted(cell.value, fmt.get("numberFormat"))
    if fmt:
        out["userEnteredFormat"] = fmt
    if out:
        out["effectiveFormat"] = _merged(DEFAULT_FORMAT, fmt)
    if cell is not None and cell.note:
        out["note"] = cell.note
    rule = sheet.validation_at(r, c)
    if rule is not None:
        out["dataValidation"] = copy.deepcopy(rule)
    return out


def _grid_data(sheet: Sheet, r0: int, c0: int, r1: int | None, c1: int | None) -> dict[str, Any]:
    """GridData for a range: rows up to the last one holding anything (a value, a note, a
    format), each cut after its last such cell; metadata for every row and column asked."""
    r1, c1 = min(r1 or sheet.rows, sheet.rows), min(c1 or sheet.cols, sheet.cols)
    last_r, last_c = sheet.extent()
    row_data = []
    for r in range(r0, min(r1, last_r) + 1):
        values = [_cell_data(sheet, r, c) for c in range(c0, min(c1, last_c) + 1)]
        while values and not values[-1]:
            values.pop()
        row_data.append({"values": values} if values else {})
    while row_data and not row_data[-1]:
        row_data.pop()
    out: dict[str, Any] = {}
    if r0 > 1:
        out["startRow"] = r0 - 1
    if c0 > 1:
        out["startColumn"] = c0 - 1
    if row_data:
        out["rowData"] = row_data
    out["rowMetadata"] = [{"pixelSize": 21} for _ in range(r0, r1 + 1)]
    out["columnMetadata"] = [{"pixelSize": sheet.widths.get(c - 1, 100)} for c in range(c0, c1 + 1)]
    return out


__all__ = ["Emulator", "Exchange", "redirect_session", "serial"]
