"""Small presentation helpers shared by every page: times, durations, JSON, percentages."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from neonhub.core import markup

register = template.Library()


@register.simple_tag
def reltime(moment: datetime | None, empty: str = "–") -> str:
    """``<time>`` with a relative text ("3 minutes ago") and the exact local time on hover."""
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    exact = local.strftime("%Y-%m-%d %H:%M:%S %Z")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), exact, naturaltime(moment)
    )


@register.simple_tag
def exacttime(moment: datetime | None, empty: str = "–") -> str:
    """``<time>`` with the exact local time and the relative one on hover."""
    if moment is None:
        return empty
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        naturaltime(moment),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )


@register.filter
def duration(ms: int | None) -> str:
    """Milliseconds as people read them: 85 ms, 2.4 s, 3 min 12 s, 2 h 5 min."""
    if ms is None:
        return "–"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


APPROX_TITLE = (
    "Approximate: estimated from duration buckets (each about a third wide) and kept between "
    "the fastest and the slowest run"
)


@register.simple_tag
def approx(ms: int | None) -> str:
    """A duration estimated from the rollups' histogram, marked ≈ with how it was estimated."""
    if ms is None:
        return "–"
    return format_html('<span class="approx" title="{}">≈ {}</span>', APPROX_TITLE, duration(ms))


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@register.filter
def percent(fraction: float | None) -> str:
    if fraction is None:
        return "–"
    return f"{fraction * 100:.1f}%"


@register.filter
def money(amount: Decimal | float | None) -> str:
    if amount is None:
        return "–"
    amount = Decimal(amount)
    return f"${amount:,.2f}" if amount >= 1 or amount == 0 else f"${amount:.4f}"


@register.filter
def short_id(value: Any) -> str:
    return str(value)[:8]


@register.filter
def markdown(text: str | None) -> str:
    """Markdown as sanitised HTML (``neonhub.core.markup``)."""
    return mark_safe(markup.markdown_html(text or ""))  # noqa: S308 - sanitised by nh3
