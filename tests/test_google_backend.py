"""The Google backend through the real gspread client, against the local Sheets API emulator:
the engine's promises, request counts, faults, concurrent edits, formatting."""

from __future__ import annotations

import json
import os
import stat

import pytest
import yaml
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.errors import BackendError
from sheetsync.project import load_project
from sheetsync.sheet.backends.google import GoogleBackend
from sheetsync.sheet.backends.google_auth import find_identity
from sheetsync.sheet.init import init_sheet, write_project_files
from tests.conftest import BASE, write_run
from tests.sheets_emulator import Emulator

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.fixture
def emulator(monkeypatch):
    emu = Emulator()
    emu.create(KEY)
    emu.books[KEY].add_sheet("Sheet1")
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


@pytest.fixture
def gproject(tmp_path, emulator):
    root = tmp_path / "proj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    text = config.read_text().replace(
        "  local: experiments.xlsx",
        f"  google: https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
    )
    config.write_text(text)
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(config)
    init_sheet(project)
    return project


def cli(project, *args):
    return CliRunner().invoke(main, ["--config", str(project.path), *args])


def tab(emulator, name="Runs"):
    return emulator.books[KEY].sheet(name)


def rows(emulator) -> dict[str, dict]:
    grid = tab(emulator).grid()
    key = grid[0].index("run")
    return {r[key]: dict(zip(grid[0], r, strict=False)) for r in grid[1:] if r and r[key]}


def add(project, run_id, question="Does it help?", **kw):
    write_run(project, run_id, **kw)
    result = cli(project, "add", str(project.runs_dir / run_id), "-q", question, "-b", "b", "--yes")
    assert result.exit_code == 0, result.output


def test_init_creates_tabs_header_and_hidden_state(gproject, emulator):
    book = emulator.books[KEY]
    assert [s.title for s in book.sheets] == [
        "Sheet1",
        "Runs",
        "Baselines",
        "Scaling",
        "_sheetsync",
        "Review",
    ]
    assert book.sheet("_sheetsync").hidden
    (guard,) = book.sheet("Review").protected  # sync writes it whole: people get a warning
    assert guard["warningOnly"] and "sheetsync sync" in guard["description"]
    assert tab(emulator).grid()[0][:3] == ["run", "launched", "launched by"]
    assert tab(emulator).frozen_rows == 1 and tab(emulator).frozen_cols == 1


