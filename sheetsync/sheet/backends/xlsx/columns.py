"""Column widths given to a worksheet that has none, by patching: a `<cols>` element (ECMA-376
Part 1, §18.3.1.13: `<col min max width customWidth>`, before `<sheetData>`) spliced into the
worksheet part; every other part of the file is copied byte for byte."""

from __future__ import annotations

import io
from collections.abc import Sequence

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.package import Package


def set_widths(data: bytes, sheet: str, widths: Sequence[float]) -> bytes:
    """The workbook `data` with columns 1.. of `sheet` `widths` characters wide; the same
    bytes back when the sheet already sets its columns' widths (a person's are kept)."""
    package = Package.open(data)
    ref = package.sheet(sheet)
    if ref.kind != "worksheet":
        raise Unpatchable(f"sheet {sheet!r} is not a worksheet")
    xml = package.archive.read(ref.part)
    if b"<cols>" in xml or b"<cols " in xml:
        return data
    at = xml.find(b"<sheetData")
    if at < 0:
        raise Unpatchable(f"{ref.part} has no sheetData")
    cols = b"".join(
        f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'.encode()
        for i, w in enumerate(widths, 1)
    )
    out = io.BytesIO()
    package.archive.write(
        out, {ref.part: xml[:at] + b"<cols>" + cols + b"</cols>" + xml[at:]}, set()
    )
    return out.getvalue()
