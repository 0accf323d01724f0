"""Template filters of the operations pages: durations people read at a glance."""

from __future__ import annotations

import math

from django import template

register = template.Library()
NOTHING = "\u2013"  # an en dash


@register.filter
def duration(seconds: float | None) -> str:
    """350 ms, 4.2 s, 12 s, 3 min 20 s, 5 h 12 min, 2 d 3 h; an en dash for nothing."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return NOTHING
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@register.filter
def milliseconds(value: int | None) -> str:
    return NOTHING if value is None else duration(value / 1000)
