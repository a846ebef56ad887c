"""One sync of a project at a time on a machine: an advisory lock (`fcntl.flock`) on
`.sheetsync/sync.lock`, so a cron sync that overlaps the last one (or `watch`) waits briefly,
then stops with one line instead of both writing at once.

The lock is the kernel's: it goes with the process, so a sync killed mid-way leaves no stale
lock behind. The file holds the holder's pid and start time, for the message only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sheetsync.errors import SheetsyncError
from sheetsync.project import Project

LOCK_FILE = Path(".sheetsync") / "sync.lock"
WAIT_SECONDS = 10.0  # how long a second sync waits for the first before it stops
POLL_SECONDS = 0.1


class Busy(SheetsyncError):
    """Another sync of the project holds the lock: exit code 4 (cron: try again later)."""

    exit_code = 4


def lock_path(project: Project) -> Path:
    return project.root / LOCK_FILE


@contextlib.contextmanager
def sync_lock(project: Project, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the project's sync lock for the block; wait up to `wait` seconds for it, then
    raise `Busy` naming the holder."""
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(
                        f"another sheetsync sync of {project.path} is running "
                        f"({_holder(fd)}); this one stopped after waiting {wait:g} s"
                    ) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"{os.getpid()} {dt.datetime.now().isoformat(timespec='seconds')}\n".encode(), 0
        )
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        pid, since = os.pread(fd, 100, 0).decode().split()
        return f"pid {int(pid)}, since {since}"
    except (OSError, ValueError, UnicodeDecodeError):
        return "holder unknown"
