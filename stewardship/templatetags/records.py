"""Template filters of the golden-record browser."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def shortid(value: Any) -> str:
    """A golden id for people: its last 12 hex digits. Golden ids are UUIDv7, whose first digits
    are a timestamp shared by records made at the same moment, so the tail tells them apart."""
    text = str(value or "")
    return f"…{text[-12:]}" if len(text) > 12 else text
