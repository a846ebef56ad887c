"""A team's machines on one sheet: each machine checks and syncs only the runs it has, cron's
`sync --quiet` prints nothing unless a person is needed, one sync of a project at a time,
`watch` syncs on changes and stops cleanly on SIGTERM, and `add` names the row the run
landed in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from sheetsync.project import load_project
from sheetsync.sheet.init import init_sheet, write_project_files
from sheetsync.sheet.lock import Busy, sync_lock
from sheetsync.sheet.read import read_rows
from tests.helpers import BASE, cli, write_run

REPO = Path(__file__).resolve().parents[1]


def add(project, run_id: str, **kw) -> Path:
    folder = write_run(project, run_id, changes={"model.prores": True}, **kw)
    result = cli(project, "add", str(folder), "-q", "Does it help?", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    return folder


def machine(tmp_path: Path, name: str, sheet: Path) -> object:
    """A second project folder (another machine) on the same workbook, with the baselines."""
    root = tmp_path / name
    write_project_files(root)
    config = root / "sheetsync.yaml"
    config.write_text(config.read_text().replace("local: experiments.xlsx", f"local: {sheet}"))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    return load_project(config)


@pytest.fixture
def two(project, tmp_path):
    """ana's machine (the `project` fixture) and ben's, one workbook; a run on each."""
    ben = machine(tmp_path, "ben", Path(project.sheet_target))
    add(project, "ana-1")
    add(ben, "ben-1", state="killed", step=10)  # fails its `finished` rule on ben's machine
    return project, ben


def test_check_counts_the_runs_of_other_machines_in_one_line_and_passes(two):
    ana, ben = two
    result = cli(ana, "check")
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "checked 1 runs: 0 failing, 0 warnings\n"
        "1 runs in the sheet are not on this machine: not checked\n"
    )
    assert "ben-1" not in result.output
    assert cli(ben, "check").exit_code == 1  # ben's own run fails on ben's machine


def test_check_of_a_run_that_is_not_here_says_so_and_exits_2(two):
    ana, _ = two
    result = cli(ana, "check", "ben-1")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "run 'ben-1' is in the sheet but not on this machine" in result.output


def test_sync_leaves_other_machines_cells_alone_and_says_so_once(two, tmp_path):
    ana, ben = two
    assert cli(ben, "sync").exit_code == 0
    before = {r["run"]: r for r in read_rows(ana).records}
    result = cli(ana, "sync")
    assert result.exit_code == 0
    assert result.output.count("not on this machine") == 1
    after = {r["run"]: r for r in read_rows(ana).records}
    assert after["ben-1"] == before["ben-1"]
    assert after["ana-1"]["status"] == "finished"


# --- cron: sync --quiet ----------------------------------------------------------------------


def test_quiet_sync_prints_nothing_when_nothing_needs_a_person(two):
    ana, _ = two
    quiet = cli(ana, "sync", "--quiet")
    assert (quiet.exit_code, quiet.output) == (0, "")
    assert read_rows(ana).records[0]["status"] == "finished"  # it did sync
    again = cli(ana, "sync", "--quiet")
    assert (again.exit_code, again.output) == (0, "")


def test_quiet_sync_speaks_for_a_conflict_and_a_new_failing_check(two):
    ana, ben = two
    folder = ben.runs_dir / "ben-1"
    result = cli(ben, "sync", "--quiet")
    assert result.exit_code == 3
    assert result.output == ("ben-1: checks now fail: unfinished (`sheetsync check ben-1`)\n")
    assert cli(ben, "sync", "--quiet").output == ""  # said once, when it started failing
    book = Path(ben.sheet_target)
    from openpyxl import load_workbook

    wb = load_workbook(book)
    ws = wb["Runs"]
    header = [c.value for c in ws[1]]
    ws.cell(row=3, column=header.index("final loss") + 1, value=1.23)  # a person's edit
    wb.save(book)
    (folder / "results.json").write_text(json.dumps({"final_loss": 2.2, "flops": 6e18}))
    spoken = cli(ben, "sync", "--quiet")
    assert spoken.exit_code == 3
    assert spoken.output.startswith("conflict: ben-1 / final loss")


def test_quiet_sync_of_a_broken_project_is_one_error_line(project):
    (project.root / "layout.yaml").write_text("runs: [")
    result = cli(project, "sync", "--quiet")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")


# --- one sync at a time ----------------------------------------------------------------------


def test_a_second_sync_waits_then_stops_in_one_line_with_exit_4(project):
    add(project, "r1")
    with sync_lock(project):
        result = cli(project, "sync", "--quiet", "--wait", "0.3")
        assert result.exit_code == 4
        assert result.output.count("\n") == 1
        assert f"another sheetsync sync of {project.path} is running (pid {os.getpid()}" in (
            result.output
        )
        assert cli(project, "sync", "--wait", "0").exit_code == 4
    assert cli(project, "sync", "--quiet").exit_code == 0  # the lock went with its holder


def test_a_sync_waits_for_one_that_finishes_within_the_wait(project):
    add(project, "r1")
    held = threading.Event()
    release = threading.Event()

    def first() -> None:
        with sync_lock(project):
            held.set()
            release.wait(5)

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    result = cli(project, "sync", "--quiet", "--wait", "10")
    t.join()
    assert (result.exit_code, result.output) == (0, "")


def test_the_lock_is_held_across_processes(project):
    """A real second process (flock locks are per open file, so a thread proves little)."""
    add(project, "r1")
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from sheetsync.project import load_project\n"
        "from sheetsync.sheet.lock import sync_lock\n"
        "with sync_lock(load_project(Path(sys.argv[1]))):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(30)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", code, str(project.path)], env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(Busy, match=f"pid {holder.pid}"), sync_lock(project, wait=0.2):
            pass
    finally:
        holder.kill()
        holder.wait()
    with sync_lock(project, wait=5):  # killed: the kernel released it
        pass


# --- watch -----------------------------------------------------------------------------------


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _status(project, run_id: str):
    try:
        return {r["run"]: r for r in read_rows(project).records}[run_id]["status"]
    except Exception:  # the workbook mid-replace, or not readable yet: ask again
        return None


def test_watch_syncs_on_a_change_and_stops_cleanly_on_sigterm(project):
    folder = add(project, "r1", state="running", step=500)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHEETSYNC_CONFIG": str(project.path)}
    proc = subprocess.Popen([sys.executable, "-m", "sheetsync", "watch", "--interval", "0.2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert _wait_for(lambda: _status(project, "r1") not in (None, "")), "first sync"
        assert _status(project, "r1").startswith("running")
        done = {"step": 1000, "steps_planned": 1000, "tokens": 10**6, "state": "finished"}
        (folder / "progress.json").write_text(json.dumps(done))
        assert _wait_for(lambda: _status(project, "r1") == "finished"), "sync on the change"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"watching the runs of {project.path} every 0.2 s")
    assert lines[-1].startswith("watch stopped after ")
    assert any(line.startswith("wrote ") for line in lines)
    assert not list(project.root.rglob(".*.tmp"))  # stopped between syncs: no half write


def test_watch_without_changes_syncs_once(project, monkeypatch):
    """Unchanged folders are not synced again (a stamp per folder, not a sync per tick)."""
    from sheetsync.sheet import watch as watching

    add(project, "r1")
    calls = []
    real = watching.unattended_sync
    monkeypatch.setattr(watching, "unattended_sync", lambda p, w: calls.append(1) or real(p, w))
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    assert watching.watch(project, 0.05, stop, lambda item: None) == 1
    assert calls == [1]


# --- add names the landed row ----------------------------------------------------------------


def test_add_names_the_row_the_run_landed_in_not_the_planned_one(gproject, emulator):
    """A teammate's row lands between this add's read and its append: the server puts ours
    one row lower, and `add` names that row (it used to print the planned one)."""
    from tests.test_google_backend import KEY

    runs = emulator.books[KEY].sheet("Runs")
    write_run(gproject, "mine", changes={"model.prores": True})

    def teammate(emu) -> None:  # runs inside the server, just before the request is served
        if emu.requests[-1] == "batchUpdate" and not runs_of(runs).count("theirs"):
            runs.put(len(runs.grid()) + 1, 1, "theirs")

    for n in range(1, 40):
        emulator.on_request(n, teammate)
    result = cli(gproject, "add", str(gproject.runs_dir / "mine"), "-q", "Q?", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    ids = runs_of(runs)
    assert ids == ["run", "theirs", "mine"]
    assert "added mine as row 3 of " in result.output


def runs_of(sheet) -> list[str]:
    return [row[0] if row else "" for row in sheet.grid()]


@pytest.fixture
def emulator(monkeypatch):
    from tests.sheets_emulator import Emulator
    from tests.test_google_backend import KEY

    emu = Emulator()
    emu.create(KEY)
    emu.books[KEY].add_sheet("Sheet1")
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


@pytest.fixture
def gproject(tmp_path, emulator):
    from tests.test_google_backend import KEY

    root = tmp_path / "gproj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit"
    config.write_text(config.read_text().replace("  local: experiments.xlsx", f"  google: {url}"))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(config)
    init_sheet(project)
    return project


def test_quiet_is_for_the_whole_machine_only(project):
    add(project, "r1")
    result = cli(project, "sync", "--quiet", "--dry-run")
    assert result.exit_code == 2
    assert result.output.startswith("Error: --quiet syncs every run of this machine")


def test_check_json_says_in_a_note_how_many_runs_are_not_here(two):
    ana, _ = two
    result = cli(ana, "check", "--json")
    assert result.exit_code == 0
    assert {f["run"] for f in json.loads(result.stdout)} == {"ana-1"}
    assert "note: 1 runs in the sheet are not on this machine: not checked" in result.stderr
