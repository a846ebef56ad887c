"""Crash safety of the local workbook: a sync killed (SIGKILL) at any point leaves the old or
the new workbook, never a corrupt one, and the next sync converges; two syncs at once both
finish, one after the other."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheetsync.sheet.sync import sync_runs
from tests.helpers import write_run

# Kills at random moments in [0, 1.5 x the sync's time]: as many land inside the sync (before and
# after its rename) as 200 kills in [0, 2.5x] did (about 70 here); the extra ones landed after
# the child had finished and proved nothing more.
KILLS = 120


def grid(path: Path) -> list[tuple]:
    wb = load_workbook(path)
    return [
        tuple(r) for name in ("Runs", "_sheetsync") for r in wb[name].iter_rows(values_only=True)
    ]


def child_sync(project) -> None:
    pid = os.fork()
    if pid == 0:  # the child: one sync, then leave without cleanup handlers
        code = 0
        try:
            sync_runs(project)
        except BaseException:
            code = 1
        os._exit(code)
    return pid


def kill_after(pid: int, seconds: float) -> None:
    """SIGKILL the child `seconds` from now; a child that has exited by then is not waited
    for (the kill would change nothing), so kills late in the window cost no idle time."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (not Linux, or an old kernel): just wait
        time.sleep(seconds)
    else:
        try:
            select.select([fd], [], [], seconds)
        finally:
            os.close(fd)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def prepared(project):
    for i in range(30):
        write_run(project, f"r{i:02d}", loss=2.0 + i / 100)
        from click.testing import CliRunner

        from sheetsync.cli import main

        CliRunner().invoke(
            main,
            [
                "--config",
                str(project.path),
                "add",
                str(project.runs_dir / f"r{i:02d}"),
                "-q",
                "q",
                "-b",
                "b",
                "--yes",
            ],
        )
    sync_runs(project)
    for i in range(30):
        (project.runs_dir / f"r{i:02d}" / "results.json").write_text(
            json.dumps({"final_loss": 1.5 + i / 100, "flops": 7e18})
        )
    book = Path(project.sheet_target)
    old_bytes = book.read_bytes()
    old = grid(book)
    start = time.perf_counter()
    sync_runs(project)
    duration = time.perf_counter() - start
    new = grid(book)
    book.write_bytes(old_bytes)
    return project, book, old_bytes, old, new, duration


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_at_random_points_leaves_old_or_new_and_rerun_converges(prepared):
    project, book, old_bytes, old, new, duration = prepared
    rng = random.Random(1234)
    outcomes = {"old": 0, "new": 0}
    grids: dict[bytes, list[tuple]] = {}  # the same bytes read as the same grid: load once
    for _ in range(KILLS):
        book.write_bytes(old_bytes)
        pid = child_sync(project)
        kill_after(pid, rng.uniform(0, duration * 1.5))
        os.waitpid(pid, 0)
        data = book.read_bytes()
        if data not in grids:
            grids[data] = grid(book)  # loads: the file is a whole workbook
        now = grids[data]
        assert now in (old, new)
        outcomes["old" if now == old else "new"] += 1
    assert outcomes["old"] > 0 and outcomes["new"] > 0  # the kills landed on both sides
    sync_runs(project)
    assert grid(book) == new
    assert not list(book.parent.glob(f".{book.name}.*.tmp"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_two_syncs_at_once_both_finish_one_after_the_other(prepared):
    project, book, _, _, new, _ = prepared
    pids = [child_sync(project), child_sync(project)]
    codes = [os.waitpid(pid, 0)[1] for pid in pids]
    assert codes == [0, 0]
    assert grid(book) == new
