"""Which cells a patch would refuse (merged, inside an array formula, a table's header, locked
on a protected sheet), asked while planning so a refused cell becomes a reported conflict."""

from __future__ import annotations

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.cellxml import Styles
from sheetsync.sheet.backends.xlsx.package import Package
from sheetsync.sheet.backends.xlsx.patch import SheetPatch
from sheetsync.sheet.backends.xlsx.worksheet import Worksheet


class Guard:
    """Answers `reason(tab, row, col)` for the workbook `data`; it reads a tab's XML only
    when first asked about that tab, so a sync that writes nothing pays nothing."""

    def __init__(self, data: bytes, header_rows: int = 1):
        self.data = data
        self.header_rows = header_rows
        self._package: Package | None = None
        self._styles: Styles | None = None
        self._sheets: dict[str, SheetPatch | None] = {}

    def reason(self, tab: str, row: int, col: int) -> str | None:
        """Why the cell may not be written, or None (also when the patcher cannot read the
        file: writing then falls back, or fails with its own message)."""
        if tab not in self._sheets:
            self._sheets[tab] = self._open(tab)
        patch = self._sheets[tab]
        return patch.refusal(row, col) if patch is not None else None

    def _open(self, tab: str) -> SheetPatch | None:
        try:
            if self._package is None:
                self._package = Package.open(self.data)
            package = self._package
            ref = next((s for s in package.worksheets() if s.name == tab), None)
            if ref is None:
                return None
            ws = Worksheet(ref.part, package.archive.read(ref.part))
            if ws.protected() and self._styles is None:
                self._styles = Styles.read(package)
            return SheetPatch(package, ref, ws, self.header_rows, self._styles)
        except Unpatchable:
            return None
