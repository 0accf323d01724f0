"""The data steward's pages: the match-review queue and the review page.

Server-rendered; HTMX swaps the queue table (filters, sort, pages) and the review page's side
panel (assign, comment). Every action is a POST with a CSRF token, checked on the server
(stewardship/permissions.py), and goes through stewardship/services.py, which audits it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from matching.models import MatchReview, ReviewStatus
from matching.reviews import MERGE, REJECT
from stewardship import preview, queue, services
from stewardship.models import ReviewTask
from stewardship.permissions import steward_view

BULK_LIMIT = 200


def _review_url(pk: int, query: str) -> str:
    url = reverse("stewardship:review", args=[pk])
    return f"{url}?{query}" if query else url


def _queue_url(query: str) -> str:
    url = reverse("stewardship:queue")
    return f"{url}?{query}" if query else url


def _sorted(form: queue.QueueFilter, sort: str) -> str:
    names = ("view", "domain", "system", "age", "assignee")
    query = form.query(names)
    return f"?{query}&sort={sort}" if query else f"?sort={sort}"


# -- the queue ----------------------------------------------------------------------------------


@require_GET
@steward_view()
def review_queue(request: HttpRequest) -> HttpResponse:
    form = queue.QueueFilter(request.GET)
    rows = queue.filtered(form, request.user)
    # The page's ids first (a narrow sort over the filtered reviews), then those rows in full.
    page = Paginator(rows.values_list("pk", flat=True), queue.PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": queue.decorate(queue.page_rows_by_id(list(page.object_list))),
        "query": form.query(),
        "sort": form.ordering,
        "sort_urls": {
            "probability": _sorted(
                form, "probability" if form.ordering == "-probability" else "-probability"
            ),
            "age": _sorted(form, "-age" if form.ordering == "age" else "age"),
        },
        "view": form.value("view") or "open",
        "views": queue.VIEWS,
        "counts": queue.counts(request.user),
        "may_decide": request.may_decide,
        "now": timezone.now(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "stewardship/_queue_table.html", context)
    return render(request, "stewardship/queue.html", context)


class BulkSelectionForm(forms.Form):
    """A queue's bulk action: the selected ids, a note, the queue to go back to. Subclasses
    declare ``action`` with their choices."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    note = forms.CharField(max_length=500, required=False)
    back = forms.CharField(max_length=1000, required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(v, v) for v in self.data.getlist("ids") if v.isdigit()]


class BulkForm(BulkSelectionForm):
    action = forms.ChoiceField(choices=[(MERGE, "merge"), (REJECT, "not a match")])


def report_bulk(request: HttpRequest, outcomes: list[services.BulkOutcome], done: str) -> None:
    """A bulk action's messages: how many were applied (``done``: "Merged {n} review{s}."),
    then why the others were not (the first ten)."""
    applied = sum(1 for o in outcomes if o.ok)
    failed = [o for o in outcomes if not o.ok]
    if applied:
        messages.success(request, done.format(n=applied, s="" if applied == 1 else "s"))
    for outcome in failed[:10]:
        messages.warning(request, outcome.message)
    if len(failed) > 10:
        messages.warning(request, f"… and {len(failed) - 10} more not applied.")


@require_POST
@steward_view(decide=True)
def bulk_decide(request: HttpRequest) -> HttpResponse:
    """Bulk approve (merge) or reject the selected reviews: first a confirmation page listing
    them, then (``confirm``) each decided through ``decide_review``."""
    form = BulkForm(request.POST)
    back = request.POST.get("back", "")
    back_url = _queue_url(back if "\x00" not in back else "")
    if not form.is_valid():
        messages.warning(request, "Select at least one review, then merge or reject.")
        return redirect(back_url)
    ids = form.cleaned_data["ids"][:BULK_LIMIT]
    action = form.cleaned_data["action"]
    if not request.POST.get("confirm"):
        reviews = queue.page_rows(MatchReview.objects.filter(pk__in=ids)).order_by(
            "-probability", "id"
        )
        return render(
            request,
            "stewardship/bulk_confirm.html",
            {"reviews": reviews, "action": action, "back": back, "back_url": back_url},
        )
    outcomes = services.decide_many(ids, action, request.user, form.cleaned_data["note"])
    verb = "Merged" if action == MERGE else "Marked as not a match:"
    report_bulk(request, outcomes, verb + " {n} review{s}.")
    return redirect(back_url)


# -- one review ---------------------------------------------------------------------------------


def _load(review_id: int) -> MatchReview:
    return get_object_or_404(
        MatchReview.objects.select_related(
            "source_record__system", "candidate_record__system", "task__assignee"
        ),
        pk=review_id,
    )


def _task(review: MatchReview) -> ReviewTask | None:
    try:
        return review.task
    except ReviewTask.DoesNotExist:
        return None


def _side_context(request: HttpRequest, review: MatchReview, query: str) -> dict[str, Any]:
    decisions = list(review.steward_decisions.order_by("-created_at", "-id")[:50])
    return {
        "review": review,
        "task": _task(review),
        "decisions": decisions,
        "stewards": queue.steward_users(),
        "may_decide": request.may_decide,
        "is_open": review.status == ReviewStatus.OPEN,
        "query": query,
        "today": timezone.localdate(),
    }


