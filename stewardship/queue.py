"""The match-review queue: filters, sort orders, counts and the neighbours of a review.

One filter form serves the queue page and the review page (whose next / previous follow the
queue the steward came from). The queue is one query for the page's rows (reviews, both records,
their systems, the review's task and assignee joined) plus one count; the navigation counts are
one aggregate query.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from golden_records.domains import DOMAIN_CHOICES, get_domain
from golden_records.models import SourceSystem
from matching.models import MatchReview, ReviewStatus
from stewardship.permissions import DECIDE_GROUPS

PER_PAGE = 50

SORTS = {
    "-probability": ("-probability", "id"),
    "probability": ("probability", "id"),
    "age": ("created_at", "id"),
    "-age": ("-created_at", "-id"),
}
SORT_LABELS = {
    "-probability": "Most probable first",
    "probability": "Least probable first",
    "age": "Oldest first",
    "-age": "Newest first",
}
AGES = {
    "1d": ("Last 24 hours", dt.timedelta(days=1), False),
    "7d": ("Last 7 days", dt.timedelta(days=7), False),
    "older7d": ("Older than 7 days", dt.timedelta(days=7), True),
    "older30d": ("Older than 30 days", dt.timedelta(days=30), True),
}
VIEWS = {
    "open": "Open",
    "mine": "Assigned to me",
    "unassigned": "Unassigned",
    "deferred": "Deferred",
}


def steward_users() -> QuerySet:
    """Users a review can be assigned to: members of the steward or admin groups, superusers."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name__in=DECIDE_GROUPS) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


class QueueFilter(forms.Form):
    """The queue's filters and sort order, from the query string; invalid values are ignored."""

    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
    domain = forms.ChoiceField(choices=[("", "All domains"), *DOMAIN_CHOICES], required=False)
    system = forms.ChoiceField(choices=[], required=False)
    age = forms.ChoiceField(
        choices=[("", "Any age"), *((k, v[0]) for k, v in AGES.items())], required=False
    )
    assignee = forms.ChoiceField(choices=[], required=False)
    sort = forms.ChoiceField(choices=list(SORT_LABELS.items()), required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any):
        super().__init__(data, *args, **kwargs)
        self.fields["system"].choices = [
            ("", "All systems"),
            *SourceSystem.objects.values_list("code", "code"),
        ]
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            ("none", "Unassigned"),
            *((str(u.pk), u.get_username()) for u in steward_users()),
        ]

    def value(self, name: str) -> str:
        if not self.is_bound:
            return ""
        if self.is_valid():
            return self.cleaned_data.get(name) or ""
        return "" if name in self.errors else self.data.get(name, "") or ""

    @property
    def ordering(self) -> str:
        return self.value("sort") or "-probability"

    def query(
        self, names: tuple[str, ...] = ("view", "domain", "system", "age", "assignee", "sort")
    ):
        """The active filters as a query string (without the page)."""
        return urlencode({n: self.value(n) for n in names if self.value(n)})


def _not_deferred(now: dt.datetime) -> Q:
    return Q(task__deferred_until__isnull=True) | Q(task__deferred_until__lte=now)


def filtered(form: QueueFilter, user: Any) -> QuerySet:
    """Open reviews matching the form's filters, in its sort order."""
    now = timezone.now()
    rows = MatchReview.objects.filter(status=ReviewStatus.OPEN)
    view = form.value("view") or "open"
    if view == "deferred":
        rows = rows.filter(task__deferred_until__gt=now)
    else:
        rows = rows.filter(_not_deferred(now))
    if view == "mine":
        rows = rows.filter(task__assignee=user)
    elif view == "unassigned":
        rows = rows.filter(Q(task__isnull=True) | Q(task__assignee__isnull=True))
    if domain := form.value("domain"):
        rows = rows.filter(domain=domain)
    if system := form.value("system"):
        rows = rows.filter(
            Q(source_record__system__code=system) | Q(candidate_record__system__code=system)
        )
    if age := form.value("age"):
        _, delta, older = AGES[age]
        rows = rows.filter(**{"created_at__lt" if older else "created_at__gte": now - delta})
    assignee = form.value("assignee")
    if assignee == "none":
        rows = rows.filter(Q(task__isnull=True) | Q(task__assignee__isnull=True))
    elif assignee:
        rows = rows.filter(task__assignee_id=int(assignee))
    return rows.order_by(*SORTS[form.ordering])


