"""Saving the local workbook: cells checked before anything is written, the atomic replace
(temp file, fsync, rename, only if the file is still the one read), and the openpyxl path
for what the patcher cannot do, which names what it would drop and refuses unless forced."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.errors import BackendError, SheetError, StaleSheet, WouldDrop
from sheetsync.records.atomic import replacing
from sheetsync.sheet.grid import CellWrite, column_letter

if TYPE_CHECKING:
    from openpyxl import Workbook

Signature = tuple[int, int, int]
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
MAX_ROW, MAX_COL = 1_048_576, 16_384  # Excel's last row and column
MACRO_SUFFIXES = (".xlsm", ".xltm")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML 1.0 cannot carry


def signature(path: Path) -> Signature | None:
    """What tells one version of the file from another: mtime, size and inode."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def check_cells(writes: Sequence[CellWrite]) -> None:
    """Refuse, before writing anything, a value no workbook can hold or a cell past its end."""
    for w in writes:
        name = f"{w.tab} tab cell {column_letter(min(w.col, MAX_COL))}{w.row}"
        if w.row > MAX_ROW or w.col > MAX_COL:
            raise SheetError(
                f"{w.tab} tab: row {w.row:,}, column {w.col:,} is past the end of a workbook "
                f"({MAX_ROW:,} rows, {MAX_COL:,} columns); start a new workbook or archive rows"
            )
        if isinstance(w.value, str) and len(w.value) > MAX_CELL_TEXT:
            raise SheetError(f"{name}: {len(w.value):,} characters is over a cell's limit")
        if isinstance(w.value, str) and _CONTROL.search(w.value):
            raise SheetError(
                f"{name}: {w.value[:40]!r} holds a control character a workbook cannot "
                "store; remove it"
            )


def save_atomically(path: Path, write: Callable[[str], None], read_as: Signature | None) -> None:
    """`write(temp path)`, then put it in place of `path` (keeping its permissions) only if
    `path` is still the version read (`read_as`); the caller holds the lock."""

    def unchanged() -> None:
        if signature(path) != read_as:
            raise StaleSheet(f"{path} changed on disk while sheetsync was writing")

    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, unchanged) as tmp:
        write(str(tmp))


def guard_losses(path: Path, data: bytes | None, why: str, force: bool) -> list[str]:
    """Before an openpyxl save: what it would drop. Raises `WouldDrop` naming it unless
    `force`; returns the notice to show when forced (empty when nothing is lost)."""
    from sheetsync.sheet.backends.xlsx import openpyxl_losses

    losses = openpyxl_losses(data) if data else []
    if not losses:
        return []
    dropped = "; ".join(losses)
    if not force:
        raise WouldDrop(
            f"{path}: {why}, which would drop {dropped}. Nothing was written; pass --force "
            "to write anyway and lose them"
        )
    return [f"{path}: {why}; dropped (--force): {dropped}"]


def keeps_macros(path: Path, data: bytes | None) -> bool:
    return path.suffix.lower() in MACRO_SUFFIXES or bool(data and b"vbaProject.bin" in data)


def load_openpyxl(path: Path, data: bytes | None) -> Workbook:
    """The workbook as openpyxl models it (a new one when there is no file): rich text and
    macros kept, so the fallback loses only what openpyxl cannot model."""
    from openpyxl import Workbook, load_workbook

    if data is None:
        return Workbook()
    try:
        return load_workbook(io.BytesIO(data), rich_text=True, keep_vba=keeps_macros(path, data))
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise BackendError(
            f"{path}: cannot open the workbook ({type(exc).__name__}: {exc})"
        ) from None


def write_openpyxl(wb: Workbook, writes: Sequence[CellWrite]) -> None:
    """Put the cells into an openpyxl workbook; merged cells are refused, nothing written."""
    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils import get_column_letter

    for w in writes:
        if w.tab in wb.sheetnames and isinstance(wb[w.tab].cell(w.row, w.col), MergedCell):
            raise SheetError(
                f"{w.tab} tab cell {get_column_letter(w.col)}{w.row} is inside merged cells; "
                "unmerge them and run again"
            )
    for w in writes:
        ws = wb[w.tab] if w.tab in wb.sheetnames else wb.create_sheet(w.tab)
        target = ws.cell(row=w.row, column=w.col)
        target.value = w.value
        if isinstance(w.value, str) and w.value.startswith("="):
            target.data_type = "s"  # text that looks like a formula stays text
        elif isinstance(w.value, int | float) and target.number_format == "General":
            column_format = ws.column_dimensions[get_column_letter(w.col)].number_format
            if column_format != "General":
                target.number_format = column_format
