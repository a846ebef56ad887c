"""Formatting the local workbook for the review meeting: frozen header and run column,
header style and notes, widths, number formats, and conditional colours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sheetsync.sheet.colours import gain_rules, obsolete, stale_rule
from sheetsync.sheet.grid import is_empty

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from sheetsync.layout import Layout, Table

# Each number ends in a space: a right-aligned number and the left-aligned text of the next
# cell would otherwise touch (`2.59E+19unfinished`, `1.10x1.098-1.100x`).
PAD = '" "'
NUMBER_FORMATS = {
    "loss": "0.0000" + PAD,
    "flops": "0.00E+00" + PAD,
    "fraction": "0%" + PAD,
    "score": "0.000" + PAD,
    "gain": '0.00"x "',
    "int": "#,##0" + PAD,
    "number": "0.0000" + PAD,
}
# Tokens read as 2.00B / 350.00M, never as ### in a narrow column (Excel and LibreOffice).
KEY_FORMATS = {"tokens": '[>=1000000000]0.00,,,"B ";[>=1000000]0.00,,"M ";#,##0" "'}
HEADER_FILL = "DDE7F5"
HEADER_FONT = "Calibri"  # named, so LibreOffice does not fall back to a serif face
GREEN, RED, GREY, AMBER = "C6EFCE", "FFC7CE", "E7E6E6", "FFE699"
COLOURED_ROWS = 100_000  # conditional colours cover this many rows: a range costs nothing
# Wide enough for what sheetsync writes there (a fit's name, an unfinished run's status).
WIDTHS = {
    "run": 20,
    "question": 40,
    "changes": 40,
    "conclusion": 40,
    "notes": 30,
    "note": 30,
    "checks": 40,
    "status": 36,
    "fingerprint": 20,
    "fit": 44,
    "baseline": 20,
    "gain_interval": 30,
    "gain_anchored_interval": 30,
    "params": 40,
    "compute_range": 22,
    "git_commit": 16,
    "launched_by": 14,
    "tokens": 12,
}
# a gain column and the column of its interval: coloured by the same rule
GAIN_PAIRS = (("gain", "gain_interval"), ("gain_anchored", "gain_anchored_interval"))
WRAPPED = ("question",)  # long text that wraps rather than runs under the next columns
LINE_HEIGHT = 15  # points: one line of 11 pt Calibri
PRINT_SCALE = 70  # percent: 9-10 pt text on paper, the Runs tab several pages wide
TYPE_WIDTHS = {"datetime": 17, "date": 13, "flops": 12, "loss": 10, "gain": 9, "score": 10}


def _positions(ws: Worksheet, table: Table) -> dict[str, int]:
    headers = {}
    for cell in ws[1]:
        if not is_empty(cell.value):
            headers.setdefault(str(cell.value).strip().casefold(), cell.column)
    return {
        c.key: headers[c.header.casefold()] for c in table.columns if c.header.casefold() in headers
    }


def _last_used_row(ws: Worksheet) -> int:
    last = 1
    for r, row in enumerate(ws.iter_rows(values_only=True), 1):
        if any(v is not None for v in row):
            last = r
    return last


def apply_format(wb: Workbook, layout: Layout) -> bool:
    """Format every known tab; returns whether anything changed (so re-running saves nothing)."""
    changed = False
    for table in layout.tables():
        if table.tab in wb.sheetnames:
            changed |= _format_tab(wb[table.tab], table, layout)
    return changed


def _format_tab(ws: Worksheet, table: Table, layout: Layout) -> bool:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    pos = _positions(ws, table)
    changed = False
    freeze = "B2" if table.kind == "runs" and pos.get("run") == 1 else "A2"
    if ws.freeze_panes != freeze:
        ws.freeze_panes = freeze
        changed = True
    fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    last = _last_used_row(ws)
    for col in table.columns:
        c = pos.get(col.key)
        if c is None:
            continue
        head = ws.cell(1, c)
        if not head.font.bold or head.font.name != HEADER_FONT:
            head.font = Font(name=HEADER_FONT, bold=True)
            changed = True
        if head.fill.fgColor.rgb != "00" + HEADER_FILL:
            head.fill = fill
            changed = True
        if col.owned and col.meaning:
            text = f"{col.meaning} (written by sheetsync: {col.owner})"
            if head.comment is None or head.comment.text != text:
                head.comment = Comment(text, "sheetsync")
                changed = True
        letter = get_column_letter(c)
        width = max(WIDTHS.get(col.key) or TYPE_WIDTHS.get(col.type) or 10, len(col.header) + 3)
        if ws.column_dimensions[letter].width != width:
            ws.column_dimensions[letter].width = width
            changed = True
        fmt = KEY_FORMATS.get(col.key) or NUMBER_FORMATS.get(col.type)
        dim = ws.column_dimensions[letter]
        if fmt and col.owned and dim.number_format != fmt:
            # The column's own style: the local backend gives it to each number it writes.
            dim.number_format = fmt
            for r in range(2, last + 1):
                target = ws.cell(r, c)
                if isinstance(target.value, int | float):
                    target.number_format = fmt
            changed = True
    if table.kind == "runs":
        changed |= _conditional(ws, pos, COLOURED_ROWS)
        changed |= _wrap(ws, [pos[k] for k in WRAPPED if k in pos], last)
        changed |= _print_runs(ws, pos.get("run"))
    else:
        changed |= _page_setup(ws)
    if ws.auto_filter.ref is None and ws.max_column > 0:
        ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}1"
        changed = True
    return changed


def _conditional(ws: Worksheet, pos: dict[str, int], last: int) -> bool:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter

    def solid(color: str) -> PatternFill:
        return PatternFill("solid", start_color=color, end_color=color)

    changed = _drop_sign_only_gain_rules(ws)
    existing = {
        (tuple(rule.formula or ()), rule.operator)
        for rng in ws.conditional_formatting
        for rule in rng.rules
    }
    wanted = []
    width = get_column_letter(max(ws.max_column, max(pos.values(), default=1)))
    for key, interval in GAIN_PAIRS:
        if key not in pos or interval not in pos:
            continue
        g = get_column_letter(pos[key])
        rng = f"{g}2:{g}{last}"
        better, worse = gain_rules(g, get_column_letter(pos[interval]))
        wanted.append((rng, FormulaRule(formula=[better], fill=solid(GREEN))))
        wanted.append((rng, FormulaRule(formula=[worse], fill=solid(RED))))
    if "status" in pos:
        s = get_column_letter(pos["status"])
        formula = f'AND(${s}2<>"",LEFT(${s}2,8)<>"finished")'
        wanted.append((f"A2:{width}{last}", FormulaRule(formula=[formula], fill=solid(GREY))))
    if "checks" in pos:
        # a stale baseline marks the baseline cells, not the row: the results stay readable
        k = get_column_letter(pos["checks"])
        formula = stale_rule(k)
        for key in ("baseline", "baseline_date"):
            if key in pos:
                b = get_column_letter(pos[key])
                wanted.append(
                    (f"{b}2:{b}{last}", FormulaRule(formula=[formula], fill=solid(AMBER)))
                )
    for rng, rule in wanted:
        if (tuple(rule.formula or ()), rule.operator) not in existing:
            ws.conditional_formatting.add(rng, rule)
            changed = True
    return changed


def _drop_sign_only_gain_rules(ws: Worksheet) -> bool:
    """Remove rules earlier versions added: `> 1` / `< 1` gain colours (they coloured noise)
    and the whole-row grey of a stale baseline (it hid good results)."""
    dropped = False
    for rng in list(ws.conditional_formatting):
        keep = [r for r in rng.rules if not _sign_only(r) and not _stale_row(r)]
        if len(keep) == len(rng.rules):
            continue
        dropped = True
        if keep:
            ws.conditional_formatting._cf_rules[rng] = keep  # openpyxl keeps rules per range here
        else:
            del ws.conditional_formatting._cf_rules[rng]
    return dropped


def _stale_row(rule: object) -> bool:
    formula = list(getattr(rule, "formula", None) or ())
    return bool(formula) and obsolete(str(formula[0]))


def _page_setup(ws: Worksheet) -> bool:
    """Print (or export to PDF) a tab landscape, one page wide, header repeated."""
    if ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage:
        return False
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"
    return True


def _wrap(ws: Worksheet, columns: list[int], last: int) -> bool:
    """Long text (the question) wraps in its cells, each row as tall as its lines (LibreOffice
    does not fit row heights when it opens a workbook, so wrapped lines would overlap the next
    row). Rows added after this keep one line until the next `format`."""
    import textwrap

    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    changed = False
    for r in range(2, last + 1):
        lines = 1
        for c in columns:
            cell = ws.cell(r, c)
            if not isinstance(cell.value, str) or not cell.value:
                continue
            if not cell.alignment.wrap_text:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                changed = True
            width = int(ws.column_dimensions[get_column_letter(c)].width or 10)
            lines = max(lines, len(textwrap.wrap(cell.value, max(width - 2, 8))) or 1)
        height = LINE_HEIGHT * lines if lines > 1 else None
        if ws.row_dimensions[r].height != height:
            ws.row_dimensions[r].height = height
            changed = True
    return changed


def _print_runs(ws: Worksheet, run_col: int | None) -> bool:
    """The Runs tab prints for reading in the room: landscape at 70%, several pages wide
    rather than 30 columns squeezed onto one, the header row and the run column on every
    page."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    titles = f"{get_column_letter(run_col)}:{get_column_letter(run_col)}" if run_col else None
    setup = ws.page_setup
    current = (
        setup.orientation,
        bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
        setup.scale,
        (ws.print_title_rows or "").replace("$", "") or None,
        (ws.print_title_cols or "").replace("$", "") or None,
    )
    wanted = ("landscape", False, PRINT_SCALE, "1:1", titles)
    if current == wanted:
        return False
    setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
    setup.scale = PRINT_SCALE
    setup.fitToWidth = setup.fitToHeight = None
    ws.print_title_rows = "1:1"
    ws.print_title_cols = titles
    return True


def _sign_only(rule: object) -> bool:
    return (
        getattr(rule, "type", None) == "cellIs"
        and getattr(rule, "operator", None) in ("greaterThan", "lessThan")
        and list(getattr(rule, "formula", None) or ()) == ["1"]
    )
