"""Charts drawn on the server as SVG: no script, no inline style (the policy forbids both),
colours from classes in site.css, and the figures repeated in a table for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 40, 24, 10


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[int, ...]


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> Markup:
    """One polyline per series over `labels` (the x axis), scaled to the largest value."""
    top = max([1, *(v for s in series for v in s.values)])
    count = max(1, len(labels) - 1)
    step = (WIDTH - LEFT - 10) / count

    def point(i: int, value: int) -> str:
        y = TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)
        return f"{LEFT + i * step:.1f},{y:.1f}"

    parts = [
        _open(title, HEIGHT),
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{HEIGHT - BOTTOM}" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(labels):
        if i % 2 == 0 or i == len(labels) - 1:
            x = LEFT + i * step
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    for n, one in enumerate(series):
        points = " ".join(point(i, v) for i, v in enumerate(one.values))
        parts.append(f'<polyline class="series series-{n}" points="{points}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per label, scaled to the largest."""
    top = max([1, *(value for _, value in bars)])
    row = 22
    height = row * len(bars) + 4
    left = 170
    parts = [
        _open(title, height),
    ]
    for i, (label, value) in enumerate(bars):
        y = 2 + i * row
        width = (WIDTH - left - 60) * value / top
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="series series-0" x="{left}" y="{y + 3}" '
            f'width="{width:.1f}" height="16"/>'
            f'<text class="tick" x="{left + width + 4:.1f}" y="{y + 15}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, height: int) -> str:
    label = escape(title)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
    )