@require_GET
@steward_view()
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _load(review_id)
    form = queue.QueueFilter(request.GET)
    query = form.query()
    previous, following = queue.neighbours(form, request.user, review)
    merged = review.status == ReviewStatus.MERGED
    unmerged = services.unmerge_of(review) if merged else None
    context = {
        **_side_context(request, review, query),
        "unmerged": unmerged,
        "merge_overrides": services.merge_overrides(review) if unmerged else [],
        "preview": preview.build(review),
        "explanation": review.explanation or {},
        "previous_url": _review_url(previous, query) if previous else "",
        "next_url": _review_url(following, query) if following else "",
        "queue_url": _queue_url(query),
        "counts": queue.counts(request.user),
        "now": timezone.now(),
    }
    return render(request, "stewardship/review.html", context)


@require_POST
@steward_view(decide=True)
def decide(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _load(review_id)
    decision = request.POST.get("decision", "")
    form = queue.QueueFilter(request.GET)
    query = form.query()
    keep = preview.chosen_values(review, request.POST) if decision == MERGE else {}
    _, following = queue.neighbours(form, request.user, review)
    try:
        audit = services.decide_review(
            review.pk, decision, request.user, request.POST.get("note", ""), keep
        )
    except services.AlreadyDecided as exc:
        messages.warning(request, exc.message)
        return redirect(_review_url(review.pk, query))
    except services.StewardshipError as exc:
        messages.error(request, exc.message)
        return redirect(_review_url(review.pk, query))
    record = reverse("stewardship:record", args=[review.domain, audit.golden_id])
    if decision == MERGE:
        chosen = f" ({len(keep)} value{'s' if len(keep) != 1 else ''} chosen)" if keep else ""
        outcome = format_html(
            'Merged review {}{} into <a href="{}">the surviving golden record</a>.',
            review.pk,
            chosen,
            record,
        )
    else:
        outcome = format_html(
            'Marked as not a match: review {} (<a href="{}">open the record</a>).',
            review.pk,
            record,
        )
    messages.success(request, outcome)
    return redirect(_review_url(following, query) if following else _queue_url(query))


@require_POST
@steward_view(decide=True)
def clear_overrides(request: HttpRequest, review_id: int) -> HttpResponse:
    """Clear the overrides chosen in the review's merge (those ticked), after an unmerge."""
    review = get_object_or_404(MatchReview, pk=review_id)
    query = queue.QueueFilter(request.GET).query()
    ids = [int(v) for v in request.POST.getlist("override") if v.isdigit() and len(v) < 19]
    if not ids:
        messages.warning(request, "Tick the overrides to clear, then Clear.")
        return redirect(_review_url(review.pk, query))
    try:
        audit = services.clear_merge_overrides(
            review.pk, request.user, ids, request.POST.get("note", "").strip()
        )
    except services.StewardshipError as exc:
        messages.warning(request, exc.message)
        return redirect(_review_url(review.pk, query))
    cleared = audit.after["cleared"]
    messages.success(
        request,
        f"Cleared {len(cleared)} override{'s' if len(cleared) != 1 else ''} chosen in the merge "
        f"({', '.join(c['attribute'] for c in cleared)}): the ownership rules decide "
        f"{'them' if len(cleared) != 1 else 'it'} again.",
    )
    return redirect(_review_url(review.pk, query))


def _side(request: HttpRequest, review_id: int) -> HttpResponse:
    """After an assign or a comment: the side panel (HTMX) or the page."""
    query = queue.QueueFilter(request.GET).query()
    if request.htmx:
        review = _load(review_id)
        context = {**_side_context(request, review, query), "partial": True}
        return render(request, "stewardship/_side.html", context)
    return redirect(_review_url(review_id, query))


@require_POST
@steward_view(decide=True)
def defer(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _load(review_id)
    query = queue.QueueFilter(request.GET).query()
    raw = request.POST.get("until", "")
    try:
        day = dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        day = None
    if raw and (day is None or day <= timezone.localdate()):
        messages.error(request, "Defer until a date after today.")
        return redirect(_review_url(review.pk, query))
    until = timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if day is not None else None
    form = queue.QueueFilter(request.GET)
    _, following = queue.neighbours(form, request.user, review)
    try:
        services.defer_review(review.pk, request.user, until, request.POST.get("note", ""))
    except services.StewardshipError as exc:
        messages.warning(request, exc.message)
        return redirect(_review_url(review.pk, query))
    if until is None:
        messages.success(request, f"Review {review.pk} is back in the queue.")
        return redirect(_review_url(review.pk, query))
    messages.success(request, f"Deferred review {review.pk} until {day:%d %b %Y}.")
    return redirect(_review_url(following, query) if following else _queue_url(query))


@require_POST
@steward_view(decide=True)
def assign(request: HttpRequest, review_id: int) -> HttpResponse:
    raw = request.POST.get("assignee", "")
    assignee = None
    if raw == "me":
        assignee = request.user
    elif raw.isdigit():
        assignee = queue.steward_users().filter(pk=int(raw)).first()
        if assignee is None:
            messages.error(request, "Assign to a steward.")
            return _side(request, review_id)
    elif raw:
        messages.error(request, "Assign to a steward.")
        return _side(request, review_id)
    try:
        services.assign_review(review_id, request.user, assignee)
    except services.StewardshipError as exc:
        messages.warning(request, exc.message)
    return _side(request, review_id)


@require_POST
@steward_view(decide=True)
def comment(request: HttpRequest, review_id: int) -> HttpResponse:
    get_object_or_404(MatchReview, pk=review_id)
    try:
        services.comment_review(review_id, request.user, request.POST.get("text", ""))
    except services.StewardshipError as exc:
        messages.warning(request, exc.message)
    return _side(request, review_id)
