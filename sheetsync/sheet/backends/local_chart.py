"""The Review tab's chart in a local workbook: a DrawingML scatter chart (ECMA-376 Part 1,
§21.2: `c:scatterChart` with one `c:ser` per column of the data block, `c:xVal`/`c:yVal`
cell references, two `c:valAx`) reading its data from the tab, put in by the patcher."""

from __future__ import annotations

from xml.sax.saxutils import escape

from sheetsync.sheet.backends.xlsx.chart import A_NS, C_NS, HEAD
from sheetsync.sheet.chart_plan import ChartPlan
from sheetsync.sheet.grid import column_letter

COLOURS = ("1F77B4", "D62728", "2CA02C", "9467BD", "FF7F0E", "8C564B", "E377C2", "17BECF")
X_AXIS, Y_AXIS = 500100, 500200


def _ref(tab: str, col: int, r0: int, r1: int | None = None) -> str:
    quoted = "'" + tab.replace("'", "''") + "'"
    cell = f"${column_letter(col)}${r0}"
    if r1 is None:
        return f"{quoted}!{cell}"
    return f"{quoted}!{cell}:${column_letter(col)}${r1}"


def _rich(text: str, size: int) -> str:
    return (
        f'<c:tx><c:rich><a:bodyPr/><a:p><a:pPr><a:defRPr sz="{size}" b="0"/></a:pPr>'
        f'<a:r><a:rPr lang="en-US" sz="{size}" b="0"/><a:t>{escape(text)}</a:t></a:r>'
        "</a:p></c:rich></c:tx>"
    )


def _axis(
    ax: int, cross: int, pos: str, title: str, fmt: str, grid: bool, bounds: tuple[float, float]
) -> str:
    return (
        f'<c:valAx><c:axId val="{ax}"/><c:scaling><c:orientation val="minMax"/>'
        f'<c:max val="{bounds[1]:g}"/><c:min val="{bounds[0]:g}"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{pos}"/>'
        + ("<c:majorGridlines/>" if grid else "")
        + f'<c:title>{_rich(title, 1000)}<c:overlay val="0"/></c:title>'
        f'<c:numFmt formatCode="{escape(fmt, {chr(34): "&quot;"})}" sourceLinked="0"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/>'
        f'<c:tickLblPos val="low"/><c:crossAx val="{cross}"/><c:crosses val="autoZero"/>'
        '<c:crossBetween val="midCat"/></c:valAx>'
    )


def chart_xml(tab: str, plan: ChartPlan) -> bytes:
    """The chart part: per method a line with circle markers (its gains) and dash markers at
    its 90% interval's ends (legend entries for those hidden); blanks are gaps."""
    series, hidden = [], []
    for i, s in enumerate(plan.series):
        colour = COLOURS[s.method % len(COLOURS)]
        fill = f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'
        if s.kind == "gain":
            line = f'<c:spPr><a:ln w="22225">{fill}</a:ln></c:spPr>'
            marker = (
                '<c:marker><c:symbol val="circle"/><c:size val="7"/>'
                f"<c:spPr>{fill}</c:spPr></c:marker>"
            )
        else:
            hidden.append(i)
            line = "<c:spPr><a:ln><a:noFill/></a:ln></c:spPr>"
            marker = (
                f'<c:marker><c:symbol val="dash"/><c:size val="9"/>'
                f"<c:spPr>{fill}<a:ln>{fill}</a:ln></c:spPr></c:marker>"
            )
        series.append(
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
            f"<c:tx><c:strRef><c:f>{escape(_ref(tab, s.col, plan.header_row))}</c:f>"
            "</c:strRef></c:tx>"
            f"{line}{marker}"
            f"<c:xVal><c:numRef><c:f>{escape(_ref(tab, plan.x_col, plan.first_row, plan.last_row))}"
            "</c:f></c:numRef></c:xVal>"
            f"<c:yVal><c:numRef><c:f>{escape(_ref(tab, s.col, plan.first_row, plan.last_row))}"
            '</c:f></c:numRef></c:yVal><c:smooth val="0"/></c:ser>'
        )
    legend = "".join(
        f'<c:legendEntry><c:idx val="{i}"/><c:delete val="1"/></c:legendEntry>' for i in hidden
    )
    body = (
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<c:roundedCorners val="0"/><c:chart>'
        f'<c:title>{_rich(plan.title, 1200)}<c:overlay val="0"/></c:title>'
        '<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        '<c:scatterChart><c:scatterStyle val="lineMarker"/><c:varyColors val="0"/>'
        + "".join(series)
        + f'<c:axId val="{X_AXIS}"/><c:axId val="{Y_AXIS}"/></c:scatterChart>'
        + _axis(X_AXIS, Y_AXIS, "b", "log10 compute (FLOPs)", "0.0", False, plan.x_range)
        + _axis(Y_AXIS, X_AXIS, "l", "gain (x)", '0.00"x"', True, plan.y_range)
        + "</c:plotArea>"
        f'<c:legend><c:legendPos val="b"/>{legend}<c:overlay val="0"/></c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    )
    return HEAD + body.encode()


def anchor(plan: ChartPlan) -> tuple[int, int, int, int]:
    """The cells the chart covers, as DrawingML counts them: (col0, row0, col1, row1), 0-based,
    the `to` cell the first one past the chart."""
    r0, c0, r1, c1 = plan.anchor
    return c0 - 1, r0 - 1, c1, r1
