"""The XML of cells sheetsync writes (numbers, booleans, inline text), the values no workbook
can store, and what decides whether a cell may be written: cell styles and table headers."""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from sheetsync.sheet.backends.xlsx.a1 import Rect, cell_name, parse_range
from sheetsync.sheet.backends.xlsx.package import MAIN_NS, Package, parse_xml, part_relations
from sheetsync.sheet.backends.xlsx.worksheet import XmlCell

Value = str | int | float | bool | None
MAX_CELL_TEXT = 32_767  # Excel's limit for one cell

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def refuse_value(value: object) -> str | None:
    if isinstance(value, str):
        if _CONTROL.search(value):
            return "the text holds a control character a workbook cannot store"
        if len(value) > MAX_CELL_TEXT:
            return f"{len(value):,} characters is over a cell's {MAX_CELL_TEXT:,}-character limit"
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a number a workbook can store"
    return None


def _text(value: str) -> bytes:
    # `_x000D_` in text means a character to Excel, so a literal one is escaped as `_x005F_`
    value = _OOXML_ESCAPE.sub(r"_x005F_\1", value)
    body = (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{space}>{body}</t></is>".encode()


def cell_xml(row: int, col: int, style: str | None, value: Value) -> bytes:
    """The XML of one cell holding `value` (an empty styled cell for None)."""
    head = f'<c r="{cell_name(row, col)}"' + (f' s="{style}"' if style else "")
    if value is None:
        return (head + "/>").encode()
    if isinstance(value, bool):
        return f'{head} t="b"><v>{int(value)}</v></c>'.encode()
    if isinstance(value, numbers.Integral):
        return f"{head}><v>{int(value)}</v></c>".encode()
    if isinstance(value, numbers.Real):
        return f"{head}><v>{float(value)!r}</v></c>".encode()
    if isinstance(value, str):
        return f'{head} t="inlineStr">'.encode() + _text(value) + b"</c>"
    raise TypeError(f"cannot write a {type(value).__name__} to a cell")


_CACHED_VALUE = re.compile(rb"<v\b[^>]*?(?:/>|>.*?</v>)", re.DOTALL)


def uncached(cell: XmlCell) -> bytes:
    """A formula cell without its cached value (and that value's type), so the next program
    to open the file computes it."""
    attrs = re.sub(rb'\st="[^"]*"', b"", cell.match.group(2))
    return b"<c" + attrs + b">" + _CACHED_VALUE.sub(b"", cell.inner) + b"</c>"


def widen_spans(attrs: bytes, cols: list[int]) -> bytes:
    """Widen a row's `spans` hint (column ranges it holds cells in) to cover new cells."""
    m = re.search(rb'\sspans="([^"]*)"', attrs)
    if not m or not cols:
        return attrs
    bounds = [int(n) for n in re.findall(rb"\d+", m.group(1))] + cols
    new = f' spans="{min(bounds)}:{max(bounds)}"'.encode()
    return attrs[: m.start()] + new + attrs[m.end() :]


@dataclass
class Styles:
    """Which cell formats (xf indices) are locked when their sheet is protected."""

    locked: list[bool]

    @classmethod
    def read(cls, package: Package) -> Styles:
        target = [t for kind, t in package.relations.values() if kind == "styles"]
        if not target:
            return cls([True])
        root = parse_xml(package.archive.read(target[0]), target[0])
        xfs = root.find(f"{{{MAIN_NS}}}cellXfs")
        locked = []
        for xf in xfs if xfs is not None else []:
            protection = xf.find(f"{{{MAIN_NS}}}protection")
            value = protection.get("locked", "1") if protection is not None else "1"
            locked.append(value not in ("0", "false"))
        return cls(locked or [True])

    def is_locked(self, style: str | None) -> bool:
        i = int(style) if style and style.isdigit() else 0
        return self.locked[i] if i < len(self.locked) else True


def table_headers(package: Package, part: str) -> list[tuple[str, Rect]]:
    """(table name, header row range) of the tables on a worksheet."""
    out = []
    for kind, target in part_relations(package.archive, part).values():
        if kind != "table":
            continue
        root = parse_xml(package.archive.read(target), target)
        if root.get("headerRowCount", "1") == "0" or not root.get("ref"):
            continue
        r1, c1, _, c2 = parse_range(root.get("ref", ""))
        out.append((root.get("displayName") or root.get("name") or "?", (r1, c1, r1, c2)))
    return out
