"""sheetsync: keep a manually curated experiment spreadsheet honest and useful."""

from sheetsync.errors import SheetsyncError

__version__ = "0.1.0"

__all__ = ["SheetsyncError", "__version__"]
