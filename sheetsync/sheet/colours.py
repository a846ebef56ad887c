"""The colour rules of the sheet, as spreadsheet formulas both backends install (Excel,
LibreOffice and Google Sheets evaluate them alike): a gain is coloured only when its 90%
interval is entirely on one side of 1; a stale baseline marks its own cells."""

from __future__ import annotations


def gain_rules(gain: str, interval: str) -> tuple[str, str]:
    """Conditional-format formulas (row 2, relative rows) that colour a gain only when its 90%
    interval (`low-highx` text) lies entirely above 1 (first) or entirely below 1 (second).
    Empty, text and interval-less gains get no colour; `inf` as a high never reads as < 1."""
    g, i = f"${gain}2", f"${interval}2"
    dash = f'FIND("-",{i})'
    low = f"VALUE(LEFT({i},{dash}-1))"
    high = f'VALUE(MID({i},{dash}+1,FIND("x",{i})-{dash}-1))'
    return (
        f"IFERROR(AND(ISNUMBER({g}),{low}>1),FALSE)",
        f"IFERROR(AND(ISNUMBER({g}),{high}<1),FALSE)",
    )


def stale_rule(checks: str) -> str:
    """Formula (row 2, relative rows) true when the checks cell reports a stale baseline."""
    return f'ISNUMBER(SEARCH("stale baseline",${checks}2))'


def obsolete(formula: str) -> bool:
    """A rule earlier versions installed that hid good results: the whole-row grey of any
    checks cell mentioning `stale`."""
    return formula.lstrip("=").startswith('ISNUMBER(SEARCH("stale",')
