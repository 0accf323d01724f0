"""The data-quality exceptions queue and the exception page (correct and resubmit, dismiss).

Same shape as the match-review queue (stewardship/views.py): server-rendered, HTMX swaps the
table on filter / sort / page, every action a POST with a CSRF token checked on the server and
done by a service that audits it (stewardship/exceptions.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_POST

from golden_records.domains import DOMAIN_CHOICES, get_domain
from golden_records.models import GOLDEN_MODELS, RejectedRecord, SourceSystem
from golden_records.services import resolve_golden_id
from golden_records.services.exceptions import (
    correction_fields,
    display_value,
    supersede_resolved,
)
from golden_records.values import golden_attributes
from stewardship.exceptions import (
    AlreadyHandled,
    ResubmitOutcome,
    dismiss_exception,
    dismiss_many,
    resubmit_exception,
)
from stewardship.permissions import steward_view
from stewardship.services import StewardshipError
from stewardship.templatetags.records import shortid
from stewardship.views import BULK_LIMIT, BulkSelectionForm, report_bulk

PER_PAGE = 50
State = RejectedRecord.State

STATES = {
    State.OPEN: "Open",
    State.RESUBMITTED: "Resubmitted",
    State.DISMISSED: "Dismissed",
    State.SUPERSEDED: "Superseded",
}
SORTS = {
    "-last_seen": ("-last_seen", "-id"),
    "last_seen": ("last_seen", "id"),
    "-first_seen": ("-first_seen", "-id"),
    "first_seen": ("first_seen", "id"),
    "-times_seen": ("-times_seen", "-last_seen", "-id"),
}
SORT_LABELS = {
    "-last_seen": "Last seen, newest first",
    "last_seen": "Last seen, oldest first",
    "first_seen": "Waiting longest first",
    "-first_seen": "Newest first",
    "-times_seen": "Seen most often first",
}
AGES = {
    "1d": ("Last 24 hours", dt.timedelta(days=1), False),
    "7d": ("Last 7 days", dt.timedelta(days=7), False),
    "older7d": ("Older than 7 days", dt.timedelta(days=7), True),
    "older30d": ("Older than 30 days", dt.timedelta(days=30), True),
}
FILTERS = ("state", "domain", "system", "age", "code", "sort")


def error_codes() -> list[str]:
    """The error codes of open exceptions (for the filter), from their distinct code sets."""
    combos = (
        RejectedRecord.objects.filter(state=State.OPEN)
        .values_list("error_codes", flat=True)
        .distinct()[:500]
    )
    return sorted({code for combo in combos for code in combo.split(",") if code})


class ExceptionFilter(forms.Form):
    """The queue's filters and sort order, from the query string; invalid values are ignored."""

    state = forms.ChoiceField(choices=list(STATES.items()), required=False)
    domain = forms.ChoiceField(choices=[("", "All domains"), *DOMAIN_CHOICES], required=False)
    system = forms.ChoiceField(choices=[], required=False)
    age = forms.ChoiceField(
        choices=[("", "Any age"), *((k, v[0]) for k, v in AGES.items())], required=False
    )
    code = forms.ChoiceField(choices=[], required=False, label="Error")
    sort = forms.ChoiceField(choices=list(SORT_LABELS.items()), required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any):
        super().__init__(data, *args, **kwargs)
        self.fields["system"].choices = [
            ("", "All systems"),
            *SourceSystem.objects.values_list("code", "code"),
        ]
        codes = error_codes()
        wanted = data.get("code") if data else None
        if wanted and wanted not in codes and wanted.replace("_", "").isalnum():
            codes.append(wanted)  # a code only closed exceptions have
        self.fields["code"].choices = [("", "Any error"), *((c, c) for c in codes)]

    def value(self, name: str) -> str:
        if not self.is_bound:
            return ""
        if self.is_valid():
            return self.cleaned_data.get(name) or ""
        return "" if name in self.errors else self.data.get(name, "") or ""

    @property
    def ordering(self) -> str:
        return self.value("sort") or "-last_seen"

    def query(self, names: tuple[str, ...] = FILTERS) -> str:
        return urlencode({n: self.value(n) for n in names if self.value(n)})


def filtered(form: ExceptionFilter) -> QuerySet:
    rows = RejectedRecord.objects.filter(state=form.value("state") or State.OPEN)
    if domain := form.value("domain"):
        rows = rows.filter(domain=domain)
    if system := form.value("system"):
        rows = rows.filter(system__code=system)
    if age := form.value("age"):
        _, delta, older = AGES[age]
        now = timezone.now()
        rows = rows.filter(**{"first_seen__lt" if older else "first_seen__gte": now - delta})
    if code := form.value("code"):
        rows = rows.filter(error_codes__contains=f",{code},")
    return rows.order_by(*SORTS[form.ordering])


