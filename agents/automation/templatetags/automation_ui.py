"""Template helpers of the trigger pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def eta(seconds: int | float | None) -> str:
    """Seconds as a short duration: 45 s, 12 min, 3 h 20 min."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
