"""`watch`: sync whenever the runs change. Every `interval` seconds it stamps what a sync
reads on this machine (each run folder's files by name, mtime and size; the tracker's folder
when it is on this disk; the baselines folder) and syncs when the stamp moved. A source it
cannot stamp cheaply (an object store, a tracking server) is synced at every interval.

It stops between syncs when `stop` is set (the CLI sets it on SIGTERM or SIGINT), so a sync
is never cut in half; a failed sync is reported and tried again at the next change.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sheetsync.errors import SheetsyncError
from sheetsync.project import Project
from sheetsync.records import slurm
from sheetsync.records.runcache import stamp as folder_stamp
from sheetsync.sheet.unattended import Unattended, unattended_sync

Stamp = tuple[object, ...]
MAX_TREE_FILES = 200_000  # a tracker folder walked for its stamp stops here


def _tree(folder: Path) -> tuple[tuple[str, int, int], ...]:
    out: list[tuple[str, int, int]] = []
    for top, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(top, name))
            except OSError:
                continue
            out.append((os.path.join(top, name), st.st_mtime_ns, st.st_size))
            if len(out) >= MAX_TREE_FILES:
                return tuple(out)
    return tuple(out)


def runs_stamp(project: Project) -> Stamp | None:
    """What a sync on this machine would read, stamped; None when the source cannot be
    stamped here (then every interval syncs)."""
    spec = project.runs_source
    parts: list[object] = [_tree(project.baselines_dir)]
    if spec is not None and spec.kind != "folder":
        location = Path(spec.location)
        if not location.is_absolute() or not location.exists():
            return None  # a server or a bucket: not seen from here
        parts.append(_tree(location))
        return tuple(parts)
    try:
        names = sorted(os.listdir(project.runs_dir))
    except OSError:
        names = []
    for name in names:
        parts.append((name, folder_stamp(project.runs_dir / name)))
    return tuple(parts)


def watch(
    project: Project,
    interval: float,
    stop: threading.Event,
    report: Callable[[Unattended | SheetsyncError], None],
    wait: float = 0.0,
) -> int:
    """Sync at each change until `stop` is set; `report` gets each sync that wrote or needs a
    person, and each error. Returns how many syncs ran."""
    with slurm.remembered():  # sacct asked at most every few minutes, not at every change
        return _watch(project, interval, stop, report, wait)


def _watch(
    project: Project,
    interval: float,
    stop: threading.Event,
    report: Callable[[Unattended | SheetsyncError], None],
    wait: float,
) -> int:
    last: Stamp | None = None
    synced = 0
    while not stop.is_set():
        now = runs_stamp(project)
        if now is None or now != last:
            try:
                done = unattended_sync(replace(project), wait)  # the layout read anew
            except SheetsyncError as exc:  # busy, or the sheet unreachable: next tick again
                report(exc)
            else:
                synced += 1
                last = now  # stamped before the sync: a change during it syncs again
                if done.result.applied or done.attention:
                    report(done)
        deadline = time.monotonic() + interval
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.1, interval))
    return synced
