"""A small plot written as SVG text, for the report: compute on a log axis, loss or gain on
the other, points, lines, bands, error bars, run labels placed apart and a legend below.

No plotting library: importing matplotlib alone costs the report most of a second, while the
report's two kinds of picture need only this. Text sizes are estimated (DejaVu Sans is about
0.6 em a character), which is all label placement and the legend need. Every text is
XML-escaped; the picture is shown as an <img>, where an SVG runs no script.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

Floats = Sequence[float]
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
WIDTH, HEIGHT = 770, 462  # the axes' picture, before the legend below it
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 34, 48
EM = 0.6  # a character's width, in font sizes
LEGEND_SIZE = 11
LINE = 1.45  # a text line's height, in font sizes


def colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def text_width(text: str, size: float) -> float:
    return len(text) * size * EM


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class Box:
    """A text's pixels: left, top, right, bottom."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x1 <= other.x0 or other.x1 <= self.x0 or self.y1 <= other.y0 or other.y1 <= self.y0
        )


@dataclass
class Plot:
    """One picture: add what to draw, then `svg()`. x is compute (log axis); y is linear
    (loss) or log (`ylog`: gain, where 2x and 0.5x lie equally far from 1)."""

    title: str
    xlabel: str
    ylabel: str
    ylog: bool = False
    y_format: str = "{:.2f}"
    items: list[tuple[str, tuple]] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, colour, label)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    def _take(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        self.xs += [x for x in xs if x > 0 and math.isfinite(x)]
        self.ys += [y for y in ys if math.isfinite(y) and (y > 0 or not self.ylog)]

    def points(
        self, xs: Floats, ys: Floats, fill: str, label: str = "", marker: str = "circle"
    ) -> None:
        self._take(xs, ys)
        self.items.append(("points", (list(xs), list(ys), fill, marker)))
        if label:
            self.legend.append((marker, fill, label))

    def line(
        self, xs: Floats, ys: Floats, stroke: str, label: str = "", dash: bool = False
    ) -> None:
        self._take(xs, ys)
        self.items.append(("line", (list(xs), list(ys), stroke, dash)))
        if label:
            self.legend.append(("line", stroke, label))

    def band(self, xs: Floats, lows: Floats, highs: Floats, fill: str, label: str = "") -> None:
        self._take(xs, list(lows) + list(highs))
        self.items.append(("band", (list(xs), list(lows), list(highs), fill)))
        if label:
            self.legend.append(("band", fill, label))

    def errorbars(self, xs: Floats, lows: Floats, highs: Floats, stroke: str) -> None:
        self._take(xs, list(lows) + list(highs))
        self.items.append(("errorbars", (list(xs), list(lows), list(highs), stroke)))

    def hline(self, y: float, stroke: str) -> None:
        self.items.append(("hline", (y, stroke)))

    def labels(self, points: Sequence[tuple[str, float, float]], size: float = 9) -> None:
        """Run ids beside their points, each where it overlaps no label placed before it."""
        self.items.append(("labels", (list(points), size)))

    # --- geometry --------------------------------------------------------------------------

    def _ranges(self) -> None:
        lx = [math.log10(x) for x in self.xs] or [18.0, 20.0]
        lo, hi = min(lx), max(lx)
        pad = max((hi - lo) * 0.06, 0.15)
        self.x0, self.x1 = lo - pad, hi + pad
        ys = [math.log(y) for y in self.ys] if self.ylog else list(self.ys)
        ys = ys or [0.0, 1.0]
        lo, hi = min(ys), max(ys)
        pad = max((hi - lo) * 0.06, 0.01 if self.ylog else 0.005)
        self.y0, self.y1 = lo - pad, hi + pad

    def _px(self, x: float) -> float:
        return LEFT + (math.log10(x) - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def _py(self, y: float) -> float:
        v = math.log(y) if self.ylog else y
        return TOP + (self.y1 - v) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def _ok(self, x: float, y: float) -> bool:
        return x > 0 and math.isfinite(x) and math.isfinite(y) and (y > 0 or not self.ylog)

    def _yticks(self) -> list[float]:
        if self.ylog:
            low, high = math.exp(self.y0), math.exp(self.y1)
            ticks = {round(low * (high / low) ** (i / 5), 2) for i in range(6)}
            if low < 1 < high:  # 1x, where a gain stops being one, is always labelled
                near = 0.2 * math.log(high / low) / 5
                ticks = {t for t in ticks if t > 0 and abs(math.log(t)) > near} | {1.0}
            return sorted(t for t in ticks if low <= t <= high)
        span = self.y1 - self.y0
        raw = span / 5
        step = 10 ** math.floor(math.log10(raw))
        for m in (1, 2, 2.5, 5, 10):
            if m * step >= raw:
                step *= m
                break
        first = math.ceil(self.y0 / step) * step
        return [first + i * step for i in range(int((self.y1 - first) / step) + 1)]

    # --- drawing ---------------------------------------------------------------------------

    def svg(self) -> str:
        self._ranges()
        entries = self._legend_lines()
        legend_h = len(entries) * LEGEND_SIZE * LINE + (8 if entries else 0)
        height = HEIGHT + legend_h
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
            'font-size="11">',
            f'<rect width="{WIDTH}" height="{height:.0f}" fill="white"/>',
        ]
        out += self._axes()
        out.append(
            f'<svg x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{HEIGHT - TOP - BOTTOM}" overflow="hidden">'
            f'<g transform="translate({-LEFT},{-TOP})">'
        )
        for kind, args in self.items:
            if kind != "labels":
                out += getattr(self, f"_{kind}")(*args)
        out.append("</g></svg>")
        for kind, args in self.items:  # labels over the frame, never clipped by it
            if kind == "labels":
                out += self._labels(*args)
        out += self._legend(entries)
        out.append("</svg>")
        return "\n".join(out)

    def _axes(self) -> list[str]:
        r, b = WIDTH - RIGHT, HEIGHT - BOTTOM
        out = [
            f'<text x="{WIDTH / 2:.0f}" y="20" text-anchor="middle" font-size="13">'
            f"{_e(self.title)}</text>"
        ]
        for k in range(math.ceil(self.x0), math.floor(self.x1) + 1):
            x = self._px(10.0**k)
            out.append(f'<line x1="{_n(x)}" y1="{TOP}" x2="{_n(x)}" y2="{b}" stroke="#e4e4e4"/>')
            out.append(f'<text x="{_n(x)}" y="{b + 16}" text-anchor="middle">1e{k}</text>')
        for t in self._yticks():
            y = self._py(t)
            label = f"{t:.2f}x" if self.ylog else self.y_format.format(t)
            out.append(f'<line x1="{LEFT}" y1="{_n(y)}" x2="{r}" y2="{_n(y)}" stroke="#e4e4e4"/>')
            out.append(f'<text x="{LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">{label}</text>')
        out.append(
            f'<rect x="{LEFT}" y="{TOP}" width="{r - LEFT}" height="{b - TOP}" fill="none" '
            'stroke="#555"/>'
        )
        out.append(
            f'<text x="{(LEFT + r) / 2:.0f}" y="{b + 36}" text-anchor="middle">'
            f"{_e(self.xlabel)}</text>"
        )
        mid = (TOP + b) / 2
        out.append(
            f'<text x="16" y="{mid:.0f}" text-anchor="middle" '
            f'transform="rotate(-90 16 {mid:.0f})">{_e(self.ylabel)}</text>'
        )
        return out

    def _marker(self, x: float, y: float, fill: str, marker: str) -> str:
        if marker == "diamond":
            return (
                f'<path d="M{_n(x)},{_n(y - 5)} L{_n(x + 5)},{_n(y)} L{_n(x)},{_n(y + 5)} '
                f'L{_n(x - 5)},{_n(y)} Z" fill="{fill}"/>'
            )
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{fill}"/>'

    def _points(self, xs: Floats, ys: Floats, fill: str, marker: str) -> list[str]:
        return [
            self._marker(self._px(x), self._py(y), fill, marker)
            for x, y in zip(xs, ys, strict=True)
            if self._ok(x, y)
        ]

    def _path(self, xs: Floats, ys: Floats) -> str:
        pts = [(self._px(x), self._py(y)) for x, y in zip(xs, ys, strict=True) if self._ok(x, y)]
        return " ".join(f"{_n(px)},{_n(py)}" for px, py in pts)

    def _line(self, xs: Floats, ys: Floats, stroke: str, dash: bool) -> list[str]:
        extra = ' stroke-dasharray="5,4"' if dash else ""
        return [
            f'<polyline points="{self._path(xs, ys)}" fill="none" stroke="{stroke}" '
            f'stroke-width="1.8"{extra}/>'
        ]

    def _band(self, xs: Floats, lows: Floats, highs: Floats, fill: str) -> list[str]:
        ring = self._path(xs, highs) + " " + self._path(xs[::-1], lows[::-1])
        return [f'<polygon points="{ring}" fill="{fill}" fill-opacity="0.2" stroke="none"/>']

    def _errorbars(self, xs: Floats, lows: Floats, highs: Floats, stroke: str) -> list[str]:
        out = []
        for x, lo, hi in zip(xs, lows, highs, strict=True):
            if not (self._ok(x, lo) and self._ok(x, hi)):
                continue
            px, y0, y1 = self._px(x), self._py(lo), self._py(hi)
            out.append(
                f'<path d="M{_n(px)},{_n(y0)} V{_n(y1)} M{_n(px - 4)},{_n(y0)} H{_n(px + 4)} '
                f'M{_n(px - 4)},{_n(y1)} H{_n(px + 4)}" stroke="{stroke}" fill="none"/>'
            )
        return out

    def _hline(self, y: float, stroke: str) -> list[str]:
        py = self._py(y)
        return [
            f'<line x1="{LEFT}" y1="{_n(py)}" x2="{WIDTH - RIGHT}" y2="{_n(py)}" '
            f'stroke="{stroke}" stroke-dasharray="5,4"/>'
        ]

    def place(self, points: Sequence[tuple[str, float, float]], size: float) -> list[tuple]:
        """(label, x, y, box) for each point: up-right of it (up-left where the axes end), else
        a line lower, a line higher, and so on (runs at one budget with nearly equal losses get
        stacked labels)."""
        self._ranges()
        placed: list[Box] = []
        out = []
        step = size * 1.5
        for run, c, lo in sorted(points, key=lambda p: (p[1], -p[2])):
            if not self._ok(c, lo):
                continue
            px, py = self._px(c), self._py(lo)
            width = text_width(run, size)
            x = px + 6 if px + 6 + width <= WIDTH - RIGHT else px - 6 - width
            chosen = None
            for k in range(12):
                dy = 4 + (-1) ** k * step * ((k + 1) // 2)
                base = py - dy
                box = Box(x, base - size, x + width, base + size * 0.3)
                if not any(box.overlaps(other) for other in placed):
                    chosen = (base, box)
                    break
            if chosen is None:  # crowded beyond twelve lines: the first place
                base = py - 4
                chosen = (base, Box(x, base - size, x + width, base + size * 0.3))
            placed.append(chosen[1])
            out.append((run, x, chosen[0], chosen[1]))
        return out

    def _labels(self, points: Sequence[tuple[str, float, float]], size: float) -> list[str]:
        return [
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}">{_e(run)}</text>'
            for run, x, y, _ in self.place(points, size)
        ]

    def _legend_lines(self) -> list[list[tuple[str, str, list[str]]]]:
        """Legend rows of two entries; an entry wraps at 48 characters, never cut."""
        wrapped = [(k, c, textwrap.wrap(label, 48) or [label]) for k, c, label in self.legend]
        rows = [wrapped[i : i + 2] for i in range(0, len(wrapped), 2)]
        lines: list[list[tuple[str, str, list[str]]]] = []
        for row in rows:
            lines.append(row)
            lines += [[] for _ in range(max(len(e[2]) for e in row) - 1)]
        return lines

    def _legend(self, lines: list[list[tuple[str, str, list[str]]]]) -> list[str]:
        out = []
        y = HEIGHT + 4
        for row in lines:
            y += LEGEND_SIZE * LINE
            for i, (kind, col, text) in enumerate(row):
                x = 40 + i * (WIDTH - 40) / 2
                if kind == "line":
                    out.append(
                        f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 22:.0f}" y2="{y - 4:.0f}" '
                        f'stroke="{col}" stroke-width="1.8"/>'
                    )
                elif kind == "band":
                    out.append(
                        f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="22" height="10" fill="{col}" '
                        'fill-opacity="0.2"/>'
                    )
                else:
                    out.append(self._marker(x + 11, y - 4, col, kind))
                for j, part in enumerate(text):
                    line_y = y + j * LEGEND_SIZE * LINE
                    out.append(
                        f'<text x="{x + 28:.0f}" y="{line_y:.0f}" font-size="{LEGEND_SIZE}">'
                        f"{_e(part)}</text>"
                    )
        return out
