"""The campaign page's chart: per day, a group of bars (sent, opened, clicked, bounced), drawn
as inline SVG from numbers computed here (no chart library, no script), on the overview's grid
(``runs.charts``)."""

from __future__ import annotations

from dataclasses import dataclass

from runs.charts import HEIGHT, LEFT, Tick, XLabel, nice_ceiling

RIGHT, TOP, BOTTOM, WIDTH = 8, 10, 26, 720
SERIES_LABELS = {"sent": "Sent", "opened": "Opened", "clicked": "Clicked", "bounced": "Bounced"}


@dataclass
class GroupBar:
    series: str
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass
class Group:
    x: float
    width: float
    title: str
    bars: list[GroupBar]


@dataclass
class GroupChart:
    groups: list[Group]
    ticks: list[Tick]
    x_labels: list[XLabel]
    summary: str
    legend: list[tuple[str, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def day_chart(days: list, series: tuple[str, ...] = tuple(SERIES_LABELS)) -> GroupChart:
    """``days``: objects with ``.day`` and one attribute per series (the selectors' ``Day``)."""
    plot = WIDTH - RIGHT - LEFT
    slot = plot / max(len(days), 1)
    group_width = max(1.0, slot * 0.8)
    bar_width = group_width / len(series)
    top = nice_ceiling(max((getattr(d, s) for d in days for s in series), default=0))
    unit = (HEIGHT - BOTTOM - TOP) / top
    groups = []
    for i, d in enumerate(days):
        x = LEFT + i * slot + (slot - group_width) / 2
        bars = []
        for j, name in enumerate(series):
            value = getattr(d, name)
            height = value * unit
            bars.append(
                GroupBar(
                    series=name,
                    x=x + j * bar_width,
                    y=HEIGHT - BOTTOM - height,
                    width=bar_width,
                    height=height,
                    value=value,
                )
            )
        title = f"{d.day:%b %d}: " + ", ".join(
            f"{getattr(d, s):,} {SERIES_LABELS[s].lower()}" for s in series
        )
        groups.append(Group(x=x, width=group_width, title=title, bars=bars))
    every = max(1, -(-len(days) // 8))
    labels = [
        XLabel(x=LEFT + i * slot + slot / 2, text=f"{d.day:%b %d}")
        for i, d in enumerate(days)
        if i % every == 0
    ]
    totals = {s: sum(getattr(d, s) for d in days) for s in series}
    summary = (
        ", ".join(f"{totals[s]:,} {SERIES_LABELS[s].lower()}" for s in series)
        + f" over {len(days)} day{'s' if len(days) != 1 else ''}"
    )
    ticks = [Tick(y=HEIGHT - BOTTOM - top * f * unit, label=f"{top * f:,.0f}") for f in (0, 0.5, 1)]
    legend = [(s, SERIES_LABELS[s]) for s in series]
    return GroupChart(groups=groups, ticks=ticks, x_labels=labels, summary=summary, legend=legend)
