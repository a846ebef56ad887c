"""spreadsheets.batchUpdate requests, applied to the emulator's model (all or nothing: the
server restores its copy when one request fails).

Semantics follow the reference pages of each request: updateCells writes exactly the cells in
`rows` (a cell without a listed field is cleared), needs a non-empty `fields`; appendCells
lands after the last row with data, growing the grid's rows ("inserting new rows into the
sheet if necessary", AppendCellsRequest) but not its columns; neither writes past the grid
(`Sheet.check_writable`, `Sheet.check_inside` for a `range`); repeatCell formats a whole range;
deleteConditionalFormatRule removes the rule at its index;
addSheet refuses a title that differs from an existing one only in case; deleteSheet refuses
the last sheet; a request that edits a protected range the caller may not edit is refused
with 403 and the whole batch fails; a request that takes the spreadsheet past 10,000,000
cells is a 400 (`MAX_CELLS`); a batch of no requests is a 400 "Must specify at least one
request."; a request naming a sheet id the spreadsheet lacks is a 400 "No grid with id: 0"
(reported from repeatCell and addProtectedRange by API users), "No sheet with id: 0" from
updateSheetProperties (blinkk/rootjs issue #554).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.sheets_emulator import fields as masks
from tests.sheets_emulator.discovery import discovery
from tests.sheets_emulator.model import PROTECTED, ApiError, Layer, Sheet, Spreadsheet

NEEDS_FIELDS = "At least one field must be listed in 'fields'. (Use '*' to indicate all fields.)"
MAX_CELLS = 10_000_000  # "This action would increase the number of cells in the workbook above
# the limit of 10000000 cells." (UoaWDCC/uasc-web PR #833; gspread issue #516 at the old 2M)
TOO_MANY_CELLS = (
    f"This action would increase the number of cells in the workbook above the limit of "
    f"{MAX_CELLS} cells."
)


def _value(data: dict[str, Any]) -> tuple[Any, str | None]:
    entered = data.get("userEnteredValue") or {}
    if "formulaValue" in entered:
        return entered["formulaValue"], entered["formulaValue"]  # formulas are not evaluated
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in entered:
            return entered[key], None
    return None, None


def _box(sheet: Sheet, grid_range: dict[str, Any]) -> tuple[int, int, int, int]:
    r0 = grid_range.get("startRowIndex", 0) + 1
    c0 = grid_range.get("startColumnIndex", 0) + 1
    r1 = grid_range.get("endRowIndex", sheet.rows)
    c1 = grid_range.get("endColumnIndex", sheet.cols)
    return r0, c0, r1, c1


def _cell_mask(text: str) -> masks.Mask:
    if not text:
        raise ApiError(400, NEEDS_FIELDS)
    mask = masks.parse(text)
    discovery().check_mask("CellData", mask)
    return mask


def _guard(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> None:
    if sheet.blocking(r0, c0, r1, c1) is not None:
        raise ApiError(403, PROTECTED)


def _write_cell(sheet: Sheet, r: int, c: int, data: dict[str, Any], mask: masks.Mask) -> None:
    sheet.check_writable(r, c)
    whole = "*" in mask
    cell = sheet.fresh(r, c)
    if whole or "userEnteredValue" in mask:
        value, formula = _value(data)
        cell.value, cell.formula, cell.error = value, formula, None
    if whole or "note" in mask:
        cell.note = data.get("note")
    if whole or "userEnteredFormat" in mask:
        sub = None if whole else mask["userEnteredFormat"]
        fmt = data.get("userEnteredFormat", {})
        if sub is None:
            cell.fmt = copy.deepcopy(fmt)
        else:
            for key in sub:
                if key in fmt:
                    cell.fmt[key] = copy.deepcopy(fmt[key])
                else:
                    cell.fmt.pop(key, None)


def apply_requests(book: Spreadsheet, reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not reqs:  # googleapis/google-api-nodejs-client issue #1001, sheets-api-codelab #16
        raise ApiError(400, "Must specify at least one request.")
    replies: list[dict[str, Any]] = []
    for i, req in enumerate(reqs):
        kind, body = next(iter((k, v) for k, v in req.items() if v is not None))
        try:
            before = book.cells()
            replies.append(_apply(book, kind, body))
            if book.cells() > max(before, MAX_CELLS):
                raise ApiError(400, TOO_MANY_CELLS)
        except ApiError as exc:
            if exc.code == 400 and not exc.message.startswith("Invalid"):
                exc.message = f"Invalid requests[{i}].{kind}: {exc.message}"
            raise
    return replies


def _apply(book: Spreadsheet, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind == "addSheet":
        props = body.get("properties", {})
        grid = props.get("gridProperties", {})
        sheet = book.add_sheet(
            props.get("title") or f"Sheet{len(book.sheets) + 1}",
            grid.get("rowCount", 1000),
            grid.get("columnCount", 26),
            props.get("hidden", False),
            props.get("sheetId"),
        )
        sheet.frozen_rows = grid.get("frozenRowCount", 0)
        sheet.frozen_cols = grid.get("frozenColumnCount", 0)
        return {"addSheet": {"properties": sheet.properties()}}
    if kind == "deleteSheet":
        book.delete_sheet(book.by_id(body.get("sheetId", 0)).title)
        return {}
    if kind == "updateSheetProperties":
        return _sheet_properties(book, body)
    if kind == "appendDimension":
        sheet = book.by_id(body.get("sheetId", 0))
        if body["dimension"] == "ROWS":
            sheet.rows += body["length"]
        else:
            sheet.cols += body["length"]
        return {}
    if kind == "updateCells":
        mask = _cell_mask(body.get("fields", ""))
        rows = body.get("rows", [])
        if "start" in body:
            sheet = book.by_id(body["start"].get("sheetId", 0))
            r0 = body["start"].get("rowIndex", 0) + 1
            c0 = body["start"].get("columnIndex", 0) + 1
            r1 = r0 + len(rows) - 1
            c1 = c0 + max((len(r.get("values", [])) for r in rows), default=0) - 1
        else:
            sheet = book.by_id(body["range"].get("sheetId", 0))
            r0, c0, r1, c1 = _box(sheet, body["range"])
            sheet.check_inside(r0, c0, r1, c1)
        _guard(sheet, r0, c0, r1, c1)
        for dr, row in enumerate(rows):
            for dc, data in enumerate(row.get("values", [])):
                _write_cell(sheet, r0 + dr, c0 + dc, data, mask)
        if "range" in body:  # cells of the range that `rows` leaves out are cleared
            for r, c in list(sheet.cells):
                inside = r0 <= r <= r1 and c0 <= c <= c1
                dr, dc = r - r0, c - c0
                given = dr < len(rows) and dc < len(rows[dr].get("values", []))
                if inside and not given:
                    _write_cell(sheet, r, c, {}, mask)
        return {}
    if kind == "appendCells":
        sheet = book.by_id(body.get("sheetId", 0))
        mask = _cell_mask(body.get("fields", ""))
        rows = body.get("rows", [])
        start = sheet.used()[0] + 1
        width = max((len(r.get("values", [])) for r in rows), default=0)
        _guard(sheet, start, 1, start + len(rows) - 1, max(width, 1))
        sheet.rows = max(sheet.rows, start + len(rows) - 1)
        for dr, row in enumerate(rows):
            for dc, data in enumerate(row.get("values", [])):
                _write_cell(sheet, start + dr, 1 + dc, data, mask)
        return {}
    if kind == "repeatCell":
        sheet = book.by_id(body["range"].get("sheetId", 0))
        r0, c0, r1, c1 = _box(sheet, body["range"])
        mask = _cell_mask(body.get("fields", ""))
        if set(mask) - {"userEnteredFormat"}:
            raise ApiError(501, f"repeatCell of {sorted(mask)} is not emulated")
        _guard(sheet, r0, c0, r1, c1)
        sub = mask["userEnteredFormat"]
        fmt = copy.deepcopy(body.get("cell", {}).get("userEnteredFormat", {}))
        sheet.layers.append(
            Layer(r0, c0, min(r1, sheet.rows), min(c1, sheet.cols), fmt, tuple(sub or ()) or None)
        )
        return {}
    if kind == "updateDimensionProperties":
        rng = body["range"]
        sheet = book.by_id(rng.get("sheetId", 0))
        end = rng.get("endIndex", sheet.cols if rng.get("dimension") == "COLUMNS" else sheet.rows)
        if rng.get("dimension") == "COLUMNS":
            for c in range(rng.get("startIndex", 0), end):
                sheet.widths[c] = body.get("properties", {}).get("pixelSize", 100)
        return {}
    if kind == "setDataValidation":
        sheet = book.by_id(body["range"].get("sheetId", 0))
        r0, c0, r1, c1 = _box(sheet, body["range"])
        sheet.validations.append(
            (r0, c0, min(r1, sheet.rows), min(c1, sheet.cols), copy.deepcopy(body.get("rule")))
        )
        return {}
    if kind == "addConditionalFormatRule":
        rule = copy.deepcopy(body["rule"])
        sheet = book.by_id(rule["ranges"][0].get("sheetId", 0))
        sheet.conditional.insert(body.get("index", len(sheet.conditional)), rule)
        return {}
    if kind == "deleteConditionalFormatRule":
        # DeleteConditionalFormatRuleRequest: the rule at `index` of the sheet's list; an
        # index past the list is a 400, as the reference page's "invalid index" says
        sheet = book.by_id(body.get("sheetId", 0))
        index = body.get("index", 0)
        if not 0 <= index < len(sheet.conditional):
            raise ApiError(400, f"Invalid requests[0].deleteConditionalFormatRule: index {index}")
        sheet.conditional.pop(index)
        return {}
    if kind == "addProtectedRange":
        prot = copy.deepcopy(body["protectedRange"])
        sheet = book.by_id(prot.get("range", {}).get("sheetId", 0))
        prot["protectedRangeId"] = book._new_id()
        prot["requestingUserCanEdit"] = True  # the caller made it, so the caller is an editor
        prot.setdefault("warningOnly", False)
        sheet.protected.append(prot)
        return {"addProtectedRange": {"protectedRange": copy.deepcopy(prot)}}
    if kind == "deleteProtectedRange":
        for sheet in book.sheets:
            for prot in list(sheet.protected):
                if prot["protectedRangeId"] == body.get("protectedRangeId"):
                    sheet.protected.remove(prot)
                    return {}
        raise ApiError(400, f"No protected range with id: {body.get('protectedRangeId')}")
    if kind == "createDeveloperMetadata":
        meta = copy.deepcopy(body["developerMetadata"])
        location = meta.get("location", {})
        meta["metadataId"] = meta.get("metadataId") or book._new_id()
        if location.get("spreadsheet"):
            location["locationType"] = "SPREADSHEET"
            book.metadata.append(meta)
        elif "sheetId" in location:
            location["locationType"] = "SHEET"
            book.by_id(location["sheetId"]).metadata.append(meta)
        else:
            raise ApiError(501, "developer metadata on rows or columns is not emulated")
        return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(meta)}}
    if kind in ("addChart", "updateChartSpec"):
        return _chart(book, kind, body)
    raise ApiError(501, f"{kind} is valid Sheets API but not emulated")


def _chart(book: Spreadsheet, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """AddChartRequest: "The chartId field is optional; if one is not set, an id will be
    randomly generated. (It is an error to specify the ID of an embedded object that already
    exists.)"; the reply is AddChartResponse {chart}. UpdateChartSpecRequest replaces the
    spec of the chart `chartId` ("This does not move or resize a chart"). Each
    ChartSourceRange must be one row or one column ("Exactly one dimension must have a
    length of 1") on a sheet of the spreadsheet. Charts are stored, never drawn."""
    charts = {c["chartId"]: c for sheet in book.sheets for c in sheet.charts}
    if kind == "updateChartSpec":
        chart = charts.get(body.get("chartId"))
        if chart is None:
            raise ApiError(400, f"No chart with id: {body.get('chartId')}")
        _chart_sources(book, body.get("spec") or {})
        chart["spec"] = copy.deepcopy(body.get("spec") or {})
        return {}
    chart = copy.deepcopy(body.get("chart") or {})
    position = chart.get("position") or {}
    if position.get("newSheet"):
        raise ApiError(501, "a chart on a sheet of its own is not emulated")
    overlay = position.get("overlayPosition") or {}
    sid = position.get("sheetId", overlay.get("anchorCell", {}).get("sheetId"))
    if sid is None:
        raise ApiError(400, "Invalid requests[0].addChart: the chart has no position")
    sheet = book.by_id(sid)
    if chart.get("chartId") in charts:
        raise ApiError(400, f"An object with ID {chart['chartId']} already exists.")
    _chart_sources(book, chart.get("spec") or {})
    chart["chartId"] = chart.get("chartId") or book._new_id()
    sheet.charts.append(chart)
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def _chart_sources(book: Spreadsheet, spec: dict[str, Any]) -> None:
    basic = spec.get("basicChart") or {}
    data = [d.get("domain") or {} for d in basic.get("domains", [])]
    data += [s.get("series") or {} for s in basic.get("series", [])]
    for item in data:
        for grid in (item.get("sourceRange") or {}).get("sources", []):
            sheet = book.by_id(grid.get("sheetId", 0))
            r0, c0, r1, c1 = _box(sheet, grid)
            if r1 - r0 != 0 and c1 - c0 != 0:
                raise ApiError(
                    400, "Invalid chart source range: exactly one dimension must have length 1"
                )


def _sheet_properties(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties", {})
    if not any(s.sheet_id == props.get("sheetId", 0) for s in book.sheets):
        # "Invalid requests[0].updateSheetProperties: No sheet with id: 0" (blinkk/rootjs #554)
        raise ApiError(400, f"No sheet with id: {props.get('sheetId', 0)}")
    sheet = book.by_id(props.get("sheetId", 0))
    text = body.get("fields", "")
    if not text:
        raise ApiError(400, NEEDS_FIELDS)
    mask = masks.parse(text)
    discovery().check_mask("SheetProperties", mask)
    paths = set(masks.leaves(mask))
    grid = props.get("gridProperties", {})
    if "title" in paths or "*" in paths:
        title = props.get("title", "")
        others = [s for s in book.sheets if s is not sheet]
        clash = [s for s in others if s.title.casefold() == title.casefold()]
        if clash:
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet.title = title
    if "hidden" in paths or "*" in paths:
        hidden = props.get("hidden", False)
        if hidden and all(s.hidden for s in book.sheets if s is not sheet):
            raise ApiError(400, "You can't hide all the sheets in a document.")
        sheet.hidden = hidden
    whole_grid = "gridProperties" in paths or "*" in paths
    if whole_grid or "gridProperties.frozenRowCount" in paths:
        sheet.frozen_rows = grid.get("frozenRowCount", 0)
    if whole_grid or "gridProperties.frozenColumnCount" in paths:
        sheet.frozen_cols = grid.get("frozenColumnCount", 0)
    if whole_grid or "gridProperties.rowCount" in paths:
        sheet.rows = grid.get("rowCount", sheet.rows)
        sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] <= sheet.rows}
    if whole_grid or "gridProperties.columnCount" in paths:
        sheet.cols = grid.get("columnCount", sheet.cols)
        sheet.cells = {k: v for k, v in sheet.cells.items() if k[1] <= sheet.cols}
    return {}
