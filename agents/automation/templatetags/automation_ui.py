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


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (a dict keyed by an id), or None."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
