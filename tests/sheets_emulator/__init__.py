"""A Google Sheets API v4 emulator for tests, as strict as Google documents itself: an HTTP
server on 127.0.0.1 that the real gspread client talks to (through `redirect_session`, or
sheetsync's own $SHEETSYNC_SHEETS_API), over an in-memory spreadsheet model.

Each behaviour and what it follows ("ref" = the method's page in the Sheets API v4 reference;
"cassette" = a response recorded from the real API in gspread's tests/cassettes):

- Requests are checked against the discovery document google-api-python-client ships
  (sheets.v4.json): unknown routes 404; unknown query parameters, unknown body fields, wrong
  JSON types, bad enum values, two kinds in one `Request` are 400 in the wording of Google's
  JSON parser (cassette test_add_validation: "Invalid value at 'data.values' (...), "X"").
- `fields` masks (field-masks guide): only the selected fields are returned, names are
  checked against the response schema; byte counts are therefore what Google would send.
  Grid data is returned only for includeGridData=true or a mask that selects `data`
  (ref spreadsheets.get: "If a field mask is set, the includeGridData parameter is ignored").
- Grid data (ref CellData, GridData): userEnteredValue, effectiveValue, formattedValue,
  userEnteredFormat and effectiveFormat per cell; a formatted empty cell is present (rows and
  cells run to the last one holding a value, note, format or validation, so a formatted
  column returns every row); rowMetadata and columnMetadata for every row and column asked.
- Values (ref values.get, ValueRange; cassette test_get_all_values): trailing empty rows and
  cells left out, empty cells inside a row as "", the response `range` is the asked range
  clipped to the grid, titles quoted only when needed ('D3'!A1:D1, Sheet1!A1:D4).
- Reads past the grid (values.get, batchGet, batchGetByDataFilter, spreadsheets.get with
  ranges) are refused as the API refuses them: a row or column the range names past the tab's
  size is 400 "Range (Runs!A1:AC1) exceeds grid limits. Max rows: 1000, max columns: 26"
  (pygsheets issues #416 and #124 from values.get; gspread issues #371 and #411; the Sheets API
  reference: GridProperties.rowCount/columnCount are the tab's size, a new tab is 1000 x 26).
  Open ends (`A:Z`, `1:1`, `A2:Z`) stop at the grid's end and are never refused; a tab always
  keeps a row and a column ("You can't delete all the rows on the sheet", GoogleSheetsWrapper
  issue #43); an empty tab's ValueRange has no `values`.
- Dates are serial numbers with a DATE / DATE_TIME number format; values come back per
  valueRenderOption and dateTimeRenderOption (cassette
  test_get_all_values_date_time_render_options: 43831 with SERIAL_NUMBER, "2020-01-01" with
  FORMATTED_STRING). USER_ENTERED "2020-01-01" becomes such a date.
- Error values: a formula's error is `effectiveValue.errorValue` {type, message} with
  formattedValue "#DIV/0!" in grid data, and "#DIV/0!" in values in every render option but
  FORMULA (ref ErrorValue, ValueRenderOption). Formulas are not evaluated: a test says what
  one evaluates to (`Sheet.put(..., formula=)`, `Sheet.put_error`).
- Titles are unique without regard to case: addSheet or a rename to "runs" beside "Runs" is a
  400 (the Sheets UI's rule); A1 references find a tab ignoring case, as formulas do.
- A1 notation (A1-notation guide): `Sheet1` is a whole sheet, `A1:B2` without a sheet is on
  the first visible sheet, so an unquoted `Q3` is a cell, and `'Q3'` the tab.
- Request size: a body over 10 MB is a 400 "Request payload size exceeds the limit:
  10485760 bytes." (the usage-limits page recommends 2 MB; `largest_request` shows it).
- Permissions: a sheet not shared with the caller is 403 "The caller does not have
  permission" (PERMISSION_DENIED; a missing sheet stays 404, cassette
  test_access_non_existing_spreadsheet); a reader may read but not write; an edit inside a
  protected range that is not warningOnly and whose editors exclude the caller is 403 "You
  are trying to edit a protected cell or object..." and the whole batch fails (ref
  ProtectedRange.requestingUserCanEdit; the message as reported by API users).
- Writes past the grid: updateCells from a `start` and appendCells never grow the columns,
  nor updateCells the rows: 400 "Invalid requests[1].updateCells: Attempting to write column:
  26, beyond the last requested column of: 25" (0-based; AMWA-TV/nmos-testing PR #578,
  OpenRefine issue #2760 for appendCells, Thource/dude-wheres-my-stuff issue #428 for rows);
  updateCells with a `range` past the grid and values writes past it are 400 "Range
  (Sheet1!A3:C3) exceeds grid limits..." (socialpoint-labs/sheetfu issue #53; "Invalid
  data[0]: ..." from values.batchUpdate, google/hyou issue #15); values.append grows rows and
  columns (ref InsertDataOption OVERWRITE: "adding data to the end of the sheet will still
  insert new rows or columns"). A spreadsheet keeps one sheet (deleteSheet: "You can't remove
  all the sheets in a document.", google-api-php-client issue #1293) and at most 10,000,000
  cells ("This action would increase the number of cells in the workbook above the limit of
  10000000 cells.", UoaWDCC/uasc-web PR #833).
- batchUpdate is all or nothing (ref batchUpdate: "if any request is not valid, the entire
  request will fail and nothing will be applied"); appendCells lands after the last row with
  data and grows the grid's rows (ref AppendCellsRequest: "inserting new rows into the sheet
  if necessary"); updateCells needs `fields` (reported
  message "At least one field must be listed in 'fields'..."); proto3 JSON leaves out false
  and zero properties (cassettes: no hidden: false, no frozenRowCount: 0).
- Responses are pretty-printed unless prettyPrint=false, and gzipped only when the client
  sends Accept-Encoding: gzip and a User-Agent containing "gzip" (Performance tips).
- Faults (`fail_next`): any status (429 carries no Retry-After unless asked: the usage-limits
  page says to back off exponentially), a dropped connection before or after the request is
  applied, a reply late by `stall` seconds (for read timeouts).
- Charts (ref AddChartRequest, UpdateChartSpecRequest, ChartSourceRange): addChart stores an
  EmbeddedChart (an id generated when none is given; an id in use is a 400), updateChartSpec
  replaces its spec, each source range must be one row or one column; spreadsheets.get
  returns them as `sheets[].charts`. They are stored, never drawn.
- A person's sort, inserted rows and deleted rows (`Sheet.sort_rows`, `insert_rows`,
  `delete_rows`) move whole rows of cells as SortRangeRequest, InsertDimensionRequest and
  DeleteDimensionRequest do (ref Request); a tab keeps at least one row.

Not emulated: formula evaluation, locales other than en_US, filters, drawing charts, named ranges,
merges, insert/delete of rows by the API (a person's, above, are), formats and protected
ranges following moved rows, Drive, OAuth (any bearer token is accepted);
a request kind the discovery document knows but the emulator does not is a 501.

Test helpers: counts by kind (`counts`, `reads()`, `writes()`), `log` of exchanges with bytes
sent and received (`sent`, `received`, `received_wire`, `largest_request`), `fail_next`, and
`on_request` and `before_next` hooks that act as a person editing the sheet between two calls.
"""

from tests.sheets_emulator.model import Sheet, Spreadsheet
from tests.sheets_emulator.server import Emulator, redirect_session

__all__ = ["Emulator", "Sheet", "Spreadsheet", "redirect_session"]
