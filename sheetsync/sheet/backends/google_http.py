"""The Google backend's HTTP client: gspread's client, timeouts, retries that never double
work, and the API's refusals turned into errors a person can act on. `GoogleBackend` holds one
(injectable, as gspread's `Client(http_client=...)`), and so does each of its collaborators."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError

if TYPE_CHECKING:
    import requests


from sheetsync.sheet.backends.google_api import (
    API,
    ENDPOINT_ENV,
    RETRY_STATUS,
    api_message,
    not_json,
    retry_after,
    sheet_key,
    timeout_from_env,
)


class SheetsClient:
    """The Sheets API for one spreadsheet, by URL or key: every request goes through
    `request`, where all retries live. `session`: a requests session to send them with
    (default: authorised by `credentials`, or pointed at $SHEETSYNC_SHEETS_API)."""

    def __init__(
        self,
        target: str,
        credentials: str | None = None,
        session: requests.Session | None = None,
        retry_budget: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        timeout: tuple[float, float] | None = None,
    ):
        self.key = sheet_key(target)
        self.target = target
        self._credentials = credentials
        self._session = session
        self.retry_budget = retry_budget
        self.sleep = sleep if sleep is not None else time.sleep
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self._http: Any = None
        self.retries = 0  # requests sent again after a fault, for tests and benchmarks

    def describe(self) -> str:
        return f"Google Sheet {self.key}"

    # --- HTTP, through gspread's client --------------------------------------------------

    def http(self) -> Any:
        """gspread's HTTP client, authorised (or pointed at $SHEETSYNC_SHEETS_API), with
        timeouts, asking for gzip (Google gzips only for a User-Agent saying "gzip")."""
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
            self._session.headers["User-Agent"] = "sheetsync (gzip)"
            self._session.headers["Accept-Encoding"] = "gzip"
            self._http = gspread.Client(None, session=self._session).http_client
            self._http.set_timeout(self.timeout)
        return self._http

    def _call(self, method: str, path: str, params: dict[str, Any], body: Any = None) -> Any:
        params = {**params, "prettyPrint": "false"}
        data, headers = None, None
        if body is not None:  # compact JSON: requests' own encoding adds a space per item
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            headers = {"Content-Type": "application/json"}
        url = API + self.key + path
        response = self.http().request(method, url, params=params, data=data, headers=headers)
        try:
            return response.json()
        except ValueError:
            what = not_json(response) or "the Sheets API answered with a body that is not JSON"
            raise BackendError(f"{self.describe()}: {what} (HTTP {response.status_code})") from None

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        rebuild: Callable[[], Any] | None = None,
        what: str = "",
    ) -> Any:
        """One API call, retried on quota and server faults and on timeouts and dropped
        connections, with backoff and jitter (Retry-After honoured), within the time budget.

        After a failure that may have been applied (5xx, timeout, dropped connection) the
        body is rebuilt by `rebuild()` from a fresh read; None from it means done already.
        """
        import requests
        from gspread.exceptions import APIError

        deadline = time.monotonic() + self.retry_budget
        delay = 1.0
        while True:
            wait = None
            maybe_applied = True
            try:
                return self._call(method, path, params or {}, body)
            except requests.Timeout:
                problem = f"no answer within {self.timeout[1]:.0f}s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"connection failed ({type(exc).__name__})"
            except APIError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUS:
                    raise self._refusal(exc.response, what) from None
                problem = f"HTTP {status}"
                maybe_applied = status != 429
                wait = retry_after(exc.response)
            pause = wait if wait is not None else delay * (0.5 + random.random())
            if time.monotonic() + pause > deadline:
                raise BackendError(
                    f"{self.describe()}: {problem}, still failing after retrying for "
                    f"{self.retry_budget:.0f}s; run the command again"
                )
            self.retries += 1
            self.sleep(pause)
            delay = min(delay * 2, 32.0)
            if maybe_applied and rebuild is not None and method != "get":
                body = rebuild()
                if body is None:
                    return None

    def _refusal(self, response: Any, what: str) -> BackendError:
        """The API's refusal as an error a person can act on."""
        status = response.status_code
        other = not_json(response)
        if other is not None:
            return BackendError(f"{self.describe()}: {other} (HTTP {status})")
        message = api_message(response)
        if status in (400, 403) and "protected cell" in message:  # reported with either code
            return BackendError(
                f"{self.describe()}: {what or 'the write'} is inside a protected range that "
                f"{self.who()} may not edit; ask the sheet's owner to add it to the range's "
                "editors or make the range warning-only; nothing was written"
            )
        if status == 403:
            return BackendError(
                f"{self.describe()}: {self.who()} has no edit access (HTTP 403); share the "
                f"sheet with it as an Editor (`sheetsync auth status` names it)"
            )
        if status == 404:
            return BackendError(
                f"{self.describe()}: no such spreadsheet (HTTP 404); check sheet.google in "
                "sheetsync.yaml (the key is the part of the URL after /d/)"
            )
        return BackendError(f"{self.describe()}: {message}")

    def who(self) -> str:
        """The identity requests are sent as, for messages (its e-mail when known)."""
        from sheetsync.sheet.backends.google_auth import find_identity

        try:
            identity = find_identity(self._credentials)
        except Exception:
            return "the identity sheetsync uses"
        if identity.kind == "none":
            return "the identity sheetsync uses (none found; see `sheetsync auth status`)"
        return identity.email or f"the {identity.kind} from {identity.source}"
