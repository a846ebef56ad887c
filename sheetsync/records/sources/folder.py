"""Native run folders on local disk (or a mounted share): one folder per run, named by its id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.records.runs import Run

if TYPE_CHECKING:
    from sheetsync.records.sources import Access


class FolderSource:
    """Runs read where the trainer wrote them: `runs/<run id>/` (see README, "The run folder")."""

    kind = "folder"

    def __init__(self, access: Access) -> None:
        self.access = access

    def describe(self) -> str:
        return str(self.access.home)

    def read_runs(self, run_ids: Sequence[str]) -> tuple[list[Run], list[str]]:
        runs, missing = [], []
        for run_id in run_ids:
            folder = self.access.run_dir(run_id)
            if not folder.exists():
                missing.append(run_id)
                continue
            runs.append(self.access.read(folder))
        return runs, missing

    def read(self, ref: str | Path) -> Run:
        return self.access.read(self.access.run_folder(ref))

    def refresh(self, run_ids: Sequence[str]) -> None:
        """Nothing to bring in: the folders are read where they are."""
