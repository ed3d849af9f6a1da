"""Inline SVG charts for the static report.

The report must open from a file with no network at all, so charts are drawn here
as plain SVG strings instead of with a JavaScript library from a CDN. Every helper
is pure (data in, markup out) and escapes all text, because region names, source
names and expectation names come from scraped pages.

Every mark carries ``data-label``/``data-region``, ``data-year`` and ``data-value``
attributes and a ``<title>`` tooltip, so a reader can hover for the exact figure and
a test can read the numbers back from the DOM.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

FONT_STACK = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif'

# Colour-blind-safe qualitative palette (Okabe–Ito, without yellow, which is too pale).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")

AXIS = "#555555"
GRID = "#e3e3e3"


def esc(text: object) -> str:
    """Escape any value for use in SVG/HTML text and attribute values."""
    return escape(str(text), quote=True)


def compact_number(value: float) -> str:
    """A short Chinese-style label (3.56万, 11.2亿) for axes and bar ends, where space is tight."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    magnitude = abs(value)
    for size, suffix in ((1e8, "亿"), (1e4, "万")):
        if magnitude >= size:
            return f"{_trim(value / size)}{suffix}"
    return _trim(value)


def full_number(value: float | None) -> str:
    """The exact figure with thousands separators, for tables and tooltips."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.2f}"


def data_number(value: float) -> str:
    """The value as written in ``data-value`` attributes: an integer when it is one."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _trim(value: float) -> str:
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if "e" in text:
        text = f"{value:.0f}"
    return text


def nice_ticks(lo: float, hi: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10ⁿ) covering [lo, hi], so axes read naturally.

    ``integer`` keeps the step at 1 or more, for counts (no tick at 1.5 pages).
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        if hi == 0:
            return [0.0, 1.0]
        lo, hi = (0.0, hi) if hi > 0 else (hi, 0.0)
    raw = (hi - lo) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1, math.ceil(step))
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    n = round((stop - start) / step)
    return [round(start + i * step, 10) for i in range(n + 1)]


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: CJK glyphs are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.58 for ch in text)


def _clip(text: str, size: float, max_width: float) -> str:
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def _svg_open(width: float, height: float, label: str, css_class: str) -> str:
    return (
        f'<svg class="{esc(css_class)}" role="img" aria-label="{esc(label)}" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT_STACK)}" font-size="12">'
        f"<title>{esc(label)}</title>"
    )


def _empty_chart(title: str, width: int, message: str) -> str:
    height = 60
    return (
        _svg_open(width, height, title, "chart chart-empty")
        + f'<text x="8" y="20" font-weight="bold" font-size="14">{esc(title)}</text>'
        + f'<text x="8" y="44" fill="{AXIS}">{esc(message)}</text></svg>'
    )


