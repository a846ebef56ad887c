"""Native run folders on local disk (or a mounted share): one folder per run, named by its id."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.records.runs import Run
from sheetsync.records.sources import RunsRead, read_each

if TYPE_CHECKING:
    from sheetsync.records.sources import Access


class FolderSource:
    """Runs read where the trainer wrote them: `runs/<run id>/` (see README, "The run folder")."""

    kind = "folder"

    def __init__(self, access: Access) -> None:
        self.access = access

    def describe(self) -> str:
        return str(self.access.home)

    def read_runs(self, run_ids: Sequence[str], *, keep_broken: bool = False) -> RunsRead:
        try:
            present = set(os.listdir(self.access.home))  # one listing, not a stat per run
        except OSError:
            present = set()

        def reads(run_id: str) -> Callable[[], Run] | None:
            folder = self.access.run_dir(run_id)
            nested = "/" in run_id or os.sep in run_id
            here = (run_id in present) if not nested else folder.exists()
            return partial(self.access.read, folder) if here else None

        return read_each(((rid, reads(rid)) for rid in run_ids), keep_broken)

    def run_id(self, ref: str | Path) -> str:
        """A run folder of the runs folder, or a bare run id (see `Project.run_folder`)."""
        return self.access.run_folder(ref).name

    def read(self, ref: str | Path) -> Run:
        return self.access.read(self.access.run_folder(ref))

    def folder(self, ref: str | Path) -> Path:
        return self.access.run_folder(ref)

    def refresh(self, run_ids: Sequence[str]) -> None:
        """Nothing to bring in: the folders are read where they are."""
