"""Template filters of the golden-record browser."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def shortid(value: Any) -> str:
    """A golden id for people: its last 12 hex digits. Golden ids are UUIDv7, whose first digits
    are a timestamp shared by records made at the same moment, so the tail tells them apart."""
    text = str(value or "")
    return f"…{text[-12:]}" if len(text) > 12 else text


_PLACEHOLDER = uuid.UUID(int=0)


@functools.cache
def _record_url_pattern(domain: str) -> str:
    return reverse("stewardship:record", args=(domain, _PLACEHOLDER))


@register.filter
def record_url(golden_id: Any, domain: str) -> str:
    """The record page of ``golden_id``: what ``{% url 'stewardship:record' domain id %}`` gives,
    with the route reversed once per domain (queues link a hundred records a page)."""
    return _record_url_pattern(domain).replace(str(_PLACEHOLDER), str(golden_id))
