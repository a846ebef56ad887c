"""How the emulator shows a cell: serial-number dates, number-format patterns, error values.

Dates are numbers counting days since 1899-12-30 (the `dateTimeRenderOption` reference:
"January 1st 1900 at noon would be 2.5"); a cell is a date when its number format's type is
DATE, TIME or DATE_TIME. Error values and their displayed text follow `ErrorValue` in the
discovery document and what the Sheets UI shows (`#DIV/0!` for DIVIDE_BY_ZERO).
Only the patterns sheetsync and the tests use are rendered (0.000, #,##0, 0%, 0.00E+00,
literal "text", yyyy-mm-dd hh:mm:ss, M/d/yyyy); anything else falls back to General.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "TIME", "DATE_TIME")
DEFAULT_PATTERNS = {"DATE": "M/d/yyyy", "TIME": "h:mm:ss am/pm", "DATE_TIME": "M/d/yyyy H:mm:ss"}
ERROR_TEXT = {
    "ERROR": "#ERROR!",
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "Loading...",
}
ERROR_MESSAGE = {"DIVIDE_BY_ZERO": "Function DIVIDE parameter 2 cannot be zero."}
# Spreadsheet defaultFormat as the API reports it (gspread cassettes, spreadsheets.get).
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}


def serial(when: dt.date | dt.datetime) -> float | int:
    """A date or datetime as the serial number Sheets stores."""
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day)
    days = (when - EPOCH).total_seconds() / 86400
    return int(days) if days.is_integer() else days


def from_serial(number: float) -> dt.datetime:
    return EPOCH + dt.timedelta(days=float(number))


def is_date(number_format: dict[str, Any] | None) -> bool:
    return bool(number_format) and number_format.get("type") in DATE_TYPES


def general(value: Any) -> str:
    """A number in the General format (no pattern): integers plain, else up to 10 digits."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if whole and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.10g}"
    return text.replace("e+", "E+").replace("e-", "E-")


def formatted(value: Any, number_format: dict[str, Any] | None) -> str:
    """The text a person sees for a value under `number_format`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not number_format:
        return general(value)
    kind = number_format.get("type")
    pattern = number_format.get("pattern") or DEFAULT_PATTERNS.get(kind, "")
    if kind in DATE_TYPES:
        return _date(from_serial(value), pattern)
    return _number(float(value), pattern) if pattern else general(value)


def _number(value: float, pattern: str) -> str:
    suffix = "".join(re.findall(r'"([^"]*)"', pattern))
    core = re.sub(r'"[^"]*"', "", pattern)
    if "%" in core:
        value *= 100
    decimals = len(core.split(".", 1)[1].split("E")[0].rstrip("%")) if "." in core else 0
    if "E" in core:
        text = f"{value:.{decimals}E}"
        mantissa, exp = text.split("E")
        text = f"{mantissa}E{exp[0]}{int(exp[1:]):02d}"
    elif "," in core:
        text = f"{value:,.{decimals}f}"
    else:
        text = f"{value:.{decimals}f}"
    return text + ("%" if "%" in core else "") + suffix


_DATE_TOKEN = re.compile(r"yyyy|yy|mmmm|mm|m|dd|d|hh|h|HH|H|ss|s|am/pm|.", re.IGNORECASE)


def _date(when: dt.datetime, pattern: str) -> str:
    out, after_hour = [], False
    hour12 = "am/pm" in pattern.lower()
    for tok in _DATE_TOKEN.findall(pattern):
        low = tok.lower()
        if low == "yyyy":
            out.append(f"{when.year:04d}")
        elif low == "yy":
            out.append(f"{when.year % 100:02d}")
        elif low in ("mm", "m"):
            v = when.minute if after_hour else when.month
            out.append(f"{v:02d}" if low == "mm" else str(v))
        elif low in ("dd", "d"):
            out.append(f"{when.day:02d}" if low == "dd" else str(when.day))
        elif low in ("hh", "h"):
            h = (when.hour % 12 or 12) if hour12 else when.hour
            out.append(f"{h:02d}" if low == "hh" else str(h))
            after_hour = True
            continue
        elif low in ("ss", "s"):
            out.append(f"{when.second:02d}" if low == "ss" else str(when.second))
        elif low == "am/pm":
            out.append("AM" if when.hour < 12 else "PM")
        else:
            out.append(tok)
            if tok.isspace() or tok in ":":
                continue
        after_hour = after_hour and low in (":",)
    return "".join(out)
