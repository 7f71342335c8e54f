"""Geometry for the overview's inline SVG charts, computed on the server.

No chart library and no script: the template draws rectangles from these numbers, each bar
with a ``<title>`` (a tooltip and a screen-reader label) and the chart with a summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from runs.overview import Bucket

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26
STATUS_ORDER = ("completed", "failed", "cancelled")


@dataclass
class Segment:
    status: str
    y: float
    height: float
    count: int


@dataclass
class Bar:
    x: float
    width: float
    title: str
    segments: list[Segment] = field(default_factory=list)
    y: float = 0.0
    height: float = 0.0


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class XLabel:
    x: float
    text: str


@dataclass
class Chart:
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[XLabel]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (1 for nothing at all)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)  # pragma: no cover - the loop always returns


def bucket_label(start: datetime, bucket_hours: int) -> str:
    local = timezone.localtime(start)
    if bucket_hours == 1:
        return local.strftime("%H:%M")
    if bucket_hours < 24:
        return local.strftime("%a %H:%M")
    return local.strftime("%b %d")


def _frame(count: int) -> tuple[float, float]:
    plot = WIDTH - RIGHT - LEFT
    slot = plot / max(count, 1)
    return slot, max(1.0, slot * 0.72)


def _scale(maximum: float) -> tuple[float, float]:
    top = nice_ceiling(maximum)
    return top, (HEIGHT - BOTTOM - TOP) / top


def _ticks(top: float, unit: float, fmt, *, whole: bool = False) -> list[Tick]:
    # Counts get no half-way line between 0 and 1 (or 5): "2.5 runs" reads oddly.
    fractions = (0, 1) if whole and (top / 2) % 1 else (0, 0.5, 1)
    return [Tick(y=HEIGHT - BOTTOM - top * f * unit, label=fmt(top * f)) for f in fractions]


def _x_labels(buckets: list[Bucket], bucket_hours: int, slot: float) -> list[XLabel]:
    every = max(1, math.ceil(len(buckets) / 8))
    return [
        XLabel(x=LEFT + i * slot + slot / 2, text=bucket_label(b.start, bucket_hours))
        for i, b in enumerate(buckets)
        if i % every == 0
    ]


def status_chart(buckets: list[Bucket], bucket_hours: int) -> Chart:
    """Stacked bars of finished runs per bucket: completed, failed, cancelled."""
    slot, width = _frame(len(buckets))
    top, unit = _scale(max((b.total for b in buckets), default=0))
    bars = []
    for i, bucket in enumerate(buckets):
        label = bucket_label(bucket.start, bucket_hours)
        parts = [f"{bucket.counts.get(s, 0)} {s}" for s in STATUS_ORDER if bucket.counts.get(s)]
        bar = Bar(
            x=LEFT + i * slot + (slot - width) / 2,
            width=width,
            title=f"{label}: " + (", ".join(parts) if parts else "no runs"),
        )
        y = HEIGHT - BOTTOM
        for status in STATUS_ORDER:
            count = bucket.counts.get(status, 0)
            if count:
                height = count * unit
                y -= height
                bar.segments.append(Segment(status=status, y=y, height=height, count=count))
        bars.append(bar)
    total = sum(b.total for b in buckets)
    busiest = max(buckets, key=lambda b: b.total, default=None)
    summary = f"{total} finished runs in {len(buckets)} periods"
    if busiest is not None and busiest.total:
        summary += f"; busiest {bucket_label(busiest.start, bucket_hours)} with {busiest.total}"
    return Chart(
        bars=bars,
        ticks=_ticks(top, unit, lambda v: f"{v:g}", whole=True),
        x_labels=_x_labels(buckets, bucket_hours, slot),
        summary=summary,
    )


def cost_chart(buckets: list[Bucket], bucket_hours: int) -> Chart:
    """Bars of run cost per bucket."""
    slot, width = _frame(len(buckets))
    top, unit = _scale(float(max((b.cost for b in buckets), default=Decimal("0"))))
    bars = []
    for i, bucket in enumerate(buckets):
        height = float(bucket.cost) * unit
        bars.append(
            Bar(
                x=LEFT + i * slot + (slot - width) / 2,
                width=width,
                y=HEIGHT - BOTTOM - height,
                height=height,
                title=f"{bucket_label(bucket.start, bucket_hours)}: ${bucket.cost:.4f}",
            )
        )
    total = sum((b.cost for b in buckets), Decimal("0"))
    return Chart(
        bars=bars,
        ticks=_ticks(top, unit, lambda v: f"${v:g}"),
        x_labels=_x_labels(buckets, bucket_hours, slot),
        summary=f"${total:.2f} spent in {len(buckets)} periods",
    )
