"""Answers named for what they are, on the strict emulator: a proxy's HTML page where the API's
JSON should be, and a state tab a person deleted (not "the sheet kept changing")."""

from __future__ import annotations

import pytest

from tests import test_google_backend as google
from tests.helpers import write_run
from tests.test_google_backend import KEY, add, cli, rows

emulator = google.emulator  # fixtures
gproject = google.gproject
HTML = "the Sheets API answered with an HTML page: a proxy or a login page?"


@pytest.mark.parametrize("status", [200, 407])
def test_an_html_page_instead_of_json_is_one_line_naming_it(gproject, emulator, status):
    add(gproject, "r1", loss=2.4)
    before = [s.grid() for s in emulator.books[KEY].sheets]
    emulator.fail_next(status, html=True)
    result = cli(gproject, "sync")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"{HTML} (HTTP {status})"), result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert [s.grid() for s in emulator.books[KEY].sheets] == before  # nothing written


def test_a_deleted_state_tab_is_named_with_the_command_that_rebuilds_it(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    emulator.books[KEY].delete_sheet("_sheetsync")
    write_run(gproject, "r2")
    emulator.reset_counts()
    refused = cli(gproject, "add", str(gproject.runs_dir / "r2"), "-q", "q", "-b", "b", "-y")
    assert refused.exit_code == 1
    assert refused.output.strip().endswith(
        "the hidden '_sheetsync' tab, where sheetsync keeps what it wrote, was deleted from the "
        "sheet; run `sheetsync init --repair` to rebuild it"
    )
    assert "kept changing" not in refused.output
    reads = emulator.reads()
    assert emulator.writes() == 0
    emulator.reset_counts()
    cli(gproject, "add", str(gproject.runs_dir / "r2"), "-q", "q", "-b", "b", "-y")
    assert emulator.reads() == reads <= 5  # told in the first cycle, not after re-reading it
    assert cli(gproject, "init", "--repair").exit_code == 0
    add(gproject, "r2")
    assert set(rows(emulator)) == {"r1", "r2"}


def test_writing_to_a_deleted_tab_names_it_and_what_makes_it_again(gproject, emulator):
    from sheetsync.errors import BackendError
    from sheetsync.sheet.backends.google import GoogleBackend
    from sheetsync.sheet.grid import CellWrite

    backend = GoogleBackend(KEY, retry_budget=1)
    backend.state_tab = "_sheetsync"
    emulator.books[KEY].delete_sheet("Scaling")
    snapshot = backend.read(["Runs", "Scaling"])
    with pytest.raises(BackendError, match="the 'Scaling' tab sheetsync made was deleted from"):
        backend.write(snapshot, [CellWrite("Scaling", 2, 1, "fit")])
