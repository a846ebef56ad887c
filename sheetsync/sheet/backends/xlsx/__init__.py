"""A workbook read fast and written by patching, so what a person added by hand (drawings,
rich text, data bars, charts, custom properties, macros) survives a sync.

`read_grids` reads cell values with python-calamine. `patch_cells` splices changed cells into
the worksheet XML as bytes and copies every other zip member verbatim, or raises `Unpatchable`
(writing nothing) for a file it cannot prove it handles; `add_tabs` adds empty tabs the same
way; `openpyxl_losses` names what an openpyxl save of it would drop, for the fallback.
"""

from sheetsync.records.atomic import replacing as atomic_replace  # the one atomic writer
from sheetsync.sheet.backends.xlsx.a1 import MAX_COL, MAX_ROW, Refusal, Unpatchable, cell_name
from sheetsync.sheet.backends.xlsx.guard import Guard
from sheetsync.sheet.backends.xlsx.losses import openpyxl_losses
from sheetsync.sheet.backends.xlsx.patch import patch_bytes, patch_cells
from sheetsync.sheet.backends.xlsx.reader import read_grids, read_sheets
from sheetsync.sheet.backends.xlsx.tabs import add_tabs

__all__ = [
    "Guard",
    "MAX_COL",
    "MAX_ROW",
    "Refusal",
    "Unpatchable",
    "add_tabs",
    "atomic_replace",
    "cell_name",
    "openpyxl_losses",
    "patch_bytes",
    "patch_cells",
    "read_grids",
    "read_sheets",
]