def test_sync_fills_results_then_is_idempotent_in_four_reads_and_one_write(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    add(gproject, "r2", step=600, state="killed")
    emulator.reset_counts()
    assert cli(gproject, "sync").exit_code == 0
    assert emulator.counts == {
        "get": 1,
        "values.batchGet": 2,  # the read, and the proof of where the write landed
        "values.batchGetByDataFilter": 1,
        "batchUpdate": 1,
    }
    r = rows(emulator)
    assert (r["r1"]["status"], r["r1"]["final loss"]) == ("finished", 2.4)
    assert r["r2"]["final loss"] == "unfinished"
    emulator.reset_counts()
    assert "up to date" in cli(gproject, "sync").output
    assert (emulator.reads(), emulator.writes()) == (2, 0)


@pytest.mark.parametrize("n", [1, 100, 5000])
def test_request_count_is_constant_in_the_number_of_runs(emulator, n):
    emulator.books[KEY].add_sheet("Runs")
    backend = GoogleBackend(KEY, retry_budget=1)
    from sheetsync.sheet.grid import CellWrite

    header = [CellWrite("Runs", 1, c, h) for c, h in enumerate(["run", "loss"], 1)]
    backend.write(backend.read(["Runs"]), header)
    writes = [CellWrite("Runs", r + 2, 1, f"run-{r}") for r in range(n)]
    writes += [CellWrite("Runs", r + 2, 2, 2.0 + r / n) for r in range(n)]
    emulator.reset_counts()
    backend.write(backend.read(["Runs"]), writes)
    assert (emulator.reads(), emulator.writes()) == (3, 1)
    assert len(tab(emulator).grid()) == n + 1
    assert emulator.largest_request < 60 * 2 * n + 2000  # about 40 bytes a cell, in blocks


def test_formula_looking_text_stays_text(gproject, emulator):
    add(gproject, "r1", question='=IMPORTXML("http://x")')
    add(gproject, "r2", question="+1")
    cell = tab(emulator).cells[(2, 4)]
    assert cell.value == '=IMPORTXML("http://x")' and cell.formula is None
    assert rows(emulator)["r2"]["question"] == "+1"


def test_people_sort_reorder_and_edit_then_sync_writes_right_cells(gproject, emulator):
    for i, loss in enumerate([2.1, 2.2, 2.3]):
        add(gproject, f"r{i}", loss=loss)
    cli(gproject, "sync")
    sheet = tab(emulator)
    grid = sheet.grid()
    header, body = grid[0], grid[1:]
    order = list(reversed(range(len(header))))
    body.reverse()
    new = [[row[i] if i < len(row) else None for i in order] + ["mine"] for row in [header, *body]]
    new[0][-1] = "my column"
    sheet.cols += 1  # the person inserts a column for their own notes
    sheet.cells.clear()
    for r, values in enumerate(new, 1):
        for c, v in enumerate(values, 1):
            sheet.put(r, c, v)
    loss_col = new[0].index("final loss") + 1
    sheet.put(2, loss_col, 9.9)  # a person's value in r2's loss cell
    for i, loss in enumerate([1.1, 1.2, 1.3]):
        (gproject.runs_dir / f"r{i}" / "results.json").write_text(json.dumps({"final_loss": loss}))
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert "edited by a person" in result.output
    r = rows(emulator)
    assert {k: v["final loss"] for k, v in r.items()} == {"r0": 1.1, "r1": 1.2, "r2": 9.9}
    assert all(v["my column"] == "mine" for v in r.values())
    cli(gproject, "sync", "--overwrite")
    assert rows(emulator)["r2"]["final loss"] == 1.3


def test_bad_input_leaves_the_sheet_unchanged(gproject, emulator):
    add(gproject, "r1")
    gproject.path.write_text(gproject.path.read_text() + "unknown_key: 1\n")
    before = tab(emulator).grid()
    result = cli(gproject, "sync")
    assert result.exit_code == 2 and "unknown key 'unknown_key'" in result.output
    assert tab(emulator).grid() == before


@pytest.mark.parametrize(
    ("status", "retry_after", "drop"),
    [
        (429, "0", False),
        (429, None, False),
        (500, None, False),
        (503, None, False),
        (None, None, True),
    ],
)
def test_faults_are_retried_then_the_sync_completes(
    gproject, emulator, monkeypatch, status, retry_after, drop
):
    monkeypatch.setattr("time.sleep", lambda s: None)
    add(gproject, "r1", loss=2.4)
    emulator.fail_next(status, times=2, retry_after=retry_after, drop=drop)
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert rows(emulator)["r1"]["final loss"] == 2.4


def test_persistent_fault_is_a_clear_error_and_nothing_is_written(emulator):
    emulator.books[KEY].add_sheet("Runs")
    from sheetsync.sheet.grid import CellWrite

    slept = []
    backend = GoogleBackend(KEY, retry_budget=10, sleep=slept.append)
    snapshot = backend.read(["Runs"])
    emulator.fail_next(503, times=100)
    with pytest.raises(BackendError, match="HTTP 503, still failing after retrying for 10s"):
        backend.write(snapshot, [CellWrite("Runs", 1, 1, "run")])
    assert tab(emulator).grid() == []
    assert slept and slept[1] > slept[0] * 1.2 * 0.5  # backoff grows (with jitter)
    emulator._faults.clear()


@pytest.mark.parametrize("edit", ["sort", "insert_row", "edit_cell"])
def test_concurrent_person_edit_between_read_and_write_never_hits_a_wrong_cell(
    gproject, emulator, edit
):
    for i, loss in enumerate([2.1, 2.2]):
        add(gproject, f"r{i}", loss=loss)

    def person(emu):
        sheet = emu.books[KEY].sheet("Runs")
        grid = sheet.grid()
        if edit == "sort":
            grid = [grid[0], *reversed(grid[1:])]
        elif edit == "insert_row":
            grid = [grid[0], [None] * len(grid[0]), *grid[1:]]
        else:
            col = grid[0].index("final loss")
            grid[1] = list(grid[1]) + [None] * (len(grid[0]) - len(grid[1]))
            grid[1][col] = "person's value"
        sheet.cells.clear()
        for r, values in enumerate(grid, 1):
            for c, v in enumerate(values, 1):
                sheet.put(r, c, v)

    emulator.on_request(3, person)  # after sheetsync's read (2 requests), before its check
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    r = rows(emulator)
    assert r["r1"]["final loss"] == 2.2
    if edit == "edit_cell":
        assert r["r0"]["final loss"] == "person's value"
    else:
        assert r["r0"]["final loss"] == 2.1


def test_format_is_idempotent_and_protects_owned_columns(gproject, emulator):
    sheet = tab(emulator)
    assert any(p["warningOnly"] for p in sheet.protected)
    assert {p["description"] for p in sheet.protected} >= {"sheetsync owns this column: gain"}
    # gain and anchored gain green and red by their intervals, unfinished rows grey, stale
    # baseline cells amber
    kinds = [r["booleanRule"]["condition"]["type"] for r in sheet.conditional]
    assert kinds == ["CUSTOM_FORMULA"] * 7
    formulas = [
        r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in sheet.conditional
    ]
    assert sum('FIND("-"' in f for f in formulas) == 4
    assert sheet.cells[(1, 1)].note.startswith("Unique run id")
    emulator.reset_counts()
    result = cli(gproject, "format")
    assert result.exit_code == 0, result.output
    assert emulator.writes() == 0 and len(sheet.conditional) == 7


def test_format_replaces_the_sign_only_gain_colours_of_earlier_versions(gproject, emulator):
    sheet = tab(emulator)
    gain_col = next(c for (r, c), v in sheet.cells.items() if r == 1 and v.value == "gain") - 1
    old = {
        "ranges": [
            {
                "sheetId": sheet.sheet_id,
                "startRowIndex": 1,
                "startColumnIndex": gain_col,
                "endColumnIndex": gain_col + 1,
            }
        ],
        "booleanRule": {
            "condition": {"type": "NUMBER_GREATER", "values": [{"userEnteredValue": "1"}]},
            "format": {"backgroundColor": {"red": 0.78, "green": 0.94, "blue": 0.81}},
        },
    }
    sheet.conditional.insert(0, old)
    assert cli(gproject, "format").exit_code == 0
    kinds = [r["booleanRule"]["condition"]["type"] for r in sheet.conditional]
    assert "NUMBER_GREATER" not in kinds and len(kinds) == 7


def test_auth_status_names_service_account_and_warns_on_loose_file(tmp_path, monkeypatch):
    creds = tmp_path / "sa.json"
    creds.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "bot@p.iam.example",
                "private_key": "-----BEGIN PRIVATE KEY-----\nSECRET\n",
            }
        )
    )
    os.chmod(creds, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(creds))
    identity = find_identity()
    assert identity.kind == "service account" and identity.email == "bot@p.iam.example"
    result = CliRunner().invoke(main, ["auth", "status"])
    assert "share the sheet with bot@p.iam.example" in result.output
    assert "readable by other users" in result.output
    assert "SECRET" not in result.output


