"""The local workbook backend (openpyxl): the offline default, a file people open by hand.

Writes are atomic (a temp file beside the workbook, then rename), serialised by a lock
file, and refused (StaleSheet) when the file changed on disk after it was read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, SheetError, StaleSheet
from sheetsync.sheet.grid import CellWrite, Grid, Snapshot
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from openpyxl import Workbook

    from sheetsync.layout import Layout

LOCK_TIMEOUT = 120.0
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell


@dataclass(frozen=True)
class _Token:
    signature: tuple[int, int, int] | None
    workbook: Any


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _plain(value: Any) -> Value:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M" if value.second == 0 else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


class LocalBackend:
    """A `.xlsx` workbook on disk."""

    def __init__(self, path: Path, force: bool = False):
        self.path = Path(path)
        self.force = force  # write even while an office program holds the workbook open
        self.notices: list[str] = []

    def describe(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        import fcntl

        lock_path = self.path.parent / f".{self.path.name}.sheetsync.lock"
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the session
        except OSError as exc:
            raise BackendError(
                f"{lock_path}: cannot create the lock file ({exc.strerror})"
            ) from None
        deadline = time.monotonic() + LOCK_TIMEOUT
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise BackendError(
                            f"{self.path}: another sheetsync has held the lock for "
                            f"{LOCK_TIMEOUT:.0f}s; try again when it is done"
                        ) from None
                    time.sleep(0.05)
            # a sheetsync killed while saving leaves its temp file; under the lock it is ours
            for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
            yield
        finally:
            handle.close()

    def _load(self) -> Workbook:
        from openpyxl import Workbook, load_workbook

        if not self.path.exists():
            return Workbook()
        try:
            return load_workbook(self.path, rich_text=False)
        except Exception as exc:  # openpyxl raises many types for a corrupt file
            raise BackendError(
                f"{self.path}: cannot open the workbook ({type(exc).__name__}: {exc})"
            ) from None

    def read(self, tabs: Sequence[str]) -> Snapshot:
        signature = _signature(self.path)
        wb = self._load()
        grids: dict[str, Grid] = {}
        if signature is not None:
            for tab in tabs:
                if tab in wb.sheetnames:
                    ws = wb[tab]
                    grids[tab] = [
                        [_plain(v) for v in row] for row in ws.iter_rows(values_only=True)
                    ]
        return Snapshot(grids, _Token(signature, wb))

    def open_elsewhere(self) -> Path | None:
        """The lock file LibreOffice or Excel keeps while the workbook is open in it."""
        for name in (f".~lock.{self.path.name}#", f"~${self.path.name}"):
            lock = self.path.parent / name
            if lock.exists():
                return lock
        return None

    def append_rows(
        self, snapshot: Snapshot, writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
    ) -> dict[str, dict[tuple[str, ...], int]]:
        """New rows land where planned: the lock held for the whole cycle, and the file's
        signature checked before saving, already keep a second writer out."""
        self.write(snapshot, writes)
        rows: dict[tuple[str, int], dict[int, Value]] = {}
        for w in writes:
            if w.tab in keys and w.row > 1:
                rows.setdefault((w.tab, w.row), {})[w.col] = w.value
        out: dict[str, dict[tuple[str, ...], int]] = {}
        for (tab, row), cells in rows.items():
            key = tuple("" if cells.get(c) is None else str(cells.get(c)) for c in keys[tab])
            out.setdefault(tab, {})[key] = row
        return out

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        if not writes:
            return
        held = self.open_elsewhere()
        if held is not None and not self.force:
            raise BackendError(
                f"{self.path} is open in an office program ({held.name}); close it there "
                "first (its next save would drop this change), or pass --force"
            )
        if held is not None:
            self.notices.append(
                f"{self.path} is open in an office program: save nothing more there, "
                "or that save will replace sheetsync's changes"
            )
        token = snapshot.token
        if not isinstance(token, _Token) or token.signature != _signature(self.path):
            raise StaleSheet(f"{self.path} changed on disk since it was read")
        from openpyxl.utils import get_column_letter

        wb = token.workbook
        self._check(wb, writes)
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
        self._save(wb, token.signature)

    def _check(self, wb: Workbook, writes: Sequence[CellWrite]) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
        from openpyxl.utils import get_column_letter

        for w in writes:
            name = f"{w.tab} tab cell {get_column_letter(w.col)}{w.row}"
            if isinstance(w.value, str) and len(w.value) > MAX_CELL_TEXT:
                raise SheetError(f"{name}: {len(w.value):,} characters is over a cell's limit")
            if isinstance(w.value, str) and ILLEGAL_CHARACTERS_RE.search(w.value):
                raise SheetError(
                    f"{name}: {w.value[:40]!r} holds a control character a workbook cannot "
                    "store; remove it"
                )
            if w.tab in wb.sheetnames and isinstance(wb[w.tab].cell(w.row, w.col), MergedCell):
                raise SheetError(f"{name} is inside merged cells; unmerge them and run again")

    def _save(self, wb: Workbook, signature: tuple[int, int, int] | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        os.close(fd)
        try:
            wb.save(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o777)
            if _signature(self.path) != signature:
                raise StaleSheet(f"{self.path} changed on disk while sheetsync was writing")
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        signature = _signature(self.path)
        wb = self._load()
        new = signature is None
        missing = [t for t in tabs if t not in wb.sheetnames]
        if not missing:
            return
        for tab in missing:
            ws = wb.create_sheet(tab)
            if tab in hidden:
                ws.sheet_state = "hidden"
        if new and "Sheet" in wb.sheetnames and "Sheet" not in tabs:
            del wb["Sheet"]
        self._save(wb, signature)

    def format(self, layout: Layout) -> None:
        from sheetsync.sheet.backends.local_format import apply_format

        signature = _signature(self.path)
        wb = self._load()
        if apply_format(wb, layout):
            self._save(wb, signature)
