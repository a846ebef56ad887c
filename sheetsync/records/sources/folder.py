"""Native run folders on local disk (or a mounted share): one folder per run, named by its id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sheetsync.records.runs import Run, read_run


class FolderSource:
    """Runs read where the trainer wrote them: `runs/<run id>/` (see README, "The run folder")."""

    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def read_runs(self, run_ids: Sequence[str]) -> tuple[list[Run], list[str]]:
        runs, missing = [], []
        for run_id in run_ids:
            folder = self.root / run_id
            if not folder.exists():
                missing.append(run_id)
                continue
            runs.append(read_run(folder))
        return runs, missing

    def read(self, ref: str | Path) -> Run:
        return read_run(Path(ref))

    def refresh(self, run_ids: Sequence[str]) -> None:
        """Nothing to bring in: the folders are read where they are."""