# --- the real API's terms ----------------------------------------------------------------


def test_baseline_add_works_right_after_init_formatted_the_header_row(gproject, emulator):
    config = gproject.path.parent / "b2.yaml"
    config.write_text(yaml.safe_dump(BASE))
    result = cli(gproject, "baseline", "add", "b2", "--config", str(config), "--date", "2026-07-01")
    assert result.exit_code == 0, result.output
    grid = tab(emulator, "Baselines").grid()
    assert len(grid[0]) == 9  # a header narrower than the formatted row
    assert [r[:3] for r in grid[1:]] == [["b2@2026-07-01", "b2", "2026-07-01"]]


def test_sync_after_format_empty_column_date_error_and_sort_writes_only_what_changed(
    gproject, emulator
):
    import datetime as dt

    for i in range(3):
        add(gproject, f"r{i}", loss=2.0 + i / 10)
    cli(gproject, "sync")
    sheet = tab(emulator)
    header = sheet.grid()[0]
    loss, notes = header.index("final loss") + 1, header.index("notes") + 1
    width = len(header)
    sheet.cols += 1
    sheet.put(1, width + 1, "my empty column")  # a person's column, formatted, no values
    sheet.format_range(2, width + 1, None, width + 1, {"numberFormat": {"type": "PERCENT"}})
    grid = sheet.grid()
    body = sorted(grid[1:], key=lambda r: r[0], reverse=True)  # the person sorts
    sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] == 1}
    for r, row in enumerate(body, 2):
        for c, v in enumerate(row, 1):
            if v is not None:
                sheet.put(r, c, v)
    rows_by_run = {row[0]: r for r, row in enumerate(body, 2)}
    sheet.put(rows_by_run["r0"], notes, dt.date(2026, 6, 1))  # a date a person typed
    sheet.put_error(rows_by_run["r1"], loss, "=1/0")  # a person's erroring formula
    sheet.put(rows_by_run["r2"], loss, dt.date(2026, 6, 2))  # a date over a result
    for i in range(3):
        (gproject.runs_dir / f"r{i}" / "results.json").write_text(
            json.dumps({"final_loss": 1.5 + i / 10, "flops": 6e18})
        )
    before = {k: (v.value, v.error) for k, v in sheet.cells.items()}
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert "edited by a person: sheet has '#DIV/0!'" in result.output
    after = {k: (v.value, v.error) for k, v in sheet.cells.items()}
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {(rows_by_run["r0"], loss)}  # the run nobody touched
    assert sheet.get(rows_by_run["r0"], loss) == 1.5
    result = cli(gproject, "sync", "--overwrite")
    assert result.exit_code == 0, result.output
    assert sheet.get(rows_by_run["r1"], loss) == 1.6
    assert sheet.cells[(rows_by_run["r1"], loss)].error is None
    assert sheet.get(rows_by_run["r2"], loss) == 1.7
    assert "up to date" in cli(gproject, "sync").output


