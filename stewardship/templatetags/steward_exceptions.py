"""Navigation entry of the data-quality exceptions queue (with its count). The "Rules" entry
follows "Records" in stewardship/_nav.html (``steward_nav``)."""

from __future__ import annotations

from typing import Any

from django import template

from golden_records.services.exceptions import open_exceptions
from stewardship.permissions import steward_roles

register = template.Library()

EXCEPTION_PAGES = ("exceptions", "exception")


@register.inclusion_tag("stewardship/exceptions/_nav.html", takes_context=True)
def exceptions_nav(context: dict[str, Any]) -> dict[str, Any]:
    """ "Exceptions" with the number of open ones (one count query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    may_read = bool(user) and steward_roles(user)[0]
    counts = context.get("exception_counts")
    count = None
    if may_read:  # the exceptions pages have counted already
        count = counts["open"] if counts is not None else open_exceptions().count()
    match = getattr(request, "resolver_match", None)
    page = match.url_name if match and match.namespace == "stewardship" else ""
    return {
        "show": may_read,
        "count": count,
        "on_exceptions": page in EXCEPTION_PAGES,
    }