def state_counts() -> dict[str, int]:
    """Exceptions per state: one aggregate query."""
    return RejectedRecord.objects.aggregate(
        **{state: Count("pk", filter=Q(state=state)) for state in STATES}
    )


def _queue_url(query: str) -> str:
    url = reverse("stewardship:exceptions")
    return f"{url}?{query}" if query else url


def _detail_url(pk: int, query: str = "") -> str:
    url = reverse("stewardship:exception", args=[pk])
    return f"{url}?{query}" if query else url


def _sort_url(form: ExceptionFilter, sort: str) -> str:
    query = form.query(("state", "domain", "system", "age", "code"))
    return f"?{query}&sort={sort}" if query else f"?sort={sort}"


def _label(rejected: RejectedRecord) -> str:
    payload = rejected.payload if isinstance(rejected.payload, dict) else {}
    parts = [str(payload.get(n) or "") for n in get_domain(rejected.domain).display]
    return " · ".join(p for p in parts if p and len(p) < 200) or rejected.source_id or "—"


@require_GET
@steward_view()
def exceptions_queue(request: HttpRequest) -> HttpResponse:
    supersede_resolved()
    form = ExceptionFilter(request.GET)
    page = Paginator(filtered(form).select_related("system"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    for row in rows:
        row.label = _label(row)
    state = form.value("state") or State.OPEN
    tab_query = form.query(("domain", "system", "age", "code", "sort"))
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": form.query(),
        "tab_query": tab_query,
        "sort": form.ordering,
        "sort_urls": {
            "last_seen": _sort_url(
                form, "last_seen" if form.ordering == "-last_seen" else "-last_seen"
            ),
            "first_seen": _sort_url(
                form, "-first_seen" if form.ordering == "first_seen" else "first_seen"
            ),
            "times_seen": _sort_url(form, "-times_seen"),
        },
        "state": state,
        "states": STATES,
        "exception_counts": state_counts(),
        "may_decide": request.may_decide,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "stewardship/exceptions/_table.html", context)
    return render(request, "stewardship/exceptions/queue.html", context)


def _detail_context(
    request: HttpRequest,
    rejected: RejectedRecord,
    query: str,
    values: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The page: the correction form (the system's values and errors, or after a failed
    resubmit the steward's values and the new errors), the raw JSON, the activity."""
    spec = get_domain(rejected.domain)
    payload = rejected.payload if isinstance(rejected.payload, dict) else {}
    shown_errors = rejected.errors if errors is None else errors
    fields = correction_fields(spec, payload, shown_errors)
    if values is not None:
        fields = [replace(f, value=values.get(f.name, "")) if f.known else f for f in fields]
    attribute_names = {f.name for f in fields}
    general = [e for e in shown_errors if e["field"] not in attribute_names]
    meta_errors = {e["field"]: e["message"] for e in general if e["field"] in META}
    if values is not None:
        source_updated_at = values.get("source_updated_at", "")
    else:
        source_updated_at = display_value(payload.get("source_updated_at"))
    decisions = list(
        rejected.steward_decisions.order_by("-created_at", "-id").select_related("actor")[:50]
    )
    return {
        "rejected": rejected,
        "spec": spec,
        "fields": fields,
        "general_errors": [e for e in general if e["field"] not in META],
        "meta_errors": meta_errors,
        "source_updated_at": source_updated_at,
        "source_id_value": (values or {}).get("source_id", rejected.source_id),
        "source_id_editable": not rejected.source_id,
        "retried": errors is not None,
        "decisions": decisions,
        "is_open": rejected.state == State.OPEN,
        "may_decide": request.may_decide,
        "query": query,
        "queue_url": _queue_url(query),
        "exception_counts": state_counts(),
        "golden": _golden(rejected),
    }


META = ("source_id", "source_updated_at")


def _golden(rejected: RejectedRecord) -> dict[str, Any] | None:
    """The golden record a resubmission was linked to, as it is now (one query)."""
    if not rejected.golden_id:
        return None
    model = GOLDEN_MODELS[rejected.domain]
    found = model.objects.filter(pk=resolve_golden_id(rejected.domain, rejected.golden_id)).first()
    if found is None:
        return None
    values = golden_attributes(found)
    return {
        "record": found,
        "attributes": [
            (a.verbose_name, values[a.name])
            for a in get_domain(rejected.domain).attributes
            if values.get(a.name) not in (None, "")
        ],
    }


def _load(rejected_id: int) -> RejectedRecord:
    return get_object_or_404(RejectedRecord.objects.select_related("system"), pk=rejected_id)


@require_GET
@steward_view()
def exception_detail(request: HttpRequest, rejected_id: int) -> HttpResponse:
    supersede_resolved()
    rejected = _load(rejected_id)
    query = ExceptionFilter(request.GET).query()
    return render(
        request, "stewardship/exceptions/detail.html", _detail_context(request, rejected, query)
    )


@require_POST
@steward_view(decide=True)
def resubmit(request: HttpRequest, rejected_id: int) -> HttpResponse:
    rejected = _load(rejected_id)
    query = ExceptionFilter(request.GET).query()
    spec = get_domain(rejected.domain)
    values = {
        name: request.POST.get(f"attr_{name}", "")
        for name in (*spec.attribute_names, "source_updated_at")
    }
    if not rejected.source_id:
        values["source_id"] = request.POST.get("source_id", "")
    try:
        outcome: ResubmitOutcome = resubmit_exception(
            rejected.pk, values, request.user, request.POST.get("note", "")
        )
    except AlreadyHandled as exc:
        messages.warning(request, exc.message)
        return redirect(_detail_url(rejected.pk, query))
    except StewardshipError as exc:
        messages.error(request, exc.message)
        return redirect(_detail_url(rejected.pk, query))
    if not outcome.ok:
        messages.error(
            request,
            "Still not valid: nothing was written. Correct the fields marked below and resubmit.",
        )
        context = _detail_context(request, rejected, query, values, outcome.errors)
        return render(request, "stewardship/exceptions/detail.html", context, status=422)
    record = outcome.record
    messages.success(
        request,
        format_html(
            'Resubmitted exception #{}: {} {} golden record <a href="{}" title="{}">{}</a>.',
            rejected.pk,
            record.action,
            rejected.domain,
            reverse("stewardship:record", args=[rejected.domain, record.golden_id]),
            record.golden_id,
            shortid(record.golden_id),
        ),
    )
    if outcome.held:
        messages.warning(request, _held_message(rejected, outcome))
    return redirect(_detail_url(rejected.pk, query))


def _held_message(rejected: RejectedRecord, outcome: ResubmitOutcome) -> str:
    """Which of the steward's values wait for a second steward (four-eyes), with links."""
    spec = get_domain(rejected.domain)
    items = format_html_join(
        "; ",
        '{} {} (<a href="{}">change #{}</a>)',
        (
            (
                spec.attribute(a.attribute).verbose_name,
                display_value(a.proposed_value) or "(empty)",
                reverse("stewardship:approval", args=[a.pk]),
                a.pk,
            )
            for a in outcome.held
        ),
    )
    return format_html(
        "Waiting for a second steward (four-eyes), not applied yet: {}. The record was "
        "resubmitted with the system's value of these.",
        items,
    )


@require_POST
@steward_view(decide=True)
def dismiss(request: HttpRequest, rejected_id: int) -> HttpResponse:
    rejected = _load(rejected_id)
    query = ExceptionFilter(request.GET).query()
    try:
        dismiss_exception(rejected.pk, request.user, request.POST.get("note", ""))
    except AlreadyHandled as exc:
        messages.warning(request, exc.message)
        return redirect(_detail_url(rejected.pk, query))
    except StewardshipError as exc:
        messages.error(request, exc.message)
        return redirect(_detail_url(rejected.pk, query))
    messages.success(request, f"Dismissed exception #{rejected.pk}.")
    return redirect(_queue_url(query))


class BulkForm(BulkSelectionForm):
    action = forms.ChoiceField(choices=[("dismiss", "dismiss")])


@require_POST
@steward_view(decide=True)
def exception_bulk(request: HttpRequest) -> HttpResponse:
    """Dismiss the selected exceptions: first a confirmation page listing them and asking why,
    then (``confirm``) each dismissed in its own transaction with that note."""
    form = BulkForm(request.POST)
    back = request.POST.get("back", "")
    back_url = _queue_url(back if "\x00" not in back else "")
    if not form.is_valid():
        messages.warning(request, "Select at least one exception, then dismiss.")
        return redirect(back_url)
    ids = form.cleaned_data["ids"][:BULK_LIMIT]
    note = form.cleaned_data["note"]
    if not request.POST.get("confirm") or not note.strip():
        rows = list(
            RejectedRecord.objects.filter(pk__in=ids)
            .select_related("system")
            .order_by("-last_seen", "-id")
        )
        for row in rows:
            row.label = _label(row)
        if request.POST.get("confirm"):
            messages.error(request, "Say why you dismiss these exceptions.")
        return render(
            request,
            "stewardship/exceptions/bulk_confirm.html",
            {"rows": rows, "back": back, "back_url": back_url, "note": note},
        )
    report_bulk(request, dismiss_many(ids, request.user, note), "Dismissed {n} exception{s}.")
    return redirect(back_url)