def test_check_read_receives_only_the_cells_it_verifies(emulator):
    from sheetsync.sheet.grid import CellWrite

    sheet = emulator.books[KEY].add_sheet("Runs", rows=2100, cols=40)
    for r in range(1, 2002):
        for c in range(1, 41):
            sheet.put(r, c, f"h{c}" if r == 1 else (f"run-{r}" if c == 1 else r * c / 7))
    sheet.format_range(1, 1, 1, None, {"textFormat": {"bold": True}})
    sheet.format_range(2, 5, None, 5, {"numberFormat": {"type": "NUMBER", "pattern": "0.00"}})
    backend = GoogleBackend(KEY, retry_budget=1)
    snapshot = backend.read(["Runs"])
    emulator.reset_counts()
    backend.write(snapshot, [CellWrite("Runs", 1500, 5, 1.0, 1500 * 5 / 7, "run-1500", 1)])
    check, update, prove = emulator.log
    assert check.kind == "values.batchGetByDataFilter" and check.received < 900
    assert update.kind == "batchUpdate" and update.sent < 400
    # the proof: the run ids alone (about 13 bytes a row as JSON)
    assert prove.kind == "values.batchGet" and prove.received < 14 * 2001 + 200
    assert sheet.get(1500, 5) == 1.0


def test_writes_go_in_blocks_split_under_the_size_limit(emulator):
    from sheetsync.sheet.grid import CellWrite

    emulator.books[KEY].add_sheet("Runs")
    backend = GoogleBackend(KEY, retry_budget=1, max_request_bytes=50_000)
    writes = [CellWrite("Runs", r, 1, f"run-{r}") for r in range(2, 3002)]
    writes += [CellWrite("Runs", r, 2, r / 3) for r in range(2, 3002)]
    writes += [CellWrite("Runs", r, 4, "x") for r in range(2, 3002, 2)]  # not contiguous
    emulator.reset_counts()
    backend.write(backend.read(["Runs"]), writes)
    updates = [x for x in emulator.log if x.kind == "batchUpdate"]
    assert len(updates) > 1 and max(x.sent for x in updates) <= 50_000
    sheet = tab(emulator)
    assert sheet.get(3001, 1) == "run-3001" and sheet.get(2500, 2) == 2500 / 3
    assert sheet.get(2, 4) == "x" and sheet.get(3, 4) is None and sheet.rows >= 3001


