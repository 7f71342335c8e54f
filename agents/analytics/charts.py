"""Bars of post numbers, drawn by the overview's chart template (``runs/_chart.html``)."""

from __future__ import annotations

from runs.charts import HEIGHT, LEFT, Bar, Chart, Tick, XLabel, nice_ceiling

RIGHT, TOP, BOTTOM, WIDTH = 8, 10, 26, 720


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(points: list[tuple[str, float | None]], *, what: str) -> Chart:
    """One bar per (label, value); None is "not collected" (no bar), 0 is a real 0."""
    plot = WIDTH - RIGHT - LEFT
    slot = plot / max(len(points), 1)
    width = max(1.0, slot * 0.72)
    top = nice_ceiling(max((v or 0 for _, v in points), default=0))
    unit = (HEIGHT - BOTTOM - TOP) / top
    bars = []
    for i, (label, value) in enumerate(points):
        height = (value or 0) * unit
        bars.append(
            Bar(
                x=LEFT + i * slot + (slot - width) / 2,
                width=width,
                y=HEIGHT - BOTTOM - height,
                height=height,
                title=f"{label}: "
                + (f"{_number(value)} {what}" if value is not None else "not read"),
            )
        )
    every = max(1, -(-len(points) // 8))
    labels = [
        XLabel(x=LEFT + i * slot + slot / 2, text=label)
        for i, (label, _) in enumerate(points)
        if i % every == 0
    ]
    known = [v for _, v in points if v is not None]
    summary = (
        f"{_number(sum(known))} {what} in all, highest {_number(max(known))}"
        if known
        else f"no {what} collected yet"
    )
    ticks = [Tick(y=HEIGHT - BOTTOM - top * f * unit, label=_number(top * f)) for f in (0, 0.5, 1)]
    return Chart(bars=bars, ticks=ticks, x_labels=labels, summary=summary)


def post_chart(collections: list, metric: str, what: str) -> Chart:
    """A post's ``metric`` at each checkpoint (1 hour, 24 hours, 7 days, 30 days)."""
    return bar_chart([(c.label, c.values.get(metric)) for c in collections], what=what)


def channel_chart(days: list[tuple], what: str) -> Chart:
    return bar_chart([(d.strftime("%b %d"), v) for d, v in days], what=what)
