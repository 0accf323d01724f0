"""Template tags of the steward UI: the navigation entry with its count, small formatters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template
from django.db.models import Q
from django.utils import timezone

from matching.models import MatchReview, ReviewStatus
from stewardship.models import ChangeApproval
from stewardship.permissions import steward_roles

register = template.Library()

REVIEW_PAGES = ("queue", "bulk", "review", "decide", "defer", "assign", "comment")


@register.inclusion_tag("stewardship/_nav.html", takes_context=True)
def steward_nav(context: dict[str, Any]) -> dict[str, Any]:
    """The "Reviews" link with the number of open reviews, for users who may read them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    may_read = bool(user) and steward_roles(user)[0]
    count = None
    if may_read:
        counts = context.get("counts")
        if counts is not None:
            count = counts["open"]
        else:
            now = timezone.now()
            count = MatchReview.objects.filter(
                Q(task__deferred_until__isnull=True) | Q(task__deferred_until__lte=now),
                status=ReviewStatus.OPEN,
            ).count()
    match = getattr(request, "resolver_match", None)
    page = match.url_name if match and match.namespace == "stewardship" else ""
    return {
        "request": request,  # for the entries _nav.html includes (steward_exceptions)
        "show": may_read,
        "count": count,
        "on": page in REVIEW_PAGES,
        "records_on": page in RECORD_PAGES,
        "approvals_count": _pending_approvals(context) if may_read else None,
        "approvals_on": page in APPROVAL_PAGES,
        "rules_on": page in RULE_PAGES,
    }


# The edit page belongs to the record (it is reached from it and returns to it).
RECORD_PAGES = frozenset({"records", "record", "unmerge", "record_edit"})
APPROVAL_PAGES = frozenset({"approvals", "approval", "approval_bulk", "approval_decide"})
RULE_PAGES = frozenset({"rules", "ownership-rule", "match-thresholds"})


def _pending_approvals(context: dict[str, Any]) -> int:
    """Pending change approvals: the approval pages pass theirs in ``approval_counts``."""
    counts = context.get("approval_counts")
    if counts is not None:
        return counts["pending"]
    return ChangeApproval.objects.filter(state=ChangeApproval.State.PENDING).count()


@register.filter
def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


@register.filter
def signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


@register.filter
def thousands(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


@register.filter
def age(value: dt.datetime | None) -> str:
    """A compact age: 40s, 12m, 5h, 3d, 7w, 14mo."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    for unit, size in (("mo", 30 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit == "mo" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@register.filter
def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def words(value: str | None) -> str:
    """source_priority → source priority."""
    return (value or "").replace("_", " ")


@register.filter
def canon(value: Any) -> str:
    """A canonical attribute value for people: empty as —, booleans as yes / no."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
