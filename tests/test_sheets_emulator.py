"""The emulator answers as Google documents itself (so a test that passes on it says something
about the real API): raw HTTP requests through a plain requests session."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
import requests

from tests.sheets_emulator import Emulator, redirect_session

KEY = "emulator-key"
URL = f"https://sheets.googleapis.com/v4/spreadsheets/{KEY}"


@pytest.fixture
def emu():
    emulator = Emulator()
    book = emulator.create(KEY)
    sheet = book.add_sheet("Sheet1")
    sheet.put(1, 1, "run")
    sheet.put(1, 2, "loss")
    sheet.put(2, 1, "r1")
    sheet.put(2, 2, 2.5)
    yield emulator
    emulator.close()


@pytest.fixture
def http(emu):
    return redirect_session(emu.base)


def batch(http, *reqs):
    return http.post(f"{URL}:batchUpdate", json={"requests": list(reqs)})


def error(response) -> str:
    return response.json()["error"]["message"]


def values(http, *ranges, **params):
    params = {"ranges": list(ranges), **params}
    return http.get(f"{URL}/values:batchGet", params=params).json()["valueRanges"]


def test_unknown_field_wrong_type_and_bad_enum_are_400_in_googles_words(http):
    r = batch(http, {"updateCells": {"start": {"sheetId": 0}, "fields": "*", "colour": 1}})
    assert r.status_code == 400
    assert error(r) == (
        'Invalid JSON payload received. Unknown name "colour" at '
        "'requests[0].update_cells': Cannot find field."
    )
    r = batch(http, {"updateCells": {"start": {"sheetId": 0, "rowIndex": "two"}, "fields": "*"}})
    assert error(r) == (
        "Invalid value at 'requests[0].update_cells.start.row_index' (TYPE_INT32), \"two\""
    )
    r = batch(http, {"appendDimension": {"sheetId": 0, "dimension": "ROW", "length": 1}})
    assert '(type.googleapis.com/google.apps.sheets.v4.Dimension), "ROW"' in error(r)


def test_two_kinds_in_one_request_and_unknown_kind_are_400(http):
    r = batch(http, {"appendDimension": {"sheetId": 0}, "deleteSheet": {"sheetId": 0}})
    assert r.status_code == 400 and "Oneof field 'kind' is already set" in error(r)
    r = batch(http, {"upsertCells": {}})
    assert r.status_code == 400 and 'Unknown name "upsertCells"' in error(r)


def test_unknown_query_parameter_is_400(http):
    r = http.get(f"{URL}/values:batchGet", params={"ranges": "Sheet1", "includeGridData": "true"})
    assert r.status_code == 400 and "Cannot bind query parameter" in error(r)


def test_fields_mask_returns_only_what_was_asked_and_checks_names(http):
    r = http.get(URL, params={"fields": "sheets.properties(title,sheetId)"})
    assert r.json() == {"sheets": [{"properties": {"sheetId": 0, "title": "Sheet1"}}]}
    r = http.get(URL, params={"fields": "sheets.propertiez"})
    assert r.status_code == 400


def test_grid_data_only_when_asked_for(http):
    plain = http.get(URL, params={"ranges": "Sheet1!A1:B2"}).json()
    assert "data" not in plain["sheets"][0]
    asked = http.get(URL, params={"ranges": "Sheet1!A1:B2", "includeGridData": "true"}).json()
    cell = asked["sheets"][0]["data"][0]["rowData"][1]["values"][1]
    assert cell["effectiveValue"] == {"numberValue": 2.5} and cell["formattedValue"] == "2.5"


def test_formatted_empty_cells_are_in_grid_data_but_never_in_values(emu, http):
    sheet = emu.books[KEY].sheet("Sheet1")
    sheet.format_range(1, 1, 1, None, {"textFormat": {"bold": True}})  # the header row
    sheet.format_range(1, 5, None, 5, {"numberFormat": {"type": "NUMBER", "pattern": "0.00"}})
    mask = "sheets.data.rowData.values(effectiveValue,userEnteredFormat)"
    grid = http.get(URL, params={"ranges": "Sheet1", "fields": mask}).json()
    rows = grid["sheets"][0]["data"][0]["rowData"]
    assert len(rows) == 1000 and len(rows[0]["values"]) == 26  # every formatted cell
    assert rows[999]["values"][4] == {
        "userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "0.00"}}
    }
    assert values(http, "Sheet1")[0]["values"] == [["run", "loss"], ["r1", "2.5"]]


def test_values_leave_out_trailing_empties_and_keep_inner_ones(emu, http):
    sheet = emu.books[KEY].sheet("Sheet1")
    sheet.put(4, 3, "far")
    vr = values(http, "Sheet1", valueRenderOption="UNFORMATTED_VALUE")[0]
    assert vr["values"] == [["run", "loss"], ["r1", 2.5], [], ["", "", "far"]]
    assert vr["range"] == "Sheet1!A1:Z1000"


def test_dates_are_serial_numbers_rendered_per_options(emu, http):
    emu.books[KEY].sheet("Sheet1").put(2, 3, dt.date(2020, 1, 1))
    serial = values(http, "Sheet1!C2", valueRenderOption="UNFORMATTED_VALUE")
    text = values(
        http,
        "Sheet1!C2",
        valueRenderOption="UNFORMATTED_VALUE",
        dateTimeRenderOption="FORMATTED_STRING",
    )
    assert serial[0]["values"] == [[43831]] and text[0]["values"] == [["2020-01-01"]]
    r = http.put(
        f"{URL}/values/Sheet1!D2",
        params={"valueInputOption": "USER_ENTERED"},
        json={"values": [["1999-01-02"]]},
    )
    assert r.status_code == 200
    assert values(http, "Sheet1!D2", valueRenderOption="UNFORMATTED_VALUE")[0]["values"] == [
        [36162]
    ]


def test_errors_are_error_values_in_grid_data_and_text_in_values(emu, http):
    emu.books[KEY].sheet("Sheet1").put_error(2, 2, "=1/0")
    for how in ("FORMATTED_VALUE", "UNFORMATTED_VALUE"):
        assert values(http, "Sheet1!B2", valueRenderOption=how)[0]["values"] == [["#DIV/0!"]]
    assert values(http, "Sheet1!B2", valueRenderOption="FORMULA")[0]["values"] == [["=1/0"]]
    mask = "sheets.data.rowData.values(effectiveValue,formattedValue)"
    cell = http.get(URL, params={"ranges": "Sheet1!B2", "fields": mask}).json()
    got = cell["sheets"][0]["data"][0]["rowData"][0]["values"][0]
    assert got["effectiveValue"]["errorValue"]["type"] == "DIVIDE_BY_ZERO"
    assert got["formattedValue"] == "#DIV/0!"


def test_titles_are_unique_ignoring_case(http):
    r = batch(http, {"addSheet": {"properties": {"title": "sheet1"}}})
    assert r.status_code == 400 and 'A sheet with the name "sheet1" already exists' in error(r)


def test_unquoted_title_that_reads_as_a_cell_is_a_cell_of_the_first_sheet(emu, http):
    emu.books[KEY].add_sheet("Q3").put(1, 1, "in the Q3 tab")
    emu.books[KEY].sheet("Sheet1").put(3, 17, "cell Q3 of Sheet1")
    unquoted, quoted = values(http, "Q3", "'Q3'")
    assert unquoted["values"] == [["cell Q3 of Sheet1"]]
    assert quoted["values"] == [["in the Q3 tab"]] and quoted["range"].startswith("'Q3'!")


def test_request_over_10_mb_is_refused(http, emu):
    big = "x" * 50_000
    rows = [{"values": [{"userEnteredValue": {"stringValue": big}}]} for _ in range(220)]
    r = batch(http, {"updateCells": {"start": {"sheetId": 0}, "rows": rows, "fields": "*"}})
    assert r.status_code == 400
    assert error(r) == "Request payload size exceeds the limit: 10485760 bytes."
    assert emu.books[KEY].sheet("Sheet1").get(1, 1) == "run"


def test_permissions_reader_stranger_and_missing_sheet(emu, http):
    book = emu.books[KEY]
    book.access = "reader"
    assert http.get(URL).status_code == 200
    r = batch(http, {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 1}})
    assert r.status_code == 403 and r.json()["error"]["status"] == "PERMISSION_DENIED"
    book.access = "none"
    assert http.get(URL).status_code == 403
    assert http.get(URL.replace(KEY, "nope")).status_code == 404


def test_protected_range_refuses_the_whole_batch_unless_warning_only(emu, http):
    sheet = emu.books[KEY].sheet("Sheet1")
    sheet.protect(2, 2, None, 2, description="a person's loss column")

    def put(row, col, text):
        start = {"sheetId": 0, "rowIndex": row - 1, "columnIndex": col - 1}
        cells = [{"values": [{"userEnteredValue": {"stringValue": text}}]}]
        return {"updateCells": {"start": start, "rows": cells, "fields": "userEnteredValue"}}

    r = batch(http, put(5, 1, "free"), put(3, 2, "protected"))
    assert r.status_code == 403 and "protected cell or object" in error(r)
    assert sheet.get(5, 1) is None  # all or nothing
    sheet.protected[0]["warningOnly"] = True
    assert batch(http, put(3, 2, "warned")).status_code == 200


def test_drop_after_apply_means_the_request_was_applied(emu, http):
    emu.fail_next(None, drop=True, after_apply=True)
    with pytest.raises(requests.ConnectionError):
        batch(http, {"addSheet": {"properties": {"title": "Runs"}}})
    assert [s.title for s in emu.books[KEY].sheets] == ["Sheet1", "Runs"]


def test_429_carries_no_retry_after(emu, http):
    emu.fail_next(429)
    r = http.get(URL)
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_gzip_only_for_a_user_agent_saying_gzip_and_pretty_print_by_default(emu, http):
    http.get(URL)
    pretty = emu.log[-1]
    assert pretty.received == pretty.wire
    http.get(URL, params={"prettyPrint": "false"})
    assert emu.log[-1].received < pretty.received
    http.headers["User-Agent"] = "test (gzip)"
    r = http.get(URL, params={"prettyPrint": "false"}, stream=True)
    raw = r.raw.read(decode_content=False)
    assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(raw)
    assert emu.log[-1].wire == len(raw) < emu.log[-1].received


def test_reads_past_the_grid_are_refused_as_the_api_refuses_them(emu, http):
    """pygsheets #416/#124: values.get of a range past the tab's grid is HTTP 400."""
    r = http.get(f"{URL}/values:batchGet", params={"ranges": ["Sheet1!A1:AC1"]})
    assert r.status_code == 400
    assert error(r) == (
        "Range (Sheet1!A1:AC1) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    for bad in ("Sheet1!A:AC", "Sheet1!A1001:A", "Sheet1!A2:A1001", "Sheet1!AA1"):
        r = http.get(f"{URL}/values:batchGet", params={"ranges": [bad]})
        assert r.status_code == 400, bad
    body = {"dataFilters": [{"a1Range": "Sheet1!A1:AC1"}]}
    r = http.post(f"{URL}/values:batchGetByDataFilter", json=body)
    assert r.status_code == 400
    r = http.get(URL, params={"ranges": ["Sheet1!1:1001"], "fields": "sheets.properties"})
    assert r.status_code == 400
    # open ends stop at the grid's end; the whole grid and its last cell are inside it
    for ok in ("Sheet1!A:Z", "Sheet1!1:1", "Sheet1!A2:Z", "Sheet1", "Sheet1!Z1000", "Sheet1!5:5"):
        r = http.get(f"{URL}/values:batchGet", params={"ranges": [ok]})
        assert r.status_code == 200, ok
    assert values(http, "Sheet1!1:1")[0]["range"] == "Sheet1!A1:Z1"
    emu.books[KEY].add_sheet("Empty", rows=1, cols=1)
    assert values(http, "Empty")[0] == {"range": "Empty!A1:A1", "majorDimension": "ROWS"}
    assert http.get(f"{URL}/values:batchGet", params={"ranges": ["Empty!A1:B1"]}).status_code == 400


def test_writes_past_the_grid_are_refused_in_the_apis_words(emu, http):
    """updateCells from a `start` and appendCells never grow the columns (AMWA-TV/nmos-testing
    PR #578, OpenRefine #2760), nor updateCells the rows (Thource/dude-wheres-my-stuff #428);
    a `range` past the grid and a values write past it name the range (sheetfu #53, hyou #15);
    appendCells and values.append grow the rows, values.append the columns too."""

    def put(row, col, n=1):
        start = {"sheetId": 0, "rowIndex": row - 1, "columnIndex": col - 1}
        cells = [{"values": [{"userEnteredValue": {"numberValue": 1}}] * n}]
        return {"updateCells": {"start": start, "rows": cells, "fields": "userEnteredValue"}}

    sheet = emu.books[KEY].sheet("Sheet1")
    r = batch(http, put(5, 1), put(1, 26, n=2))
    assert r.status_code == 400 and error(r) == (
        "Invalid requests[1].updateCells: Attempting to write column: 26, beyond the last "
        "requested column of: 25"
    )
    assert sheet.get(5, 1) is None  # all or nothing
    r = batch(http, put(1001, 1))
    assert error(r) == (
        "Invalid requests[0].updateCells: Attempting to write row: 1000, beyond the last "
        "requested row of: 999"
    )
    grid_range = {"sheetId": 0, "startRowIndex": 2, "endRowIndex": 3, "endColumnIndex": 27}
    r = batch(http, {"updateCells": {"range": grid_range, "fields": "userEnteredValue"}})
    assert error(r) == (
        "Invalid requests[0].updateCells: Range (Sheet1!A3:AA3) exceeds grid limits. "
        "Max rows: 1000, max columns: 26"
    )
    wide = [{"values": [{"userEnteredValue": {"numberValue": 1}}] * 27}]
    r = batch(http, {"appendCells": {"sheetId": 0, "rows": wide, "fields": "userEnteredValue"}})
    assert error(r) == (
        "Invalid requests[0].appendCells: Attempting to write column: 26, beyond the last "
        "requested column of: 25"
    )
    body = {"valueInputOption": "RAW", "data": [{"range": "Sheet1!AA1", "values": [[1]]}]}
    r = http.post(f"{URL}/values:batchUpdate", json=body)
    assert error(r) == (
        "Invalid data[0]: Range (Sheet1!AA1) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    sheet.put(1000, 1, "last")
    rows = [{"values": [{"userEnteredValue": {"stringValue": "r"}}]}] * 2
    assert batch(http, {"appendCells": {"sheetId": 0, "rows": rows, "fields": "*"}}).ok
    assert (sheet.rows, sheet.cols) == (1002, 26) and sheet.get(1002, 1) == "r"
    r = http.post(
        f"{URL}/values/Sheet1:append",
        params={"valueInputOption": "RAW"},
        json={"values": [[1] * 30]},
    )
    assert r.ok and (sheet.rows, sheet.cols) == (1003, 30) and sheet.get(1003, 30) == 1


def test_a_spreadsheet_keeps_one_sheet_and_ten_million_cells(emu, http):
    """deleteSheet of the last sheet (google-api-php-client #1293), growth past 10,000,000
    cells (the Sheets limit; uasc-web PR #833), a batch of no requests and a sheet id that is
    not there are 400s."""
    r = batch(http, {"deleteSheet": {"sheetId": 0}})
    assert r.status_code == 400 and error(r) == (
        "Invalid requests[0].deleteSheet: You can't remove all the sheets in a document."
    )
    grow = {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 400_000}}
    r = batch(http, grow)
    assert r.status_code == 400 and error(r).endswith(
        "would increase the number of cells in the workbook above the limit of 10000000 cells."
    )
    assert emu.books[KEY].sheet("Sheet1").rows == 1000
    assert batch(http, {"addSheet": {"properties": {"title": "Runs"}}}).ok
    assert batch(http, {"deleteSheet": {"sheetId": 0}}).ok
    r = batch(http)
    assert r.status_code == 400 and error(r) == "Must specify at least one request."
    hide = {"properties": {"sheetId": 0, "hidden": True}, "fields": "hidden"}
    r = batch(http, {"updateSheetProperties": hide})
    assert error(r) == "Invalid requests[0].updateSheetProperties: No sheet with id: 0"


def test_a_persons_sort_insert_and_delete_move_whole_rows(emu, http):
    sheet = emu.books[KEY].sheet("Sheet1")
    sheet.put(3, 1, "r0")
    sheet.put(3, 2, 1.5)
    sheet.put(4, 1, 7)
    sheet.sort_rows(1)  # numbers before text, rows move whole
    assert sheet.grid() == [["run", "loss"], [7, None], ["r0", 1.5], ["r1", 2.5]]
    sheet.insert_rows(2)
    assert sheet.rows == 1001 and sheet.grid()[1:3] == [[None, None], [7, None]]
    sheet.delete_rows(2, 2)
    assert sheet.rows == 999 and sheet.grid() == [["run", "loss"], ["r0", 1.5], ["r1", 2.5]]
    with pytest.raises(Exception, match="You can't delete all the rows on the sheet"):
        sheet.delete_rows(1, 999)
