"""The Google Sheet formatted for the review meeting, as one spreadsheets.batchUpdate:
frozen header and run column, header style, widths, number formats, status validation,
gain colours, greyed unfinished/stale rows, warning-only protection and a note per owned
header. Only what is missing is requested, so re-running it sends nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sheetsync.sheet.backends.google_api import column_width
from sheetsync.sheet.colours import gain_rules, obsolete, stale_rule
from sheetsync.sheet.grid import column_letter

if TYPE_CHECKING:
    from sheetsync.layout import Layout, Table

# Each number ends in a space, so it never touches the next cell's text (see local_format).
NUMBER_FORMATS = {
    "loss": ("NUMBER", '0.0000" "'),
    "flops": ("SCIENTIFIC", '0.00E+00" "'),
    "fraction": ("PERCENT", '0%" "'),
    "score": ("NUMBER", '0.000" "'),
    "gain": ("NUMBER", '0.00"x "'),
    "int": ("NUMBER", '#,##0" "'),
    "number": ("NUMBER", '0.0000" "'),
}
GREEN = {"red": 0.78, "green": 0.94, "blue": 0.81}
RED = {"red": 1.0, "green": 0.78, "blue": 0.81}
GREY = {"red": 0.9, "green": 0.9, "blue": 0.9}
AMBER = {"red": 1.0, "green": 0.9, "blue": 0.6}
HEADER = {"red": 0.87, "green": 0.91, "blue": 0.96}
PROTECTION = "sheetsync owns this column"


def _header(sheet: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    rows = (sheet.get("data") or [{}])[0].get("rowData", [])
    cells = rows[0].get("values", []) if rows else []
    values = [next(iter(c.get("effectiveValue", {}).values()), None) for c in cells]
    return values, cells


def _below_header(sid: int, c: int) -> dict[str, Any]:
    """The range of column `c` (0-based) of tab `sid` below its header, to the last row."""
    return {"sheetId": sid, "startRowIndex": 1, "startColumnIndex": c, "endColumnIndex": c + 1}


def _below_header_format(sid: int, c: int, name: str, value: Any) -> dict[str, Any]:
    """A repeatCell setting one format (`name`, e.g. wrapStrategy) of column `c` below the
    header, leaving its other formats as they are."""
    return {
        "repeatCell": {
            "range": _below_header(sid, c),
            "cell": {"userEnteredFormat": {name: value}},
            "fields": f"userEnteredFormat.{name}",
        }
    }


def format_requests(meta: dict[str, Any], layout: Layout) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    sheets = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
    for table in layout.tables():
        if table.tab in sheets:
            out += _tab(sheets[table.tab], table)
    return out


def _tab(sheet: dict[str, Any], table: Table) -> list[dict[str, Any]]:
    props = sheet["properties"]
    sid = props["sheetId"]
    grid = props.get("gridProperties", {})
    values, cells = _header(sheet)
    pos = {str(v).strip().casefold(): i for i, v in enumerate(values) if v not in (None, "")}
    cols = {c.key: pos[c.header.casefold()] for c in table.columns if c.header.casefold() in pos}
    reqs: list[dict[str, Any]] = []
    frozen_cols = 1 if table.kind == "runs" and cols.get("run") == 0 else 0
    if grid.get("frozenRowCount", 0) != 1 or grid.get("frozenColumnCount", 0) != frozen_cols:
        reqs.append(
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": sid,
                        "gridProperties": {"frozenRowCount": 1, "frozenColumnCount": frozen_cols},
                    },
                    "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount",
                }
            }
        )
    first = cells[0] if cells else {}
    styled = first.get("userEnteredFormat", {}).get("textFormat", {}).get("bold")
    if not styled:
        reqs.append(
            {
                "repeatCell": {
                    "range": {"sheetId": sid, "startRowIndex": 0, "endRowIndex": 1},
                    "cell": {
                        "userEnteredFormat": {
                            "backgroundColor": HEADER,
                            "textFormat": {"bold": True},
                        }
                    },
                    "fields": "userEnteredFormat(backgroundColor,textFormat)",
                }
            }
        )
        for col in table.columns:
            if col.key not in cols:
                continue
            c = cols[col.key]
            width = 320 if col.key in ("question", "changes", "conclusion", "notes") else 130
            reqs.append(column_width(sid, c, width))
            if table.kind == "runs" and col.key == "question":  # rows grow to fit
                reqs.append(_below_header_format(sid, c, "wrapStrategy", "WRAP"))
            if col.owned and col.type in NUMBER_FORMATS:
                kind, pattern = NUMBER_FORMATS[col.type]
                number = {"type": kind, "pattern": pattern}
                reqs.append(_below_header_format(sid, c, "numberFormat", number))
        if table.kind == "runs" and "status" in cols:
            s = cols["status"]
            cell = column_letter(s + 1) + "2"
            formula = (
                f'=OR({cell}="",{cell}="finished",{cell}="running",{cell}="launched",'
                f'{cell}="queued",LEFT({cell},10)="unfinished",LEFT({cell},8)="stalled:",'
                f'LEFT({cell},8)="diverged",LEFT({cell},6)="error:")'
            )
            reqs.append(
                {
                    "setDataValidation": {
                        "range": _below_header(sid, s),
                        "rule": {
                            "condition": {
                                "type": "CUSTOM_FORMULA",
                                "values": [{"userEnteredValue": formula}],
                            },
                            "inputMessage": (
                                "finished, running, launched, queued, stalled: since when, "
                                "or unfinished: why"
                            ),
                            "strict": False,
                            "showCustomUi": False,
                        },
                    }
                }
            )
    for col in table.columns:
        if col.key in cols and col.owned and col.meaning:
            c = cols[col.key]
            note = f"{col.meaning} (written by sheetsync: {col.owner})"
            if (cells[c] if c < len(cells) else {}).get("note") != note:
                reqs.append(
                    {
                        "updateCells": {
                            "start": {"sheetId": sid, "rowIndex": 0, "columnIndex": c},
                            "rows": [{"values": [{"note": note}]}],
                            "fields": "note",
                        }
                    }
                )
    protected = {p.get("description") for p in sheet.get("protectedRanges", [])}
    for col in table.columns:
        if col.key in cols and col.owned:
            desc = f"{PROTECTION}: {col.header}"
            if desc not in protected:
                c = cols[col.key]
                reqs.append(
                    {
                        "addProtectedRange": {
                            "protectedRange": {
                                "range": _below_header(sid, c),
                                "description": desc,
                                "warningOnly": True,
                            }
                        }
                    }
                )
    if table.kind == "runs":
        reqs += _rules(sheet, sid, cols)
    return reqs


def _rules(sheet: dict[str, Any], sid: int, cols: dict[str, int]) -> list[dict[str, Any]]:
    """Conditional formats to add (and the obsolete ones of earlier versions to delete)."""
    rules = sheet.get("conditionalFormats", [])
    existing = [r.get("booleanRule", {}).get("condition") for r in rules]
    out: list[dict[str, Any]] = []
    for index in range(len(rules) - 1, -1, -1):  # highest first: indexes shift on delete
        condition = rules[index].get("booleanRule", {}).get("condition") or {}
        formula = ((condition.get("values") or [{}])[0]).get("userEnteredValue", "")
        sign_only = condition.get("type") in ("NUMBER_GREATER", "NUMBER_LESS") and formula == "1"
        if sign_only or obsolete(formula):
            out.append({"deleteConditionalFormatRule": {"sheetId": sid, "index": index}})

    def custom(formula: str) -> dict[str, Any]:
        return {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=" + formula}]}

    wanted = []
    for key, interval in (("gain", "gain_interval"), ("gain_anchored", "gain_anchored_interval")):
        if key not in cols or interval not in cols:
            continue
        better, worse = gain_rules(column_letter(cols[key] + 1), column_letter(cols[interval] + 1))
        wanted.append((_below_header(sid, cols[key]), custom(better), GREEN))
        wanted.append((_below_header(sid, cols[key]), custom(worse), RED))
    if "status" in cols:
        s = column_letter(cols["status"] + 1)
        whole = {"sheetId": sid, "startRowIndex": 1}
        wanted.append((whole, custom(f'AND(${s}2<>"",LEFT(${s}2,8)<>"finished")'), GREY))
    if "checks" in cols:
        stale = custom(stale_rule(column_letter(cols["checks"] + 1)))
        for key in ("baseline", "baseline_date"):
            if key in cols:
                wanted.append((_below_header(sid, cols[key]), stale, AMBER))
    for rng, condition, colour in wanted:
        if condition not in existing:
            out.append(
                {
                    "addConditionalFormatRule": {
                        "index": 0,
                        "rule": {
                            "ranges": [rng],
                            "booleanRule": {
                                "condition": condition,
                                "format": {"backgroundColor": colour},
                            },
                        },
                    }
                }
            )
    return out
