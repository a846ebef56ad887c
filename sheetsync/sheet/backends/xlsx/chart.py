"""A chart on a worksheet, written by patching: the chart part (DrawingML chart XML), the
drawing that anchors it, their relationships and content types; every other part of the
file is copied byte for byte. Once the chart exists only its chart part is rewritten, and
only when its XML changes, so a sync that changes nothing writes nothing.

The parts follow ECMA-376 Part 1: a `<drawing r:id>` in the worksheet (after the elements
CT_Worksheet places before it) with a worksheet -> drawing relationship; the drawing's
`xdr:twoCellAnchor` holding a `graphicFrame` whose `c:chart r:id` points, by the drawing's
relationship, to the chart part (§21.2, DrawingML Charts; §20.5, SpreadsheetML Drawing);
`Override`s of the drawing and chart content types.
"""

from __future__ import annotations

import io
import posixpath
import re
from xml.sax.saxutils import quoteattr

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.package import DOC_REL_NS, Package, part_relations, rels_path
from sheetsync.sheet.backends.xlsx.tabs import _before

DRAWING_TYPE = DOC_REL_NS + "/drawing"
CHART_TYPE = DOC_REL_NS + "/chart"
DRAWING_CONTENT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CONTENT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
EMPTY_RELS = (
    HEAD + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b"</Relationships>"
)
# CT_Worksheet's elements that come after <drawing>: it goes before the first of them
AFTER_DRAWING = re.compile(
    rb"<(?:legacyDrawing|legacyDrawingHF|drawingHF|picture|oleObjects|controls|webPublishItems"
    rb"|tableParts|extLst)\b|</worksheet>"
)


def drawing_xml(anchor: tuple[int, int, int, int], name: str) -> bytes:
    """A drawing holding one chart (relationship rId1) over cells (col0, row0, col1, row1),
    0-based as DrawingML counts them."""
    c0, r0, c1, r1 = anchor
    return (
        HEAD
        + (
            f'<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">'
            '<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{c0}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{r0}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{c1}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{r1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
            '<xdr:graphicFrame macro="">'
            f'<xdr:nvGraphicFramePr><xdr:cNvPr id="2" name={quoteattr(name)}/>'
            "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{C_NS}">'
            f'<c:chart xmlns:c="{C_NS}" xmlns:r="{DOC_REL_NS}" r:id="rId1"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/>"
            "</xdr:twoCellAnchor></xdr:wsDr>"
        ).encode()
    )


def _free(archive_names: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in archive_names:
        n += 1
    return pattern.format(n)


def _rel_id(rels_xml: bytes) -> str:
    used = set(re.findall(rb'\bId="([^"]*)"', rels_xml))
    n = 1
    while f"rId{n}".encode() in used:
        n += 1
    return f"rId{n}"


def put_chart(
    data: bytes, sheet: str, chart: bytes, anchor: tuple[int, int, int, int], name: str
) -> bytes:
    """The workbook `data` with `chart` (a chart part's XML) on worksheet `sheet`: the chart
    part of the sheet's drawing replaced when the sheet has one (the same bytes back when it
    already holds `chart`), else a new drawing and chart part. Raises `Unpatchable` for a
    shape this does not handle (a drawing without a chart, a sheet that is not a worksheet)."""
    package = Package.open(data)
    ref = package.sheet(sheet)
    if ref.kind != "worksheet":
        raise Unpatchable(f"sheet {sheet!r} is not a worksheet")
    archive = package.archive
    drawings = [t for kind, t in part_relations(archive, ref.part).values() if kind == "drawing"]
    out = io.BytesIO()
    if drawings:
        charts = [t for kind, t in part_relations(archive, drawings[0]).values() if kind == "chart"]
        if not charts or charts[0] not in archive:
            raise Unpatchable(f"the drawing of {sheet!r} holds no chart sheetsync can keep")
        if archive.read(charts[0]) == chart:
            return data
        archive.write(out, {charts[0]: chart}, set())
        return out.getvalue()
    names = set(archive.by_name)
    drawing_part = _free(names, "xl/drawings/drawing{}.xml")
    chart_part = _free(names, "xl/charts/chart{}.xml")
    sheet_rels = rels_path(ref.part)
    rels_xml = archive.read(sheet_rels) if sheet_rels in archive else EMPTY_RELS
    rid = _rel_id(rels_xml)
    target = posixpath.relpath(drawing_part, posixpath.dirname(ref.part))
    rels_xml = _before(
        rels_xml,
        b"</Relationships>",
        f'<Relationship Id="{rid}" Type="{DRAWING_TYPE}" Target="{target}"/>'.encode(),
        sheet_rels,
    )
    ws = archive.read(ref.part)
    at = AFTER_DRAWING.search(ws, ws.find(b"</sheetData>") if b"</sheetData>" in ws else 0)
    if at is None:
        raise Unpatchable(f"{ref.part} is not closed")
    tag = f'<drawing xmlns:r="{DOC_REL_NS}" r:id="{rid}"/>'.encode()
    ws = ws[: at.start()] + tag + ws[at.start() :]
    chart_target = posixpath.relpath(chart_part, posixpath.dirname(drawing_part))
    drawing_rels = _before(
        EMPTY_RELS,
        b"</Relationships>",
        f'<Relationship Id="rId1" Type="{CHART_TYPE}" Target="{chart_target}"/>'.encode(),
        "drawing rels",
    )
    types = _before(
        archive.read("[Content_Types].xml"),
        b"</Types>",
        (
            f'<Override PartName="/{drawing_part}" ContentType="{DRAWING_CONTENT}"/>'
            f'<Override PartName="/{chart_part}" ContentType="{CHART_CONTENT}"/>'
        ).encode(),
        "[Content_Types].xml",
    )
    replaced = {ref.part: ws, "[Content_Types].xml": types}
    added = {drawing_part: drawing_xml(anchor, name), chart_part: chart}
    added[rels_path(drawing_part)] = drawing_rels
    if sheet_rels in archive:
        replaced[sheet_rels] = rels_xml
    else:
        added[sheet_rels] = rels_xml
    archive.write(out, replaced, set(), added)
    return out.getvalue()