def test_retried_structural_requests_are_not_duplicated(gproject, emulator, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    sheet = tab(emulator)
    protections, rules = len(sheet.protected), len(sheet.conditional)
    sheet.protected.clear()
    sheet.conditional.clear()
    lost_reply = {"status": None, "drop": True, "after_apply": True, "kind": "batchUpdate"}
    emulator.fail_next(**lost_reply)
    assert cli(gproject, "format").exit_code == 0
    assert (len(sheet.protected), len(sheet.conditional)) == (protections, rules)
    book = emulator.books[KEY]
    book.delete_sheet("Scaling")
    emulator.fail_next(**lost_reply)
    result = cli(gproject, "init")
    assert result.exit_code == 0, result.output
    assert [s.title for s in book.sheets].count("Scaling") == 1
    assert not emulator._faults


def test_retried_write_grows_the_grid_once(emulator):
    from sheetsync.sheet.grid import CellWrite

    emulator.books[KEY].add_sheet("Runs", rows=10)
    backend = GoogleBackend(KEY, retry_budget=5, sleep=lambda s: None)
    snapshot = backend.read(["Runs"])
    emulator.fail_next(None, drop=True, after_apply=True, kind="batchUpdate")
    backend.write(snapshot, [CellWrite("Runs", 50, 1, "far")])
    assert tab(emulator).rows == 150 and tab(emulator).get(50, 1) == "far"
    assert backend.retries == 1


def test_stalled_reply_times_out_and_is_retried(emulator, monkeypatch):
    monkeypatch.setenv("SHEETSYNC_GOOGLE_TIMEOUT", "2,0.3")
    emulator.books[KEY].add_sheet("Runs").put(1, 1, "run")
    backend = GoogleBackend(KEY, retry_budget=30, sleep=lambda s: None)
    assert backend.timeout == (2.0, 0.3) and backend.http_client.http().timeout == (2.0, 0.3)
    emulator.fail_next(None, stall=1.0)
    assert backend.read(["Runs"]).grid("Runs") == [["run"]]
    assert backend.retries == 1


def test_every_request_goes_through_the_http_client_it_is_given(emulator):
    """As gspread's Client(http_client=...): the backend and each of its collaborators send
    through one injected client, where the retries live."""
    from sheetsync.sheet.backends.google_http import SheetsClient
    from sheetsync.sheet.grid import CellWrite

    emulator.books[KEY].add_sheet("Runs").put(1, 1, "run")
    slept: list[float] = []
    client = SheetsClient(KEY, retry_budget=30, sleep=slept.append)
    backend = GoogleBackend("ignored", http_client=client)
    assert backend.http_client is client and backend.describe() == f"Google Sheet {KEY}"
    assert {id(c.client) for c in (backend.reader, backend.writer, backend.appender)} == {
        id(client)
    }
    emulator.fail_next(503)
    snapshot = backend.read(["Runs"])
    backend.write(snapshot, [CellWrite("Runs", 2, 1, "r1")])
    assert client.retries == backend.retries == 1 and len(slept) == 1
    assert tab(emulator).get(2, 1) == "r1"


def test_the_backend_holds_its_collaborators_and_no_private_name_crosses_a_file():
    """Composition, not mixins: GoogleBackend inherits nothing, and no google module imports
    another's `_private` name."""
    import ast
    from pathlib import Path

    import sheetsync.sheet.backends as backends

    assert GoogleBackend.__bases__ == (object,)
    crossing = []
    for path in Path(backends.__file__).parent.glob("google*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sheetsync"):
                crossing += [f"{path.name}: {a.name}" for a in node.names if a.name[0] == "_"]
    assert crossing == []


def test_bad_timeout_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SHEETSYNC_GOOGLE_TIMEOUT", "soon")
    with pytest.raises(BackendError, match="SHEETSYNC_GOOGLE_TIMEOUT='soon'"):
        GoogleBackend(KEY)


def test_no_edit_access_names_the_identity_to_share_with(gproject, emulator, tmp_path, monkeypatch):
    creds = tmp_path / "sa.json"
    creds.write_text(json.dumps({"type": "service_account", "client_email": "bot@p.example"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(creds))
    write_run(gproject, "r1")
    emulator.books[KEY].access = "reader"
    result = cli(gproject, "add", str(gproject.runs_dir / "r1"), "-q", "q", "-b", "b", "--yes")
    assert result.exit_code == 1
    assert "bot@p.example has no edit access (HTTP 403); share the sheet with it as an Editor" in (
        result.output
    )


def test_protected_range_is_named_and_nothing_is_written(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    sheet = tab(emulator)
    loss = sheet.grid()[0].index("final loss") + 1
    sheet.protect(2, loss, None, loss, description="Ana's numbers")
    before = sheet.grid()
    result = cli(gproject, "sync")
    assert result.exit_code == 1
    assert 'is in the protected range "Ana\'s numbers"' in result.output
    assert sheet.grid() == before
    sheet.protected[-1]["warningOnly"] = True  # a warning-only range does not stop sheetsync
    assert cli(gproject, "sync").exit_code == 0 and rows(emulator)["r1"]["final loss"] == 2.4


def test_protection_added_after_the_read_is_reported_from_the_403(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    sheet = tab(emulator)
    loss = sheet.grid()[0].index("final loss") + 1
    emulator.on_request(4, lambda e: sheet.protect(2, loss, None, loss))  # before the write
    result = cli(gproject, "sync")
    assert result.exit_code == 1 and "inside a protected range" in result.output
    assert rows(emulator)["r1"].get("final loss") is None


def test_tab_named_like_a_cell_is_never_read_as_a_range(emulator):
    from sheetsync.sheet.grid import CellWrite

    book = emulator.books[KEY]
    book.sheet("Sheet1").put(3, 17, "Sheet1's Q3 cell")
    book.add_sheet("Q3")
    book.add_sheet("H100")
    backend = GoogleBackend(KEY, retry_budget=1)
    backend.create_tabs(["Q3", "H100"])
    snap = backend.read(["Q3", "H100"])
    assert snap.grids == {"Q3": [], "H100": []}
    backend.write(snap, [CellWrite("Q3", 1, 1, "q"), CellWrite("H100", 2, 2, "h")])
    assert backend.read(["Q3", "H100"]).grids == {"Q3": [["q"]], "H100": [[], [None, "h"]]}
    assert book.sheet("Sheet1").grid()[2][16] == "Sheet1's Q3 cell"


def test_case_changed_tab_is_found_and_a_second_one_never_made(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    tab(emulator).title = "runs"
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert "tab 'runs' is used as 'Runs'" in result.output
    assert emulator.books[KEY].sheet("runs").grid()[1][0] == "r1"
    assert cli(gproject, "init").exit_code == 0
    assert [s.title.casefold() for s in emulator.books[KEY].sheets].count("runs") == 1


def test_renamed_tab_is_refused_clearly(gproject, emulator):
    tab(emulator).title = "Experiments 2026"
    result = cli(gproject, "sync")
    assert result.exit_code == 1
    assert "the 'Runs' tab sheetsync made is now called 'Experiments 2026'" in result.output
    assert cli(gproject, "init").exit_code == 1
    assert "Runs" not in [s.title for s in emulator.books[KEY].sheets]


def test_state_tab_deleted_is_told_from_empty_and_from_never_made(gproject, emulator):
    add(gproject, "r1")
    backend = GoogleBackend(KEY, retry_budget=1)
    assert backend.tab_status(backend.read(["_sheetsync"]), "_sheetsync") == "present"
    state = emulator.books[KEY].sheet("_sheetsync")
    state.cells.clear()
    assert backend.tab_status(backend.read(["_sheetsync"]), "_sheetsync") == "empty"
    emulator.books[KEY].delete_sheet("_sheetsync")
    assert backend.tab_status(backend.read(["_sheetsync"]), "_sheetsync") == "deleted"
    assert backend.tab_status(backend.read(["Elsewhere"]), "Elsewhere") == "missing"


def test_read_boxes_reads_only_the_rows_and_columns_asked(emulator):
    sheet = emulator.books[KEY].add_sheet("State")
    for r in range(1, 501):
        sheet.put(r, 1, "Runs")
        sheet.put(r, 2, f"run-{r}")
        sheet.put(r, 3, "{" + "x" * 200 + "}")
    backend = GoogleBackend(KEY, retry_budget=1)
    snapshot = backend.read([])
    emulator.reset_counts()
    keys, two_rows = backend.read_boxes(snapshot, "State", [(1, 1, None, 2), (7, 1, 8, 3)])
    assert keys[499] == ["Runs", "run-500"] and len(keys) == 500
    assert two_rows == [
        ["Runs", "run-7", "{" + "x" * 200 + "}"],
        ["Runs", "run-8", "{" + "x" * 200 + "}"],
    ]
    assert emulator.received < 500 * 25 + 1000  # the JSON column is not read


def test_check_read_of_scattered_rows_stays_proportional_to_them(emulator):
    from sheetsync.sheet.grid import CellWrite

    sheet = emulator.books[KEY].add_sheet("Runs", rows=10_100, cols=4)
    for r in range(1, 10_002):
        sheet.put(r, 1, "run" if r == 1 else f"run-{r}")
        sheet.put(r, 2, "loss" if r == 1 else 2.5)
    backend = GoogleBackend(KEY, retry_budget=1)
    snapshot = backend.read(["Runs"])
    writes = [CellWrite("Runs", r, 2, 2.0, 2.5, f"run-{r}", 1) for r in range(2, 10_002, 100)]
    emulator.reset_counts()
    backend.write(snapshot, writes)
    check = next(x for x in emulator.log if x.kind == "values.batchGetByDataFilter")
    assert check.received < 100 * 120  # 100 rows of two cells (and their ranges), not 10,000
    assert sheet.get(9902, 2) == 2.0 and sheet.get(9903, 2) == 2.5


def test_too_many_boxes_merge_across_the_smallest_gaps_only():
    from sheetsync.sheet.backends.google_api import cover_boxes

    cells = {r: {2} for r in (2, 3, 10, 11, 100, 500)}
    assert cover_boxes(cells, 10) == [
        (2, 2, 3, 2),
        (10, 2, 11, 2),
        (100, 2, 100, 2),
        (500, 2, 500, 2),
    ]
    assert cover_boxes(cells, 3) == [(2, 2, 11, 2), (100, 2, 100, 2), (500, 2, 500, 2)]
    even = {r: {1} for r in range(2, 1000, 100)}  # ties: merge exactly as many as needed
    assert len(cover_boxes(even, 4)) == 4


def test_write_that_fails_after_some_parts_says_so_and_a_rerun_completes_it(emulator):
    from sheetsync.sheet.grid import CellWrite

    emulator.books[KEY].add_sheet("Runs")
    backend = GoogleBackend(KEY, retry_budget=3, sleep=lambda s: None, max_request_bytes=20_000)
    writes = [CellWrite("Runs", r, 1, f"run-{r}") for r in range(2, 2002)]
    snapshot = backend.read(["Runs"])
    emulator.on_request(3, lambda e: e.fail_next(503, times=100))  # check, part 1, part 2
    with pytest.raises(BackendError, match=r"wrote 1 of \d+ parts"):
        backend.write(snapshot, writes)
    emulator._faults.clear()
    assert tab(emulator).get(2, 1) == "run-2" and tab(emulator).get(2001, 1) is None
    fresh = backend.read(["Runs"])
    grid = fresh.grid("Runs")
    now = {r: (grid[r - 1][0] if r <= len(grid) and grid[r - 1] else None) for r in range(2, 2002)}
    backend.write(fresh, [CellWrite("Runs", r, 1, f"run-{r}", now[r]) for r in range(2, 2002)])
    assert tab(emulator).get(2001, 1) == "run-2001"