def page_rows(rows: QuerySet) -> QuerySet:
    """What a queue row shows, in one query: both records and systems, the task and assignee."""
    return rows.select_related(
        "source_record__system", "candidate_record__system", "task__assignee"
    ).defer("source_record__payload", "candidate_record__payload")


def page_rows_by_id(ids: list[int]) -> list[MatchReview]:
    """The reviews of one page, in the order of ``ids``."""
    found = {r.pk: r for r in page_rows(MatchReview.objects.filter(pk__in=ids))}
    return [found[pk] for pk in ids if pk in found]


def counts(user: Any) -> dict[str, int]:
    """Open (not deferred), mine, unassigned and deferred reviews: one query."""
    now = timezone.now()
    visible = _not_deferred(now)
    return MatchReview.objects.filter(status=ReviewStatus.OPEN).aggregate(
        open=Count("pk", filter=visible),
        mine=Count("pk", filter=visible & Q(task__assignee=user)),
        unassigned=Count(
            "pk", filter=visible & (Q(task__isnull=True) | Q(task__assignee__isnull=True))
        ),
        deferred=Count("pk", filter=Q(task__deferred_until__gt=now)),
    )


def neighbours(form: QueueFilter, user: Any, review: MatchReview) -> tuple[int | None, int | None]:
    """The reviews before and after ``review`` in the queue the form describes (two queries)."""
    rows = filtered(form, user).exclude(pk=review.pk)
    first, second = SORTS[form.ordering]
    field, desc = first.lstrip("-"), first.startswith("-")
    value = getattr(review, field)
    tie = second.lstrip("-")
    tie_desc = second.startswith("-")

    def beyond(forward: bool) -> Q:
        greater = forward != desc
        tie_greater = forward != tie_desc
        return Q(**{f"{field}__{'gt' if greater else 'lt'}": value}) | Q(
            **{field: value, f"{tie}__{'gt' if tie_greater else 'lt'}": review.pk}
        )

    def flip(name: str) -> str:
        return name[1:] if name.startswith("-") else f"-{name}"

    following = rows.filter(beyond(True)).order_by(first, second).values_list("pk", flat=True)
    previous = (
        rows.filter(beyond(False)).order_by(flip(first), flip(second)).values_list("pk", flat=True)
    )
    return previous.first(), following.first()


def label(record: Any) -> str:
    """A source record's name for people: its domain's display attributes."""
    canonical = record.canonical or {}
    parts = [str(canonical.get(name) or "") for name in get_domain(record.domain).display]
    return " · ".join(p for p in parts if p) or record.source_id


def evidence(explanation: dict[str, Any], limit: int = 4) -> list[tuple[str, float]]:
    """The comparisons that weighed most, either way: (name, contribution)."""
    entries = [
        (e.get("comparison", ""), float(e.get("contribution") or 0.0))
        for e in (explanation or {}).get("comparisons", [])
        if e.get("feature") and e.get("contribution")
    ]
    entries.sort(key=lambda item: -abs(item[1]))
    return entries[:limit]


def decorate(reviews: Any) -> list[MatchReview]:
    """Labels and evidence for the rows of one page (no queries)."""
    rows = list(reviews)
    for review in rows:
        review.left_label = label(review.source_record)
        review.right_label = label(review.candidate_record)
        review.evidence = evidence(review.explanation)
        try:
            review.assignee = review.task.assignee
        except ObjectDoesNotExist:  # no task row: unassigned
            review.assignee = None
    return rows