def svg_bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    value_label: str,
    width: int = 640,
    bar_height: int = 22,
    color: str = PALETTE[0],
    fmt: Callable[[float], str] = compact_number,
    tooltips: Sequence[str] | None = None,
    integer: bool = False,
) -> str:
    """Horizontal bar chart of ``(label, value)`` pairs, drawn in the given order.

    Horizontal because the labels are Chinese place, site or rule names that would
    not fit under vertical bars. The value axis starts at zero so bar lengths compare
    honestly; each bar ends with its (compact) value.
    """
    if not items:
        return _empty_chart(title, width, "无数据 / no data")
    size = 12
    label_w = min(width * 0.45, max(text_width(label, size) for label, _ in items) + 12)
    value_w = max(text_width(fmt(v), size) for _, v in items) + 10
    top, bottom = 30, 44
    plot_x, plot_w = label_w, max(80.0, width - label_w - value_w - 8)
    height = top + len(items) * bar_height + bottom
    values = [v for _, v in items]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values), 4, integer=integer)
    lo, hi = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return plot_x + (v - lo) / (hi - lo) * plot_w

    parts = [_svg_open(width, height, title, "chart bar-chart")]
    parts.append(f'<text x="0" y="16" font-weight="bold" font-size="14">{esc(title)}</text>')
    axis_y = top + len(items) * bar_height
    for t in ticks:
        x = sx(t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{axis_y}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{axis_y + 15}" text-anchor="middle" fill="{AXIS}">'
            f"{esc(fmt(t))}</text>"
        )
    for i, (label, value) in enumerate(items):
        y = top + i * bar_height
        x0, x1 = sorted((sx(0.0), sx(value)))
        tip = tooltips[i] if tooltips else f"{label}: {full_number(value)}"
        parts.append(
            f'<g class="bar" data-label="{esc(label)}" data-value="{data_number(value)}">'
            f"<title>{esc(tip)}</title>"
            f'<text x="{plot_x - 6:.1f}" y="{y + bar_height / 2 + 4:.1f}" text-anchor="end">'
            f"{esc(_clip(label, size, label_w - 10))}</text>"
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(1.0, x1 - x0):.1f}" '
            f'height="{bar_height - 6}" fill="{esc(color)}"/>'
            f'<text x="{x1 + 4:.1f}" y="{y + bar_height / 2 + 4:.1f}">{esc(fmt(value))}</text>'
            "</g>"
        )
    parts.append(
        f'<line x1="{sx(0.0):.1f}" y1="{top}" x2="{sx(0.0):.1f}" y2="{axis_y}" stroke="{AXIS}"/>'
        f'<line x1="{plot_x:.1f}" y1="{axis_y}" x2="{plot_x + plot_w:.1f}" y2="{axis_y}" '
        f'stroke="{AXIS}"/>'
        f'<text class="axis-label" x="{plot_x + plot_w / 2:.1f}" y="{axis_y + 34}" '
        f'text-anchor="middle" fill="{AXIS}">{esc(value_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _year_ticks(first: int, last: int, max_ticks: int = 6) -> list[int]:
    step = max(1, math.ceil((last - first + 1) / max_ticks))
    return list(range(first, last + 1, step))


def svg_line_chart(
    series: Mapping[str, Sequence[tuple[int, float]]],
    *,
    title: str,
    y_label: str,
    x_label: str = "年份 year",
    width: int = 300,
    height: int = 210,
    fmt: Callable[[float], str] = compact_number,
) -> str:
    """Line chart of value by year, one line per series (a region).

    Used one region per panel as small multiples, because regions of different
    levels (a province and a county) differ by orders of magnitude and would flatten
    each other on a shared scale. The y axis starts at zero for non-negative data so
    a drop from 3.5万 to 3.4万 does not look like a collapse. Years are whole numbers,
    so the x axis only has integer ticks; a single year still shows as a dot.
    """
    points = {name: sorted(pts) for name, pts in series.items() if pts}
    if not points:
        return _empty_chart(title, width, "无数据 / no data")
    years = [y for pts in points.values() for y, _ in pts]
    values = [v for pts in points.values() for _, v in pts]
    first, last = min(years), max(years)
    x_lo, x_hi = (first - 1, last + 1) if first == last else (first, last)
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values), 4)
    y_lo, y_hi = ticks[0], ticks[-1]
    legend_h = 16 * len(points) if len(points) > 1 else 0
    left = max(text_width(fmt(t), 11) for t in ticks) + 22
    top, right, bottom = 36, 14, 40 + legend_h
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(year: float) -> float:
        return left + (year - x_lo) / (x_hi - x_lo) * plot_w

    def sy(v: float) -> float:
        return top + plot_h - (v - y_lo) / (y_hi - y_lo) * plot_h

    parts = [_svg_open(width, height, title, "chart line-chart")]
    parts.append(f'<text x="0" y="16" font-weight="bold" font-size="13">{esc(title)}</text>')
    for t in ticks:
        y = sy(t)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="{AXIS}">{esc(fmt(t))}</text>'
        )
    base = top + plot_h
    for year in _year_ticks(first, last):
        x = sx(year)
        parts.append(
            f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{AXIS}"/>'
            f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS}">{year}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="{AXIS}"/>'
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w:.1f}" y2="{base}" stroke="{AXIS}"/>'
        f'<text class="axis-label" x="{left + plot_w / 2:.1f}" y="{base + 32}" '
        f'text-anchor="middle" font-size="11" fill="{AXIS}">{esc(x_label)}</text>'
        f'<text class="axis-label" x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'font-size="11" fill="{AXIS}" transform="rotate(-90 12 {top + plot_h / 2:.1f})">'
        f"{esc(y_label)}</text>"
    )
    for i, (name, pts) in enumerate(points.items()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{sx(y):.1f},{sy(v):.1f}" for y, v in pts)
        parts.append(f'<g class="series" data-region="{esc(name)}">')
        if len(pts) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        for year, value in pts:
            parts.append(
                f'<circle cx="{sx(year):.1f}" cy="{sy(value):.1f}" r="3.5" fill="{color}" '
                f'data-region="{esc(name)}" data-year="{year}" data-value="{data_number(value)}">'
                f"<title>{esc(name)} {year}: {esc(full_number(value))}</title></circle>"
            )
        # Label every point of a short series, else the first and last; labels at
        # the plot's edges lean inwards so they do not sit on the axis tick labels.
        labelled = pts if len(pts) <= 4 else [pts[0], pts[-1]]
        for year, value in labelled:
            x = sx(year)
            anchor, dx = ("start", 5) if x - left < 20 else (
                ("end", -5) if left + plot_w - x < 20 else ("middle", 0))
            parts.append(
                f'<text x="{x + dx:.1f}" y="{sy(value) - 7:.1f}" text-anchor="{anchor}" '
                f'font-size="10" fill="{color}">{esc(fmt(value))}</text>'
            )
        parts.append("</g>")
        if legend_h:
            ly = base + 46 + i * 16
            parts.append(
                f'<rect x="{left}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
                f'<text x="{left + 14}" y="{ly}">{esc(name)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
