"""Sheet backends: the local workbook (default) and Google Sheets, behind one protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sheetsync.backends.base import Backend, CellWrite, Grid, Snapshot, Value

if TYPE_CHECKING:
    from sheetsync.project import Project

__all__ = ["Backend", "CellWrite", "Grid", "Snapshot", "Value", "open_backend"]


def open_backend(project: Project) -> Backend:
    """The backend the project's `sheet:` names."""
    from pathlib import Path

    if project.sheet_kind == "local":
        from sheetsync.backends.local import LocalBackend

        return LocalBackend(Path(project.sheet_target))
    from sheetsync.errors import ConfigError

    raise ConfigError(f"{project.path}: sheet backend {project.sheet_kind!r} is not available")
