"""Server-side SVG charts (no JS chart library): stacked bars per year and a horizontal bar list.
Every label is escaped; numbers are formatted by us."""

from __future__ import annotations

import math
from collections import Counter

from markupsafe import Markup, escape

PALETTE = ["#4f6bed", "#e8804b", "#3ba776", "#c4509b", "#d6b130", "#4bb3c9", "#8a63d2", "#d94f4f",
           "#7a8b99", "#9fb33a"]


def stacked_years(counts: dict[int, Counter], series: list[str], title: str, width: int = 760,
                  height: int = 300) -> Markup:
    """counts: year -> Counter(series -> n). One bar per year, stacked by series, with a legend."""
    years = sorted(counts)
    if not years:
        return Markup("")
    left, bottom, top, legend_w = 44, 28, 16, 220
    plot_w, plot_h = width - left - legend_w - 10, height - bottom - top
    tick = max(1, math.ceil(max(sum(c.values()) for c in counts.values()) / 4))
    peak = tick * 4
    step = plot_w / len(years)
    bar_w = max(4.0, min(48.0, step * 0.7))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>{escape(title)}</title>']
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{value:.0f}</text>')
    for i, year in enumerate(years):
        x = left + step * i + (step - bar_w) / 2
        y = top + plot_h
        for j, name in enumerate(series):
            n = counts[year].get(name, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(str(year))} · {escape(name)}: {n}'
                         f'</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle" class="axis">'
                     f'{escape(str(year))}</text>')
    for j, name in enumerate(series):
        y = top + 6 + j * 18
        label = name if len(name) <= 26 else name[:25] + "…"
        parts.append(f'<rect x="{width - legend_w + 6}" y="{y}" width="11" height="11" '
                     f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{width - legend_w + 22}" y="{y + 10}" '
                     f'class="legend">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_list(items: list[tuple[str, int]], title: str, width: int = 760, row_h: int = 22) -> Markup:
    """Horizontal bars, one row per (label, value)."""
    if not items:
        return Markup("")
    label_w, pad = 230, 50
    height = row_h * len(items) + 10
    peak = max(v for _, v in items) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_h
        w = (width - label_w - pad) * value / peak
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="legend">{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 7}" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {value}</title></rect>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" class="axis">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
