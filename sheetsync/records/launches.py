"""What `add` recorded for a run, kept in its folder: the row as it was appended.

If the row is later lost (a save from an office program that had the workbook open, a
deleted row), `sync` notices the folder has a launch record but no row, and
`sheetsync add --restore RUN_DIR` appends the same row again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from sheetsync.errors import RunError
from sheetsync.vocab import Value

LAUNCH_RECORD = ".sheetsync-launch.json"
MAX_BYTES = 1_000_000


def save_launch_record(run_dir: Path, cells: Mapping[str, Value]) -> None:
    """Write the appended row's cells beside the run's files (temp file, then rename)."""
    path = Path(run_dir) / LAUNCH_RECORD
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(dict(cells), indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def has_launch_record(run_dir: Path) -> bool:
    return (Path(run_dir) / LAUNCH_RECORD).is_file()


def read_launch_record(run_dir: Path) -> dict[str, Value]:
    """The row `add` appended for this run; a one-line error when there is none."""
    path = Path(run_dir) / LAUNCH_RECORD
    if not path.is_file():
        raise RunError(f"{path}: no launch record (the run was never added with this version)")
    if path.stat().st_size > MAX_BYTES:
        raise RunError(f"{path}: launch record over {MAX_BYTES:,} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise RunError(f"{path}: unreadable launch record ({type(exc).__name__})") from None
    ok = isinstance(data, dict) and all(
        isinstance(v, str | int | float | bool) or v is None for v in data.values()
    )
    if not ok or not isinstance(data.get("run"), str):
        raise RunError(f"{path}: not a launch record (expected a mapping of cells with a run)")
    return data
