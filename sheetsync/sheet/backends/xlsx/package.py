"""The package around the sheets: relationships, which part holds which sheet, defined names,
and the two workbook-level edits a patch makes (recalculate on load, drop the calc chain)."""

from __future__ import annotations

import posixpath
import re
import struct
from dataclasses import dataclass
from xml.etree import ElementTree

from sheetsync.sheet.backends.xlsx.a1 import Unpatchable
from sheetsync.sheet.backends.xlsx.container import Archive

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass(frozen=True)
class SheetRef:
    name: str
    part: str
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet
    index: int


def parse_xml(data: bytes, part: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise Unpatchable(f"{part} is not well-formed XML ({exc})") from None


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def part_relations(archive: Archive, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type suffix, target part) for one part (empty if it has no rels)."""
    path = rels_path(part)
    if path not in archive:
        return {}
    out = {}
    for rel in parse_xml(archive.read(path), path).iter(f"{{{REL_NS}}}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], resolved)
    return out


@dataclass
class Package:
    archive: Archive
    workbook_part: str
    workbook_xml: bytes
    sheets: list[SheetRef]
    relations: dict[str, tuple[str, str]]

    @classmethod
    def open(cls, data: bytes) -> Package:
        try:
            archive = Archive(data)
        except (struct.error, UnicodeDecodeError):
            raise Unpatchable("a damaged zip archive") from None
        if "[Content_Types].xml" not in archive:
            raise Unpatchable("the part [Content_Types].xml is missing")
        roots = [t for kind, t in part_relations(archive, "").values() if kind == "officeDocument"]
        if not roots:
            raise Unpatchable("the package names no workbook part")
        part = roots[0]
        xml = archive.read(part)
        root = parse_xml(xml, part)
        if root.tag != f"{{{MAIN_NS}}}workbook":
            raise Unpatchable(f"{part} is not a transitional SpreadsheetML workbook")
        if not re.search(rb"<workbook\b[^>]*\sxmlns=\"" + MAIN_NS.encode() + b'"', xml):
            raise Unpatchable(f"{part} uses a prefixed SpreadsheetML namespace")
        relations = part_relations(archive, part)
        sheets = []
        for index, el in enumerate(root.iter(f"{{{MAIN_NS}}}sheet")):
            rid = el.get(f"{{{DOC_REL_NS}}}id", "")
            if rid not in relations:
                raise Unpatchable(f"sheet {el.get('name')!r} points to no part")
            kind, target = relations[rid]
            if target not in archive:
                raise Unpatchable(f"the part {target} of sheet {el.get('name')!r} is missing")
            sheets.append(SheetRef(el.get("name", ""), target, kind, index))
        return cls(archive, part, xml, sheets, relations)

    def sheet(self, name: str) -> SheetRef:
        for s in self.sheets:
            if s.name == name:
                return s
        raise Unpatchable(f"no sheet named {name!r} (create tabs with openpyxl)")

    def worksheets(self) -> list[SheetRef]:
        return [s for s in self.sheets if s.kind == "worksheet"]

    def defined_names(self) -> dict[tuple[str, int | None], str]:
        """(upper-cased name, local sheet index or None) -> formula text."""
        names = {}
        for el in parse_xml(self.workbook_xml, self.workbook_part).iter(
            f"{{{MAIN_NS}}}definedName"
        ):
            local = el.get("localSheetId")
            names[(el.get("name", "").upper(), int(local) if local else None)] = el.text or ""
        return names


def full_calc_on_load(xml: bytes) -> bytes:
    """workbook.xml asking Excel to recalculate every formula when it opens the file."""
    m = re.search(rb"<calcPr\b([^>]*?)(/?)>", xml)
    if m:
        attrs = m.group(1)
        flag = re.search(rb'\sfullCalcOnLoad="([^"]*)"', attrs)
        if flag and flag.group(1) in (b"1", b"true"):
            return xml
        if flag:
            attrs = attrs[: flag.start()] + attrs[flag.end() :]
        tag = b"<calcPr" + attrs + b' fullCalcOnLoad="1"' + m.group(2) + b">"
        return xml[: m.start()] + tag + xml[m.end() :]
    later = re.search(
        rb"<(oleSize|customWorkbookViews|pivotCaches|smartTagPr|smartTagTypes|webPublishing"
        rb"|fileRecoveryPr|webPublishObjects|extLst)\b|</workbook>",
        xml,
    )
    if not later:
        raise Unpatchable("workbook.xml is not closed")
    return xml[: later.start()] + b'<calcPr fullCalcOnLoad="1"/>' + xml[later.start() :]


def without_calc_chain(package: Package, replaced: dict[str, bytes]) -> set[str]:
    """Drop calcChain.xml (its entries may name cells that no longer hold formulas)."""
    chain = [t for kind, t in package.relations.values() if kind == "calcChain"]
    if not chain:
        return set()
    part = chain[0]
    types = package.archive.read("[Content_Types].xml")
    override = re.compile(rb'<Override\b[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>')
    replaced["[Content_Types].xml"] = override.sub(b"", types)
    rels_part = rels_path(package.workbook_part)
    rels = package.archive.read(rels_part)
    relation = re.compile(rb'<Relationship\b[^>]*Type="[^"]*/calcChain"[^>]*/>')
    replaced[rels_part] = relation.sub(b"", rels)
    return {part}
