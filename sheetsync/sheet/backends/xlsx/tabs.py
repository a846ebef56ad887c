"""New, empty tabs added to a workbook by patching: a worksheet part, its relationship, its
content type and its `<sheet>` entry; every other part of the file is copied byte for byte,
so a person's workbook gains sheetsync's tabs without losing what openpyxl would drop.

The parts follow ECMA-376 Part 1 (SpreadsheetML): a `<sheet name sheetId state r:id>` in the
workbook's `<sheets>`, a worksheet relationship from the workbook part, and an `Override` of
the worksheet content type for the new part. docProps/app.xml's list of titles is left as it
is: Excel and LibreOffice rebuild it on save and do not read it to open a file.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.package import (
    DOC_REL_NS,
    MAIN_NS,
    Package,
    parse_xml,
    rels_path,
)

WORKSHEET_TYPE = DOC_REL_NS + "/worksheet"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="' + MAIN_NS.encode() + b'"><sheetData></sheetData></worksheet>'
)
MAX_TITLE = 31  # Excel's limit on a sheet name
BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def _before(xml: bytes, closing: bytes, insert: bytes, part: str) -> bytes:
    at = xml.rfind(closing)
    if at < 0:
        raise Unpatchable(f"{part} has no {closing.decode()}")
    return xml[:at] + insert + xml[at:]


def add_tabs(data: bytes, tabs: Sequence[str], hidden: Sequence[str] = ()) -> bytes:
    """The workbook `data` with empty tabs `tabs` added after the others (`hidden` ones
    hidden). Raises `Unpatchable` for a shape this does not handle (openpyxl then can)."""
    package = Package.open(data)
    archive = package.archive
    present = {s.name.casefold() for s in package.sheets}
    for tab in tabs:
        if tab.casefold() in present or len(tab) > MAX_TITLE or BAD_TITLE.search(tab):
            raise Unpatchable(f"cannot add a tab named {tab!r}")
    root = parse_xml(package.workbook_xml, package.workbook_part)
    sheet_ids = [int(el.get("sheetId", "0")) for el in root.iter(f"{{{MAIN_NS}}}sheet")]
    if b"</sheets>" not in package.workbook_xml:
        raise Unpatchable(f"{package.workbook_part} has no list of sheets to add to")
    rels = rels_path(package.workbook_part)
    if rels not in archive:
        raise Unpatchable(f"{package.workbook_part} has no relationships part")
    rels_xml = archive.read(rels)
    rel_ids = set(re.findall(rb'\bId="([^"]*)"', rels_xml))
    types = archive.read("[Content_Types].xml")
    folder = posixpath.dirname(package.workbook_part)
    added: dict[str, bytes] = {}
    sheets, relations, overrides = b"", b"", b""
    n, rid = 1, 1
    for i, tab in enumerate(tabs):
        while posixpath.join(folder, f"worksheets/sheet{n}.xml") in archive or (
            posixpath.join(folder, f"worksheets/sheet{n}.xml") in added
        ):
            n += 1
        part = posixpath.join(folder, f"worksheets/sheet{n}.xml")
        while f"rId{rid}".encode() in rel_ids:
            rid += 1
        rel_ids.add(f"rId{rid}".encode())
        added[part] = EMPTY_SHEET
        state = ' state="hidden"' if tab in hidden else ""
        sheets += (
            f'<sheet xmlns:r="{DOC_REL_NS}" name={quoteattr(tab)} '
            f'sheetId="{max(sheet_ids, default=0) + 1 + i}"{state} r:id="rId{rid}"/>'
        ).encode()
        target = posixpath.relpath(part, folder or ".")
        relations += (
            f'<Relationship Id="rId{rid}" Type="{WORKSHEET_TYPE}" Target="{target}"/>'.encode()
        )
        overrides += f'<Override PartName="/{part}" ContentType="{WORKSHEET_CONTENT}"/>'.encode()
    replaced = {
        package.workbook_part: _before(
            package.workbook_xml, b"</sheets>", sheets, package.workbook_part
        ),
        rels: _before(rels_xml, b"</Relationships>", relations, rels),
        "[Content_Types].xml": _before(types, b"</Types>", overrides, "[Content_Types].xml"),
    }
    out = io.BytesIO()
    archive.write(out, replaced, set(), added)
    return out.getvalue()
