"""spreadsheets.batchUpdate requests, applied to the emulator's model."""

from __future__ import annotations

import copy
from typing import Any

from tests.sheets_emulator.model import ApiError, Cell, Spreadsheet


def _value(data: dict[str, Any]) -> tuple[Any, str | None]:
    entered = data.get("userEnteredValue")
    if not entered:
        return None, None
    if "formulaValue" in entered:
        return entered["formulaValue"], entered["formulaValue"]
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in entered:
            return entered[key], None
    raise ApiError(400, f"Invalid userEnteredValue: {entered}")


def _span(book: Spreadsheet, grid_range: dict[str, Any]):
    sheet = book.by_id(grid_range.get("sheetId", 0))
    r0 = grid_range.get("startRowIndex", 0) + 1
    c0 = grid_range.get("startColumnIndex", 0) + 1
    r1 = grid_range.get("endRowIndex", sheet.rows)
    c1 = grid_range.get("endColumnIndex", sheet.cols)
    return sheet, r0, c0, r1, c1


def apply_requests(book: Spreadsheet, reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    replies: list[dict[str, Any]] = []
    for i, req in enumerate(reqs):
        if len(req) != 1:
            raise ApiError(400, f"Invalid requests[{i}]: exactly one kind per request")
        kind, body = next(iter(req.items()))
        reply: dict[str, Any] = {}
        if kind == "addSheet":
            props = body.get("properties", {})
            grid = props.get("gridProperties", {})
            sheet = book.add_sheet(
                props["title"],
                grid.get("rowCount", 1000),
                grid.get("columnCount", 26),
                props.get("hidden", False),
            )
            reply = {"addSheet": {"properties": sheet.properties()}}
        elif kind == "updateSheetProperties":
            props = body["properties"]
            sheet = book.by_id(props.get("sheetId", 0))
            fields = body.get("fields", "")
            grid = props.get("gridProperties", {})
            if "hidden" in fields:
                sheet.hidden = props.get("hidden", False)
            if "frozenRowCount" in fields:
                sheet.frozen_rows = grid.get("frozenRowCount", 0)
            if "frozenColumnCount" in fields:
                sheet.frozen_cols = grid.get("frozenColumnCount", 0)
            if "title" in fields:
                sheet.title = props["title"]
        elif kind == "appendDimension":
            sheet = book.by_id(body["sheetId"])
            if body["dimension"] == "ROWS":
                sheet.rows += body["length"]
            else:
                sheet.cols += body["length"]
        elif kind == "updateCells":
            fields = body.get("fields", "")
            if "start" in body:
                sheet = book.by_id(body["start"].get("sheetId", 0))
                r0 = body["start"].get("rowIndex", 0) + 1
                c0 = body["start"].get("columnIndex", 0) + 1
            else:
                sheet, r0, c0, _, _ = _span(book, body["range"])
            for dr, row in enumerate(body.get("rows", [])):
                for dc, data in enumerate(row.get("values", [])):
                    r, c = r0 + dr, c0 + dc
                    if "userEnteredValue" in fields:
                        value, formula = _value(data)
                        sheet.put(r, c, value, formula)
                    if "note" in fields:
                        if r > sheet.rows or c > sheet.cols:
                            raise ApiError(400, "note outside the grid")
                        sheet.cells.setdefault((r, c), Cell()).note = data.get("note")
        elif kind == "repeatCell":
            sheet, r0, c0, r1, c1 = _span(book, body["range"])
            fmt = body.get("cell", {}).get("userEnteredFormat", {})
            for r in range(r0, min(r1, sheet.rows) + 1):
                for c in range(c0, min(c1, sheet.cols) + 1):
                    cell = sheet.cells.get((r, c))
                    if cell is None and r > 2:
                        continue  # keep the model small: formats land on cells that exist
                    sheet.cells.setdefault((r, c), Cell()).fmt.update(copy.deepcopy(fmt))
        elif kind == "updateDimensionProperties":
            rng = body["range"]
            sheet = book.by_id(rng["sheetId"])
            for c in range(rng.get("startIndex", 0), rng.get("endIndex", sheet.cols)):
                sheet.widths[c] = body["properties"].get("pixelSize", 100)
        elif kind == "setDataValidation":
            sheet, r0, c0, r1, c1 = _span(book, body["range"])
            sheet.validation[(r0, c0)] = copy.deepcopy(body.get("rule", {}))
        elif kind == "addConditionalFormatRule":
            rule = copy.deepcopy(body["rule"])
            sheet = book.by_id(rule["ranges"][0].get("sheetId", 0))
            sheet.conditional.insert(body.get("index", len(sheet.conditional)), rule)
        elif kind == "addProtectedRange":
            prot = copy.deepcopy(body["protectedRange"])
            sheet = book.by_id(prot["range"].get("sheetId", 0))
            prot["protectedRangeId"] = 1000 + sum(len(s.protected) for s in book.sheets)
            sheet.protected.append(prot)
            reply = {"addProtectedRange": {"protectedRange": prot}}
        else:
            raise ApiError(400, f"Invalid requests[{i}]: unknown request {kind}")
        replies.append(reply)
    return replies
