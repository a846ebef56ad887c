"""The Google backend through the real gspread client, against the local Sheets API emulator:
the engine's promises, request counts, faults, concurrent edits, formatting."""

from __future__ import annotations

import json
import os
import stat

import pytest
import yaml
from click.testing import CliRunner

from sheetsync.backends.google import GoogleBackend
from sheetsync.backends.google_auth import find_identity
from sheetsync.cli import main
from sheetsync.engine import init_sheet, write_project_files
from sheetsync.errors import BackendError
from sheetsync.project import load_project
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
    ]
    assert book.sheet("_sheetsync").hidden
    assert tab(emulator).grid()[0][:3] == ["run", "launched", "launched by"]
    assert tab(emulator).frozen_rows == 1 and tab(emulator).frozen_cols == 1


def test_sync_fills_results_then_is_idempotent_in_three_reads_and_one_write(gproject, emulator):
    add(gproject, "r1", loss=2.4)
    add(gproject, "r2", step=600, state="killed")
    emulator.reset_counts()
    assert cli(gproject, "sync").exit_code == 0
    assert emulator.counts == {"get": 1, "values.batchGet": 2, "batchUpdate": 1}
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
    from sheetsync.backends.base import CellWrite

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
    (gproject.runs_dir / "r1" / "results.json").write_text('{"final_loss": NaN}')
    before = tab(emulator).grid()
    result = cli(gproject, "sync")
    assert result.exit_code == 1 and "final_loss is nan" in result.output
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
    from sheetsync.backends.base import CellWrite

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
    assert len(sheet.conditional) == 4
    assert sheet.cells[(1, 1)].note.startswith("Unique run id")
    emulator.reset_counts()
    result = cli(gproject, "format")
    assert result.exit_code == 0, result.output
    assert emulator.writes() == 0 and len(sheet.conditional) == 4


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
