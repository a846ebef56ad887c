"""A team's week on one Google Sheet (the emulator, driven by the real gspread client): three
project folders as three machines (ana's, ben's, and a cron machine with no run folders),
launches at the same moment from two of them, syncs from each, and a person sorting,
inserting a row and editing cells between syncs.

What must hold at the end: no row lost or doubled, every person's edit kept, each machine's
`check` passing for its own runs (the others counted as not here), the cron's quiet sync
printing nothing, and every result cell as the run folders say."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import yaml

from sheetsync.project import Project, load_project
from sheetsync.sheet.add import commit_add, prepare_add
from sheetsync.sheet.init import init_sheet, write_project_files
from tests.helpers import BASE, cli, write_run
from tests.sheets_emulator import Emulator

KEY = "1TeamWeekSheetKey0123456789abcdefghijklmnop"
URL = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"


@pytest.fixture
def emulator(monkeypatch):
    emu = Emulator()
    emu.create(KEY).add_sheet("Sheet1")
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


def machine(tmp_path: Path, name: str) -> Project:
    root = tmp_path / name
    write_project_files(root)
    config = root / "sheetsync.yaml"
    config.write_text(config.read_text().replace("  local: experiments.xlsx", f"  google: {URL}"))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    return load_project(config)


def launch_together(pairs: list[tuple[Project, str]]) -> None:
    """`add` of several runs from several machines, released at the same moment."""
    for project, run_id in pairs:
        write_run(project, run_id, changes={"model.prores": True}, state="running", step=100)
    start = threading.Barrier(len(pairs))
    errors: list[BaseException] = []

    def add(project: Project, run_id: str) -> None:
        try:
            pending = prepare_add(project, project.runs_dir / run_id, f"Does {run_id} help?", "b")
            start.wait(10)
            commit_add(project, pending)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def finish(project: Project, run_id: str, loss: float) -> None:
    folder = project.runs_dir / run_id
    progress = {"step": 1000, "steps_planned": 1000, "tokens": 10**6, "state": "finished"}
    (folder / "progress.json").write_text(json.dumps(progress))
    (folder / "results.json").write_text(json.dumps({"final_loss": loss, "flops": 6e18}))


def person(emulator: Emulator, edit) -> None:
    """A person changes the Runs tab in the browser: the whole grid rewritten as they left it."""
    sheet = emulator.books[KEY].sheet("Runs")
    grid = edit([list(r) for r in sheet.grid()])
    width = max(len(r) for r in grid)
    sheet.cells.clear()
    sheet.rows = max(sheet.rows, len(grid) + 10)
    for r, values in enumerate(grid, 1):
        for c, value in enumerate([*values, *[None] * (width - len(values))], 1):
            if value not in (None, ""):
                sheet.put(r, c, value)


def rows(emulator: Emulator) -> list[dict]:
    grid = emulator.books[KEY].sheet("Runs").grid()
    return [dict(zip(grid[0], r, strict=False)) for r in grid[1:] if r and r[0]]


def set_cell(header: list, row: list, column: str, value) -> list:
    row = [*row, *[None] * (len(header) - len(row))]
    row[header.index(column)] = value
    return row


def test_a_team_week_on_one_sheet(tmp_path, emulator):
    ana, ben, cron = (machine(tmp_path, n) for n in ("ana", "ben", "cron"))
    init_sheet(ana)
    assert cli(cron, "init").exit_code == 0  # attaching to the existing sheet changes nothing
    quiet: list[str] = []

    def cron_tick() -> None:
        result = cli(cron, "sync", "--quiet")
        assert result.exit_code == 0, result.output
        quiet.append(result.output)

    # Monday: each launches a run, launches collide, each syncs its own
    launch_together([(ana, "ana-1")])
    launch_together([(ben, "ben-1")])
    launch_together([(ana, "ana-2"), (ben, "ben-2")])
    for project in (ana, ben):
        assert cli(project, "sync").exit_code == 0
    cron_tick()

    # Tuesday: a person sorts by run id (newest first), inserts a row for a remark, and edits
    def tuesday(grid: list) -> list:
        header, body = grid[0], sorted(grid[1:], key=lambda r: r[0], reverse=True)
        body = [set_cell(header, r, "notes", f"{r[0]}: watch the loss") for r in body]
        body.insert(1, set_cell(header, [], "notes", "remark: cluster down Tuesday night"))
        return [header, *body]

    person(emulator, tuesday)
    finish(ana, "ana-1", 2.31)
    finish(ben, "ben-1", 2.42)
    cron_tick()
    launch_together([(ana, "ana-3"), (ben, "ben-3")])
    for project in (ben, ana):
        assert cli(project, "sync").exit_code == 0
    cron_tick()

    # Wednesday: a person overrides a result by hand and writes a conclusion; runs finish
    def wednesday(grid: list) -> list:
        header = grid[0]
        out = [header]
        for r in grid[1:]:
            if r and r[0] == "ben-1":
                r = set_cell(header, r, "final loss", 2.4)  # rounded by hand
                r = set_cell(header, r, "conclusion", "no gain at this size")
            out.append(r)
        return out

    person(emulator, wednesday)
    for project, run_id, loss in [(ana, "ana-2", 2.2), (ben, "ben-2", 2.25), (ana, "ana-3", 2.1),
                                  (ben, "ben-3", 2.05)]:  # fmt: skip
        finish(project, run_id, loss)
    for project in (ana, ben):
        assert cli(project, "sync").exit_code == 0
    cron_tick()
    cron_tick()

    # the sheet at the end of the week
    found = rows(emulator)
    ids = [r["run"] for r in found]
    assert sorted(ids) == ["ana-1", "ana-2", "ana-3", "ben-1", "ben-2", "ben-3"]
    by_id = {r["run"]: r for r in found}
    assert {k: by_id[k]["final loss"] for k in by_id} == {
        "ana-1": 2.31, "ana-2": 2.2, "ana-3": 2.1,
        "ben-1": 2.4,  # the person's value, kept
        "ben-2": 2.25, "ben-3": 2.05,
    }  # fmt: skip
    assert all(by_id[k]["status"] == "finished" for k in by_id)
    for run_id in ("ana-1", "ana-2", "ben-1", "ben-2"):
        assert by_id[run_id]["notes"] == f"{run_id}: watch the loss"
    assert by_id["ben-1"]["conclusion"] == "no gain at this size"
    grid = emulator.books[KEY].sheet("Runs").grid()
    notes = grid[0].index("notes")
    remarks = [r for r in grid if len(r) > notes and str(r[notes]).startswith("remark:")]
    assert len(remarks) == 1 and not remarks[0][0]  # the inserted row, left as it is

    # each machine checks its own runs and passes; the others are not here
    for project in (ana, ben):
        result = cli(project, "check")
        assert result.exit_code == 0, result.output
        assert result.output.endswith(
            "checked 3 runs: 0 failing, 0 warnings\n"
            "3 runs in the sheet are not on this machine: not checked\n"
        )
    result = cli(cron, "check")
    assert result.exit_code == 0
    assert "6 runs in the sheet are not on this machine: not checked" in result.output
    assert quiet == [""] * 5  # the cron machine's quiet syncs printed nothing, all week
