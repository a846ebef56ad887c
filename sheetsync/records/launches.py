"""What `add` recorded for a run, kept in its folder: the row as it was appended.

If the row is later lost (a save from an office program that had the workbook open, a
deleted row), `sync` notices the folder has a launch record but no row, and
`sheetsync add --restore RUN_DIR` appends the same row again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from sheetsync.errors import RunError
from sheetsync.records.files import MAX_RECORD_BYTES, confine, read_text
from sheetsync.records.plain import loads_json
from sheetsync.vocab import Value

LAUNCH_RECORD = ".sheetsync-launch.json"


def launch_record_text(cells: Mapping[str, Value]) -> bytes:
    """The appended row's cells as the launch record's content (`add` stages it, then renames
    it into place once the row is in the sheet)."""
    return (json.dumps(dict(cells), indent=1, sort_keys=True) + "\n").encode()


def has_launch_record(run_dir: Path) -> bool:
    path = Path(run_dir) / LAUNCH_RECORD
    return path.is_file() and not path.is_symlink()


def read_launch_record(run_dir: Path, within: Sequence[Path] = ()) -> dict[str, Value]:
    """The row `add` appended for this run; a one-line error when there is none, or when it
    is not one (its run must be the folder's own run id)."""
    path = Path(run_dir) / LAUNCH_RECORD
    if not path.is_file():
        raise RunError(f"{path}: no launch record (the run was never added with this version)")
    confine(path, within)
    data = loads_json(
        read_text(path, RunError, MAX_RECORD_BYTES, "a launch record"), str(path), RunError
    )
    ok = isinstance(data, dict) and all(
        isinstance(v, str | int | float | bool) or v is None for v in data.values()
    )
    if not ok or data.get("run") != Path(run_dir).name:
        raise RunError(
            f"{path}: not a launch record of {Path(run_dir).name!r} (expected a mapping of "
            "cells with its run)"
        )
    return data
