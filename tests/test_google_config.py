"""Google settings a person writes: the request timeout, and credentials files that are
malformed or not files at all (one line each, no traceback, no hang)."""

from __future__ import annotations

import os

import pytest

from sheetsync.errors import ConfigError
from sheetsync.project import load_project
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.backends.google_auth import authorized_session


def _project(tmp_path, sheet: str):
    (tmp_path / "sheetsync.yaml").write_text(f"sheet:\n{sheet}")
    return load_project(tmp_path / "sheetsync.yaml")


def test_sheet_timeout_reaches_every_request(tmp_path):
    project = _project(tmp_path, "  google: abc\n  timeout: [5, 30]\n")
    assert project.timeout == (5.0, 30.0)
    assert open_backend(project).timeout == (5.0, 30.0)
    assert _project(tmp_path, "  google: abc\n  timeout: 60\n").timeout == (10.0, 60.0)


@pytest.mark.parametrize("bad", ["[0, 30]", "'soon'", "[1, 2, 3]", "true"])
def test_a_bad_timeout_is_one_line(tmp_path, bad):
    with pytest.raises(ConfigError, match=r"sheet.timeout must be seconds \(read\) or"):
        _project(tmp_path, f"  google: abc\n  timeout: {bad}\n")


def test_malformed_service_account_json_is_one_line(tmp_path):
    creds = tmp_path / "sa.json"
    creds.write_text('{"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}')
    with pytest.raises(ConfigError) as caught:
        authorized_session(str(creds))
    message = str(caught.value)
    assert message.startswith(f"{creds}: not usable service account credentials (")
    assert "\n" not in message


def test_a_fifo_as_credentials_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "creds.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a file"):
        authorized_session(str(fifo))
