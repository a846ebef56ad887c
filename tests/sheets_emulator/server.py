"""The emulator's HTTP server: routes, faults, counters and person-edit hooks."""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from tests.sheets_emulator.model import ApiError, Spreadsheet, col_letters
from tests.sheets_emulator.requests_batch import apply_requests

API = "https://sheets.googleapis.com"
STATUS = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


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


class Emulator:
    """Start with `Emulator()`; `.base` is its URL; `.close()` stops it."""

    def __init__(self) -> None:
        self.books: dict[str, Spreadsheet] = {}
        self.counts: Counter[str] = Counter()
        self.requests: list[str] = []
        self.bytes_received = 0
        self.lock = threading.RLock()
        self._faults: list[tuple[int, dict[str, str], bool]] = []
        self._hooks: list[tuple[int, Callable[[Emulator], None]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def create(self, key: str = "sheet-key", title: str = "Experiments") -> Spreadsheet:
        self.books[key] = Spreadsheet(key, title)
        return self.books[key]

    def reset_counts(self) -> None:
        with self.lock:
            self.counts.clear()
            self.requests.clear()
            self.bytes_received = 0

    def fail_next(
        self, status: int | None, times: int = 1, retry_after: str | None = None, drop: bool = False
    ) -> None:
        """The next `times` requests get `status` (or a dropped connection) instead of service."""
        headers = {"Retry-After": retry_after} if retry_after else {}
        self._faults += [(status or 0, headers, drop)] * times

    def on_request(self, nth: int, action: Callable[[Emulator], None]) -> None:
        """Run `action` (a person editing the sheet) just before the nth next request."""
        self._hooks.append((len(self.requests) + nth, action))

    def reads(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("GET"))

    def writes(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("POST") or k.startswith("PUT"))

    # --- routing ---------------------------------------------------------------------------

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
                kind = emulator._kind(method, url.path)
                with emulator.lock:
                    emulator.requests.append(kind)
                    n = len(emulator.requests)
                    for _at, action in [h for h in emulator._hooks if h[0] == n]:
                        action(emulator)
                    emulator._hooks = [h for h in emulator._hooks if h[0] != n]
                    fault = emulator._faults.pop(0) if emulator._faults else None
                    if fault is None:
                        emulator.counts[kind] += 1
                        emulator.bytes_received += len(raw)
                if fault is not None:
                    status, headers, drop = fault
                    if drop:
                        self.close_connection = True
                        self.connection.close()
                        return
                    self._reply(status, _error(status, "injected fault"), headers)
                    return
                try:
                    body = json.loads(raw) if raw else {}
                    with emulator.lock:
                        result = emulator._route(method, url.path, parse_qs(url.query), body)
                    self._reply(200, result)
                except ApiError as exc:
                    self._reply(exc.code, _error(exc.code, exc.message))

            def _reply(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
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

    @staticmethod
    def _kind(method: str, path: str) -> str:
        tail = unquote(path).split("/v4/spreadsheets/", 1)[-1]
        if ":" in tail.split("/")[-1]:
            return f"{method} {tail.split('/')[-1].split(':')[-1]}"
        return f"{method} {'values' if '/values/' in tail else 'spreadsheet'}"

    def _book(self, key: str) -> Spreadsheet:
        if key not in self.books:
            raise ApiError(404, "Requested entity was not found.")
        return self.books[key]

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        parts = unquote(path).split("/v4/spreadsheets/", 1)[1]
        key, _, rest = parts.partition("/")
        if ":" in key and not rest:
            key, action = key.split(":", 1)
            if action == "batchUpdate":
                book = self._book(key)
                snapshot = copy.deepcopy(book)
                try:
                    replies = apply_requests(book, body.get("requests", []))
                except ApiError:
                    self.books[key] = snapshot  # all or nothing
                    raise
                return {"spreadsheetId": key, "replies": replies}
            raise ApiError(404, f"unknown action {action}")
        book = self._book(key)
        opt = {k: v[-1] for k, v in query.items()}
        if not rest:
            return self._get(book, query.get("ranges", []), opt)
        if rest.startswith("values:"):
            action = rest.split(":", 1)[1]
            if action == "batchGet":
                return {
                    "spreadsheetId": key,
                    "valueRanges": [self._values(book, r, opt) for r in query.get("ranges", [])],
                }
            if action == "batchUpdate":
                responses = [
                    self._write(
                        book, d["range"], d.get("values", []), body.get("valueInputOption", "RAW")
                    )
                    for d in body.get("data", [])
                ]
                return {
                    "spreadsheetId": key,
                    "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                    "responses": responses,
                }
            if action == "batchClear":
                for r in body.get("ranges", []):
                    self._clear(book, r)
                return {"spreadsheetId": key, "clearedRanges": body.get("ranges", [])}
        a1, _, action = rest[len("values/") :].partition(":")
        if action == "append":
            sheet, *_ = book.parse_range(a1)
            row = sheet.used()[0] + 1
            target = f"'{sheet.title}'!A{row}"
            return {
                "spreadsheetId": key,
                "updates": self._write(
                    book, target, body.get("values", []), opt.get("valueInputOption", "RAW")
                ),
            }
        if action == "clear":
            self._clear(book, a1)
            return {"spreadsheetId": key, "clearedRange": a1}
        if method == "PUT":
            return self._write(book, a1, body.get("values", []), opt.get("valueInputOption", "RAW"))
        return self._values(book, a1, opt)

    def _values(self, book: Spreadsheet, a1: str, opt: dict[str, str]) -> dict[str, Any]:
        sheet, r0, c0, r1, c1 = book.parse_range(a1)
        used_r, used_c = sheet.used()
        r1 = min(r1 or used_r, used_r)
        c1 = min(c1 or used_c, used_c)
        formatted = opt.get("valueRenderOption", "FORMATTED_VALUE") == "FORMATTED_VALUE"
        rows = []
        for r in range(r0, r1 + 1):
            row = [_render(sheet.get(r, c), formatted) for c in range(c0, c1 + 1)]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        end = f"{col_letters(max(c1, c0))}{max(r1, r0)}"
        out: dict[str, Any] = {
            "range": f"'{sheet.title}'!{col_letters(c0)}{r0}:{end}",
            "majorDimension": "ROWS",
        }
        if rows:
            out["values"] = rows
        return out

    def _write(
        self, book: Spreadsheet, a1: str, values: list[list[Any]], option: str
    ) -> dict[str, Any]:
        sheet, r0, c0, _, _ = book.parse_range(a1)
        cells = 0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                formula = None
                if option == "USER_ENTERED" and isinstance(value, str):
                    if value.startswith("="):
                        formula = value
                    else:
                        with contextlib.suppress(ValueError):
                            value = float(value) if value.strip() else value
                sheet.put(r0 + i, c0 + j, value, formula)
                cells += 1
        return {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": a1,
            "updatedRows": len(values),
            "updatedCells": cells,
        }

    def _clear(self, book: Spreadsheet, a1: str) -> None:
        sheet, r0, c0, r1, c1 = book.parse_range(a1)
        for r, c in list(sheet.cells):
            if r >= r0 and c >= c0 and (r1 is None or r <= r1) and (c1 is None or c <= c1):
                sheet.cells[(r, c)].value = None

    def _get(self, book: Spreadsheet, ranges: list[str], opt: dict[str, str]) -> dict[str, Any]:
        grid = opt.get("includeGridData") == "true" or bool(ranges)
        wanted = {book.parse_range(r)[0].title: book.parse_range(r) for r in ranges}
        sheets = []
        for sheet in book.sheets:
            if ranges and sheet.title not in wanted:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if sheet.conditional:
                entry["conditionalFormats"] = copy.deepcopy(sheet.conditional)
            if sheet.protected:
                entry["protectedRanges"] = copy.deepcopy(sheet.protected)
            if grid:
                _, r0, c0, r1, c1 = wanted.get(sheet.title, (sheet, 1, 1, None, None))
                used_r, used_c = sheet.used()
                r1, c1 = min(r1 or used_r, used_r), min(c1 or used_c, used_c)
                row_data = []
                for r in range(r0, r1 + 1):
                    vals = []
                    for c in range(c0, c1 + 1):
                        cell = sheet.cells.get((r, c))
                        vals.append(_cell_data(cell))
                    row_data.append({"values": vals})
                entry["data"] = [{"startRow": r0 - 1, "startColumn": c0 - 1, "rowData": row_data}]
            sheets.append(entry)
        return {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {"title": book.title, "locale": "en_US", "timeZone": "Etc/UTC"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def _cell_data(cell: Any) -> dict[str, Any]:
    if cell is None:
        return {}
    out: dict[str, Any] = {}
    if cell.value is not None:
        out["effectiveValue"] = _typed(cell.value)
        out["userEnteredValue"] = (
            {"formulaValue": cell.formula} if cell.formula else _typed(cell.value)
        )
    if cell.note:
        out["note"] = cell.note
    if cell.fmt:
        out["userEnteredFormat"] = copy.deepcopy(cell.fmt)
    return out


def _render(value: Any, formatted: bool) -> Any:
    if value is None:
        return ""
    if formatted and not isinstance(value, str):
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        return (
            repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
        )
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN")}}
