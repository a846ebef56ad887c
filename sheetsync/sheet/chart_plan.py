"""A chart as the Review tab plans it, for any backend to draw: where its data sits in the
tab and where the chart goes. Plain data, importing nothing of sheetsync."""

from __future__ import annotations

from dataclasses import dataclass

CHART_TOP = 3  # the chart sits under the title, over the first columns ...
CHART_ROWS = 22  # ... and this many rows are left empty for it
CHART_COLS = 4
# columns (in characters) wide enough for each table's cells; the last cell of a row is the
# long one, and runs on into the empty cells at its right
WIDTHS = (44, 28, 16, 10, 12, 24, 38, 36, 48, 60)


@dataclass(frozen=True)
class Series:
    """One series of the chart: a column of the data block."""

    name: str
    col: int
    method: int  # which method (its colour)
    kind: str  # gain | low | high


@dataclass(frozen=True)
class ChartPlan:
    """Where the chart's data sits in the tab (1-based), and where the chart goes."""

    title: str
    header_row: int
    first_row: int
    last_row: int
    x_col: int
    series: tuple[Series, ...]
    x_range: tuple[float, float]  # the axes' bounds: log10 compute, and gain
    y_range: tuple[float, float]
    anchor: tuple[int, int, int, int] = (CHART_TOP, 1, CHART_TOP + CHART_ROWS - 1, CHART_COLS)
    """The cells it covers: first row, first column, last row, last column (1-based)."""
