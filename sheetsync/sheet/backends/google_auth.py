"""Who sheetsync is on Google: a service account, or a person's OAuth login (as gspread keeps
them). Secrets are never returned or printed."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, ConfigError

if TYPE_CHECKING:
    import requests

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
API_HOST = "https://sheets.googleapis.com"


def _gspread_dir() -> Path:
    """Where gspread keeps credentials (gspread.auth's default location)."""
    from gspread.auth import get_config_dir

    return Path(get_config_dir())


@dataclass(frozen=True)
class Identity:
    kind: str  # service account | person (OAuth) | none
    source: str  # the file it came from
    email: str | None
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "none":
            return (
                "no Google credentials: set sheet.credentials in sheetsync.yaml, "
                "GOOGLE_APPLICATION_CREDENTIALS, or run `sheetsync auth login`"
            )
        who = f" {self.email}" if self.email else ""
        text = f"{self.kind}{who} (from {self.source})"
        if self.kind == "service account" and self.email:
            text += f"; share the sheet with {self.email} as an editor"
        return text


def _loose(path: Path) -> tuple[str, ...]:
    try:
        mode = path.stat().st_mode
    except OSError:
        return ()
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (f"{path} is readable by other users; run: chmod 600 {path}",)
    return ()


def _read(path: Path) -> dict[str, Any]:
    from sheetsync.records.files import MAX_CREDENTIALS_BYTES, read_text

    text = read_text(path, ConfigError, MAX_CREDENTIALS_BYTES, "a credentials file")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(
            f"{path}: not a readable credentials JSON ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: not a credentials JSON object")
    return data


def find_identity(configured: str | None = None) -> Identity:
    """sheet.credentials, then GOOGLE_APPLICATION_CREDENTIALS, then gspread's own files."""
    candidates = []
    if configured:
        candidates.append(Path(configured).expanduser())
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        candidates.append(Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]).expanduser())
    base = _gspread_dir()
    candidates += [base / "service_account.json", base / "authorized_user.json"]
    for path in candidates:
        if not path.is_file():
            if configured and path == Path(configured).expanduser():
                what = "not a file" if path.exists() else "credentials file not found"
                raise ConfigError(f"{path}: {what}")
            continue
        data = _read(path)
        if data.get("type") == "service_account":
            return Identity("service account", str(path), data.get("client_email"), _loose(path))
        if data.get("refresh_token") or data.get("type") == "authorized_user":
            return Identity("person (OAuth)", str(path), data.get("account") or None, _loose(path))
    return Identity("none", "", None)


def authorized_session(configured: str | None = None) -> requests.Session:
    """A session that signs requests as the identity `find_identity` finds."""
    from google.auth.transport.requests import AuthorizedSession

    identity = find_identity(configured)
    if identity.kind == "none":
        raise BackendError(identity.describe())
    path = Path(identity.source)
    info = _read(path)  # bounded, regular files only
    try:
        if identity.kind == "service account":
            from google.oauth2.service_account import Credentials

            creds = Credentials.from_service_account_info(info, scopes=SCOPES)
        else:
            from google.oauth2.credentials import Credentials as UserCredentials

            creds = UserCredentials.from_authorized_user_info(info, SCOPES)
    except (ValueError, KeyError, TypeError) as exc:  # google-auth's word for a malformed file
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: not usable {identity.kind} credentials ({reason})") from None
    return AuthorizedSession(creds)


def redirected_session(endpoint: str) -> requests.Session:
    """A plain session whose Sheets API calls go to `endpoint` (a proxy or the emulator)."""
    import requests
    from requests.adapters import HTTPAdapter

    class Redirect(HTTPAdapter):
        def send(self, request, **kwargs):  # noqa: ANN001
            request.url = endpoint.rstrip("/") + request.url[len(API_HOST) :]
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount(API_HOST, Redirect())
    session.headers["Authorization"] = "Bearer sheetsync"
    return session


def login(client_secret: Path) -> Identity:
    """A person's OAuth login in the browser, stored where gspread keeps it."""
    import gspread

    target = _gspread_dir() / "authorized_user.json"
    try:
        gspread.oauth(
            credentials_filename=str(client_secret),
            authorized_user_filename=str(target),
            scopes=SCOPES,
        )
    except ImportError:
        raise ConfigError(
            "`auth login` needs google-auth-oauthlib: pip install 'sheetsync[oauth]'"
        ) from None
    os.chmod(target, 0o600)
    return find_identity()
