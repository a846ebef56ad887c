"""Sheet backends: the local workbook (default) and Google Sheets, behind one protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sheetsync.sheet.backends.base import Backend
from sheetsync.sheet.grid import CellWrite, Grid, Snapshot
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from sheetsync.project import Project

__all__ = ["Backend", "CellWrite", "Grid", "Snapshot", "Value", "open_backend"]


def open_backend(project: Project, force: bool = False) -> Backend:
    """The backend the project's `sheet:` names. `force`: write to a local workbook even
    while an office program has it open."""
    from pathlib import Path

    if project.sheet_kind == "local":
        from sheetsync.sheet.backends.local import LocalBackend

        return LocalBackend(Path(project.sheet_target), force=force)
    from sheetsync.sheet.backends.google import GoogleBackend

    return GoogleBackend(
        project.sheet_target,
        project.credentials,
        timeout=project.timeout,
        header_cache=project.root / ".sheetsync" / "google-headers.json",
        state_tab=project.layout().state_tab,
    )
