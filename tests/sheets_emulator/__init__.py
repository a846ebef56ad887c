"""A small Google Sheets API v4 emulator for tests: an HTTP server on 127.0.0.1 that the real
gspread client talks to (through `redirect_session`), with an in-memory spreadsheet model.

Emulated: spreadsheets.get (properties, sheets with gridProperties, hidden, conditionalFormats,
protectedRanges; grid data with userEnteredValue, effectiveValue, note, userEnteredFormat when
includeGridData=true or `ranges` are given), spreadsheets.batchUpdate (addSheet,
updateSheetProperties, appendDimension, updateCells, repeatCell, updateDimensionProperties,
setDataValidation, addConditionalFormatRule, addProtectedRange; all-or-nothing),
values.get / batchGet (UNFORMATTED_VALUE or FORMATTED_VALUE, ROWS, trailing empty rows and
cells trimmed, empty cells inside a row as ""), values.update / batchUpdate / append / clear /
batchClear (RAW keeps text as text; USER_ENTERED parses numbers and stores `=...` as a
formula), A1 ranges (quoted titles, whole tabs, columns, rows), grid limits (writing past
rowCount/columnCount is a 400), and errors in the API's JSON shape.

Not emulated: formula evaluation (a formula's effective value is its text), number-format
rendering (FORMATTED_VALUE renders numbers with Python's repr), dates as serial numbers,
the `fields` mask (whole objects are returned), developer metadata, filters, charts,
named ranges, Drive, and authentication (any bearer token is accepted).

Test helpers: request counts by kind (`counts`, `requests`), bytes received, faults on demand
(`fail_next`), and `on_request` hooks that act as a person editing the sheet between calls.
"""

from tests.sheets_emulator.model import Sheet, Spreadsheet
from tests.sheets_emulator.server import Emulator, redirect_session

__all__ = ["Emulator", "Sheet", "Spreadsheet", "redirect_session"]
