"""Native run folders on local disk (or a mounted share): one folder per run, named by its id."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.errors import RunError
from sheetsync.records.runs import Run
from sheetsync.records.sources import read_or_keep

if TYPE_CHECKING:
    from sheetsync.records.sources import Access


class FolderSource:
    """Runs read where the trainer wrote them: `runs/<run id>/` (see README, "The run folder")."""

    kind = "folder"

    def __init__(self, access: Access) -> None:
        self.access = access

    def describe(self) -> str:
        return str(self.access.home)

    def read_runs(
        self, run_ids: Sequence[str], errors: dict[str, RunError] | None = None
    ) -> tuple[list[Run], list[str]]:
        try:
            present = set(os.listdir(self.access.home))  # one listing, not a stat per run
        except OSError:
            present = set()
        runs, missing = [], []
        for run_id in run_ids:
            folder = self.access.run_dir(run_id)
            nested = "/" in run_id or os.sep in run_id
            if (run_id not in present) if not nested else not folder.exists():
                missing.append(run_id)
                continue
            run = read_or_keep(partial(self.access.read, folder), run_id, errors)
            runs += [run] if run is not None else []
        return runs, missing

    def run_id(self, ref: str | Path) -> str:
        """A run folder of the runs folder, or a bare run id (see `Project.run_folder`)."""
        return self.access.run_folder(ref).name

    def read(self, ref: str | Path) -> Run:
        return self.access.read(self.access.run_folder(ref))

    def folder(self, ref: str | Path) -> Path:
        return self.access.run_folder(ref)

    def refresh(self, run_ids: Sequence[str]) -> None:
        """Nothing to bring in: the folders are read where they are."""
