"""What an openpyxl load + save of a workbook would drop, found in the file itself, so the
fallback can name it before anything is lost (openpyxl 3.1, loaded with rich_text=True and
keep_vba=True: it keeps values, styles, rich text, comments' text, charts, images (with
Pillow), conditional formats, validations, names, hyperlinks, tables, custom properties and
macros; it drops what is listed here)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

# part-name prefixes openpyxl neither reads nor copies, and what a person calls them
_DROPPED_PARTS: list[tuple[str, str]] = [
    ("xl/slicers/", "slicers"),
    ("xl/slicerCaches/", "slicers"),
    ("xl/timelines/", "timelines"),
    ("xl/timelineCaches/", "timelines"),
    ("xl/threadedComments/", "threaded comments (replies)"),
    ("xl/persons/", "threaded comments (replies)"),
    ("xl/embeddings/", "embedded objects"),
    ("xl/activeX/", "ActiveX controls"),
    ("xl/ctrlProps/", "form controls (buttons, check boxes)"),
    ("xl/macrosheets/", "Excel 4 macro sheets"),
    ("xl/dialogsheets/", "dialog sheets"),
    ("customXml/", "custom XML parts"),
    ("customUI/", "a custom ribbon"),
    ("xl/printerSettings/", "printer settings"),
    ("xl/webextensions/", "add-ins (web extensions)"),
    ("xl/model/", "a data model"),
]
_SHAPE = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)\b")
_FORMULA_WITH_VALUE = re.compile(rb"<f\b[^>]*(?:/>|>[^<]*</f>)\s*<v>")
_EXT = {
    b"x14:conditionalFormatting": "data bar and icon set details (Excel 2010 extensions)",
    b"x14:sparklineGroup": "sparklines",
    b"x14:dataValidation": "validation lists that read other tabs",
    b"x14:slicerList": "slicers",
}


def _parts(zf: zipfile.ZipFile, pattern: str) -> list[str]:
    return [n for n in zf.namelist() if re.fullmatch(pattern, n)]


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        return zf.read(name)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return b""


def _shapes(zf: zipfile.ZipFile) -> list[str]:
    count = sum(
        len(_SHAPE.findall(_read(zf, n))) for n in _parts(zf, r"xl/drawings/drawing\d+\.xml")
    )
    return [f"text boxes and shapes ({count})"] if count else []


def _extensions(zf: zipfile.ZipFile) -> list[str]:
    found: list[str] = []
    for name in _parts(zf, r"xl/worksheets/[^/]+\.xml"):
        xml = _read(zf, name)
        at = xml.rfind(b"<extLst")
        if at < 0:
            continue
        tail = xml[at:]
        named = [what for tag, what in _EXT.items() if tag in tail]
        found += named or ["Excel extensions of a tab (extLst)"]
    return sorted(set(found))


def _formula_caches(zf: zipfile.ZipFile) -> list[str]:
    count = sum(
        len(_FORMULA_WITH_VALUE.findall(_read(zf, n)))
        for n in _parts(zf, r"xl/worksheets/[^/]+\.xml")
    )
    if not count:
        return []
    return [
        f"the computed values of {count} formulas (they read as empty in Python until Excel "
        "or LibreOffice recalculates and saves)"
    ]


def _chart_details(zf: zipfile.ZipFile) -> list[str]:
    styled = _parts(zf, r"xl/charts/(?:style|colors)\d+\.xml")
    extended = [n for n in _parts(zf, r"xl/charts/chart\d+\.xml") if b"extLst" in _read(zf, n)]
    return ["chart styles and extensions"] if styled or extended else []


def _images(zf: zipfile.ZipFile) -> list[str]:
    if not _parts(zf, r"xl/media/.+"):
        return []
    try:
        import PIL  # noqa: F401 - openpyxl keeps images only when Pillow is installed
    except ImportError:
        return ["images (install Pillow to keep them)"]
    return []


_CHECKS: list[Callable[[zipfile.ZipFile], list[str]]] = [
    _shapes,
    _extensions,
    _chart_details,
    _images,
    _formula_caches,
]


def openpyxl_losses(data: bytes) -> list[str]:
    """What saving this workbook through openpyxl would drop, each named as a person would
    (empty when nothing is known to be lost)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
    with zf:
        names = zf.namelist()
        found: list[str] = []
        for prefix, what in _DROPPED_PARTS:
            if any(n.startswith(prefix) for n in names) and what not in found:
                found.append(what)
        for check in _CHECKS:
            found += [what for what in check(zf) if what not in found]
    return found
