"""The local workbook backend: the offline default, a file people open by hand and decorate.

Read with python-calamine; written by patching only the cells that change, so every other
part of the file (drawings, charts, rich text, data bars, macros) stays byte for byte. Writes
are atomic (a temp file beside the workbook, then rename), serialised by a lock file, and
refused (StaleSheet) when the file changed on disk after it was read. openpyxl creates tabs,
formats, and writes what the patcher cannot; before it drops anything it says what, and
refuses unless forced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, SheetError, StaleSheet
from sheetsync.sheet.backends.local_save import (
    Signature,
    check_cells,
    guard_losses,
    load_openpyxl,
    save_atomically,
    signature,
    write_openpyxl,
)
from sheetsync.sheet.grid import CellWrite, Grid, Landed, Skip, Snapshot, new_rows
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from openpyxl import Workbook

    from sheetsync.layout import Layout
    from sheetsync.sheet.chart_plan import ChartPlan

LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class _Token:
    signature: Signature | None
    data: bytes | None  # the file's bytes as read: what a write patches


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

    def _bytes(self) -> tuple[Signature | None, bytes | None]:
        sig = signature(self.path)
        if sig is None:
            return None, None
        try:
            return sig, self.path.read_bytes()
        except OSError as exc:
            raise BackendError(f"{self.path}: cannot read the workbook ({exc.strerror})") from None

    def read(self, tabs: Sequence[str], skip: Skip | None = None) -> Snapshot:
        """Every cell of the tabs (reading a column costs next to nothing here: `skip` is
        not needed)."""
        from sheetsync.sheet.backends.xlsx import Guard, read_grids

        sig, data = self._bytes()
        if data is None:
            return Snapshot({}, _Token(None, None))
        if not data.startswith(b"PK"):
            raise BackendError(
                f"{self.path}: cannot open the workbook (not a zip file, as every .xlsx is)"
            )
        try:
            raw = read_grids(data, list(tabs), _plain)
        except Exception as exc:  # calamine and zipfile raise many types for a corrupt file
            raise BackendError(
                f"{self.path}: cannot open the workbook ({type(exc).__name__}: {exc})"
            ) from None
        grids: dict[str, Grid] = raw  # type: ignore[assignment] - values made plain by _plain
        return Snapshot(grids, _Token(sig, data), Guard(data).reason)

    def read_boxes(
        self, snapshot: Snapshot, tab: str, boxes: Sequence[tuple[int, int, int | None, int | None]]
    ) -> list[Grid]:
        grid = snapshot.grid(tab) or []
        return [[line[c0 - 1 : c1] for line in grid[r0 - 1 : r1]] for r0, c0, r1, c1 in boxes]

    def open_elsewhere(self) -> Path | None:
        """The lock file LibreOffice or Excel keeps while the workbook is open in it."""
        for name in (f".~lock.{self.path.name}#", f"~${self.path.name}"):
            lock = self.path.parent / name
            if lock.exists():
                return lock
        return None

    def append_rows(
        self, snapshot: Snapshot, writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
    ) -> Landed:
        """New rows land where planned: the lock held for the whole cycle, and the file's
        signature checked before saving, already keep a second writer out."""
        self.write(snapshot, writes)
        out: Landed = {}
        for (tab, row), cells in new_rows(writes, keys).items():
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
        if not isinstance(token, _Token) or token.signature != signature(self.path):
            raise StaleSheet(f"{self.path} changed on disk since it was read")
        check_cells(writes)
        if token.data is None:
            wb = load_openpyxl(self.path, None)
            write_openpyxl(wb, writes)
            save_atomically(self.path, wb.save, token.signature)
            return
        from sheetsync.sheet.backends.xlsx import Unpatchable, patch_bytes

        edits: dict[str, dict[tuple[int, int], Value]] = {}
        for w in writes:
            edits.setdefault(w.tab, {})[(w.row, w.col)] = w.value
        try:
            data, refused = patch_bytes(token.data, edits)
        except Unpatchable as exc:
            self._write_openpyxl(token, writes, f"cannot patch it in place ({exc})")
            return
        if refused:
            more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise SheetError(f"{self.path}: cannot write {refused[0]}{more}; nothing was written")

        def put(tmp: str) -> None:
            Path(tmp).write_bytes(data)

        save_atomically(self.path, put, token.signature)

    def _write_openpyxl(self, token: _Token, writes: Sequence[CellWrite], why: str) -> None:
        self.notices += guard_losses(self.path, token.data, f"sheetsync {why}", self.force)
        wb = load_openpyxl(self.path, token.data)
        write_openpyxl(wb, writes)
        save_atomically(self.path, wb.save, token.signature)

    def _sheet_names(self, data: bytes) -> list[str]:
        from python_calamine import CalamineWorkbook

        try:
            return list(CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names)
        except Exception as exc:  # calamine raises many types for a corrupt file
            raise BackendError(
                f"{self.path}: cannot open the workbook ({type(exc).__name__}: {exc})"
            ) from None

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        sig, data = self._bytes()
        present = self._sheet_names(data) if data is not None else []
        missing = [t for t in tabs if t not in present]
        if not missing:
            return
        if data is not None:
            from sheetsync.sheet.backends.xlsx import Unpatchable, add_tabs

            try:
                patched = add_tabs(data, missing, [t for t in missing if t in hidden])
            except Unpatchable:
                pass  # openpyxl can, naming what it would drop
            else:
                save_atomically(self.path, lambda tmp: Path(tmp).write_bytes(patched), sig)
                return
            why = f"adds the tabs {', '.join(missing)} through openpyxl"
            self.notices += guard_losses(self.path, data, why, self.force)
        wb = load_openpyxl(self.path, data)
        for tab in missing:
            ws = wb.create_sheet(tab)
            if tab in hidden:
                ws.sheet_state = "hidden"
        if data is None and "Sheet" in wb.sheetnames and "Sheet" not in tabs:
            del wb["Sheet"]
        save_atomically(self.path, wb.save, sig)

    def prepare_tab(self, tab: str, widths: Sequence[float], note: str) -> None:
        """A tab sheetsync writes whole gets its columns' widths (`note` is for backends that
        protect it; a workbook's protection would also stop people's own notes there)."""
        from sheetsync.sheet.backends.xlsx import Unpatchable
        from sheetsync.sheet.backends.xlsx.columns import set_widths

        sig, data = self._bytes()
        if data is None:
            return
        try:
            new = set_widths(data, tab, widths)
        except Unpatchable:
            return  # widths are a nicety: the tab reads without them
        if new != data:
            save_atomically(self.path, lambda tmp: Path(tmp).write_bytes(new), sig)

    charts_every_sync = True  # keeping the chart costs no write when it is already right

    def keep_chart(self, tab: str, plan: ChartPlan) -> None:
        """Put the Review tab's chart in by patching (only its chart part once it exists);
        writes nothing when the workbook already holds this chart."""
        from sheetsync.sheet.backends.local_chart import anchor, chart_xml
        from sheetsync.sheet.backends.xlsx import Unpatchable
        from sheetsync.sheet.backends.xlsx.chart import put_chart

        sig, data = self._bytes()
        if data is None:
            return
        try:
            new = put_chart(data, tab, chart_xml(tab, plan), anchor(plan), f"{tab} chart")
        except Unpatchable as exc:
            self.notices.append(f"{self.path}: the {tab} tab's chart was not written ({exc})")
            return
        if new == data:
            return
        if self.open_elsewhere() is not None and not self.force:
            self.notices.append(
                f"{self.path} is open in an office program: the {tab} tab's chart was not "
                "updated (close it and sync again)"
            )
            return
        save_atomically(self.path, lambda tmp: Path(tmp).write_bytes(new), sig)

    def format(self, layout: Layout) -> None:
        from sheetsync.sheet.backends.local_format import apply_format

        sig, data = self._bytes()
        wb: Workbook = load_openpyxl(self.path, data)
        if apply_format(wb, layout):
            if data is not None:
                why = "formats the workbook through openpyxl"
                self.notices += guard_losses(self.path, data, why, self.force)
            save_atomically(self.path, wb.save, sig)
