"""The change-approval pages: the queue, one approval, bulk approve / reject, and the steward's
edit form for a golden record's attributes.

Server-rendered like the match-review pages (stewardship/views.py): HTMX swaps the queue table
on filter, sort and page changes; every action is a POST with a CSRF token, checked on the
server (stewardship/permissions.py) and done by stewardship/approvals.py, which audits it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from golden_records.attributes import Reference
from golden_records.domains import DOMAIN_CHOICES, DOMAINS, get_domain
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    GoldenStatus,
    OwnershipRule,
    SourceRecord,
    SourceSystem,
)
from golden_records.services import resolve_golden_id
from golden_records.values import golden_value
from stewardship import approvals
from stewardship.models import ChangeApproval, StewardDecision
from stewardship.permissions import steward_view
from stewardship.services import StewardshipError
from stewardship.templatetags.records import shortid
from stewardship.views import BulkSelectionForm, report_bulk

PER_PAGE = 50
BULK_LIMIT = 200
State = ChangeApproval.State
Kind = ChangeApproval.Kind

VIEWS = {
    "pending": "Pending",
    "non_owner": "From systems",
    "four_eyes": "Four-eyes edits",
    "decided": "Decided",
}
SORTS = {
    "age": ("created_at", "id"),
    "-age": ("-created_at", "-id"),
}
SORT_LABELS = {"age": "Oldest first", "-age": "Newest first"}
AGES = {
    "1d": ("Last 24 hours", dt.timedelta(days=1), False),
    "7d": ("Last 7 days", dt.timedelta(days=7), False),
    "older7d": ("Older than 7 days", dt.timedelta(days=7), True),
    "older30d": ("Older than 30 days", dt.timedelta(days=30), True),
}
FILTERS = ("view", "domain", "system", "age", "sort")


class ApprovalFilter(forms.Form):
    """The queue's filters and sort order, from the query string; invalid values are ignored."""

    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
    domain = forms.ChoiceField(choices=[("", "All domains"), *DOMAIN_CHOICES], required=False)
    system = forms.ChoiceField(choices=[], required=False)
    age = forms.ChoiceField(
        choices=[("", "Any age"), *((k, v[0]) for k, v in AGES.items())], required=False
    )
    sort = forms.ChoiceField(choices=list(SORT_LABELS.items()), required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any):
        super().__init__(data, *args, **kwargs)
        self.fields["system"].choices = [
            ("", "All systems"),
            ("steward", "Stewards (four-eyes)"),
            *SourceSystem.objects.values_list("code", "code"),
        ]

    def value(self, name: str) -> str:
        if not self.is_bound:
            return ""
        if self.is_valid():
            return self.cleaned_data.get(name) or ""
        return "" if name in self.errors else self.data.get(name, "") or ""

    @property
    def view_name(self) -> str:
        return self.value("view") or "pending"

    @property
    def ordering(self) -> str:
        return self.value("sort") or ("-age" if self.view_name == "decided" else "age")

    def query(self, names: tuple[str, ...] = FILTERS) -> str:
        return urlencode({n: self.value(n) for n in names if self.value(n)})


def filtered(form: ApprovalFilter) -> QuerySet:
    """Approvals matching the form's filters, in its sort order."""
    view = form.view_name
    if view == "decided":
        rows = ChangeApproval.objects.exclude(state=State.PENDING)
    else:
        rows = ChangeApproval.objects.filter(state=State.PENDING)
    if view == "non_owner":
        rows = rows.filter(kind=Kind.NON_OWNER_CHANGE)
    elif view == "four_eyes":
        rows = rows.filter(kind=Kind.FOUR_EYES_EDIT)
    if domain := form.value("domain"):
        rows = rows.filter(domain=domain)
    if system := form.value("system"):
        if system == "steward":
            rows = rows.filter(kind=Kind.FOUR_EYES_EDIT)
        else:
            rows = rows.filter(system__code=system)
    if age := form.value("age"):
        _, delta, older = AGES[age]
        since = timezone.now() - delta
        rows = rows.filter(**{"created_at__lt" if older else "created_at__gte": since})
    return rows.order_by(*SORTS[form.ordering])


def counts() -> dict[str, int]:
    """Pending, from systems, four-eyes: one query."""
    pending = Q(state=State.PENDING)
    return ChangeApproval.objects.filter(pending).aggregate(
        pending=Count("pk"),
        non_owner=Count("pk", filter=Q(kind=Kind.NON_OWNER_CHANGE)),
        four_eyes=Count("pk", filter=Q(kind=Kind.FOUR_EYES_EDIT)),
    )


def _rows(ids: list[int]) -> list[ChangeApproval]:
    """The approvals of one page in the order of ``ids``, each with its golden record's label
    (one query for the approvals, one per domain on the page for the labels)."""
    found = {
        a.pk: a
        for a in ChangeApproval.objects.filter(pk__in=ids).select_related(
            "system", "source_record", "proposed_by", "decided_by"
        )
    }
    rows = [found[pk] for pk in ids if pk in found]
    by_domain: dict[str, set[uuid.UUID]] = defaultdict(set)
    for row in rows:
        by_domain[row.domain].add(row.golden_id)
    labels: dict[uuid.UUID, str] = {}
    for domain, golden_ids in by_domain.items():
        spec = get_domain(domain)
        names = [n for n in spec.display if not isinstance(spec.attribute(n), Reference)]
        for values in GOLDEN_MODELS[domain].objects.filter(pk__in=golden_ids).values("pk", *names):
            parts = [str(values[n]) for n in names if values[n] not in (None, "")]
            labels[values["pk"]] = " · ".join(parts)
    for row in rows:
        row.label = labels.get(row.golden_id) or shortid(row.golden_id)
        row.attribute_label = _label(row.domain, row.attribute)
    return rows


def _label(domain: str, attribute: str) -> str:
    spec = DOMAINS.get(domain)
    attr = spec.attributes_by_name.get(attribute) if spec else None
    return attr.verbose_name if attr else attribute


def _queue_url(query: str) -> str:
    url = reverse("stewardship:approvals")
    return f"{url}?{query}" if query else url


def _approval_url(pk: int, query: str) -> str:
    url = reverse("stewardship:approval", args=[pk])
    return f"{url}?{query}" if query else url


def _sorted(form: ApprovalFilter, sort: str) -> str:
    query = form.query(("view", "domain", "system", "age"))
    return f"?{query}&sort={sort}" if query else f"?sort={sort}"


@require_GET
@steward_view()
def approval_queue(request: HttpRequest) -> HttpResponse:
    form = ApprovalFilter(request.GET)
    page = Paginator(filtered(form).values_list("pk", flat=True), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": _rows(list(page.object_list)),
        "query": form.query(),
        "sort": form.ordering,
        "age_url": _sorted(form, "-age" if form.ordering == "age" else "age"),
        "view": form.view_name,
        "views": VIEWS,
        "approval_counts": counts(),
        "may_decide": request.may_decide,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "stewardship/approvals/_table.html", context)
    return render(request, "stewardship/approvals/queue.html", context)


class BulkForm(BulkSelectionForm):
    action = forms.ChoiceField(
        choices=[(approvals.APPROVE, "approve"), (approvals.REJECT, "reject")]
    )


@require_POST
@steward_view(decide=True)
def approval_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk approve or reject the selected approvals: first a confirmation page listing them,
    then (``confirm``) each decided in its own transaction."""
    form = BulkForm(request.POST)
    back = request.POST.get("back", "")
    back_url = _queue_url(back if "\x00" not in back else "")
    if not form.is_valid():
        messages.warning(request, "Select at least one change, then approve or reject.")
        return redirect(back_url)
    ids = form.cleaned_data["ids"][:BULK_LIMIT]
    action = form.cleaned_data["action"]
    if not request.POST.get("confirm"):
        rows = _rows(
            list(
                ChangeApproval.objects.filter(pk__in=ids)
                .order_by("created_at", "id")
                .values_list("pk", flat=True)
            )
        )
        own = sum(
            1 for r in rows if r.kind == Kind.FOUR_EYES_EDIT and r.proposed_by_id == request.user.pk
        )
        return render(
            request,
            "stewardship/approvals/bulk_confirm.html",
            {"rows": rows, "action": action, "back": back, "back_url": back_url, "own": own},
        )
    outcomes = approvals.decide_many(ids, action, request.user, form.cleaned_data["note"])
    verb = "Approved" if action == approvals.APPROVE else "Rejected"
    report_bulk(request, outcomes, verb + " {n} change{s}.")
    return redirect(back_url)


def _neighbours(form: ApprovalFilter, approval: ChangeApproval) -> tuple[int | None, int | None]:
    """The approvals before and after ``approval`` in the queue the form describes."""
    rows = filtered(form).exclude(pk=approval.pk)
    desc = form.ordering == "-age"
    at, pk = approval.created_at, approval.pk

    def beyond(forward: bool) -> Q:
        op = "gt" if forward != desc else "lt"
        return Q(**{f"created_at__{op}": at}) | Q(created_at=at, **{f"id__{op}": pk})

    asc, dsc = ("created_at", "id"), ("-created_at", "-id")
    following = rows.filter(beyond(True)).order_by(*(dsc if desc else asc))
    previous = rows.filter(beyond(False)).order_by(*(asc if desc else dsc))
    return (
        previous.values_list("pk", flat=True).first(),
        following.values_list("pk", flat=True).first(),
    )


def _record_rows(
    domain: str, obj: Any, highlight: str = "", rules: dict[str, OwnershipRule] | None = None
) -> list[dict[str, Any]]:
    """Every attribute of a golden record with its value, lineage and governance flags."""
    spec = get_domain(domain)
    rules = rules if rules is not None else _rules(domain)
    rows = []
    for attribute in spec.attributes:
        rule = rules.get(attribute.name)
        rows.append(
            {
                "name": attribute.name,
                "label": attribute.verbose_name,
                "value": golden_value(obj, attribute),
                "lineage": (obj.lineage or {}).get(attribute.name) or {},
                "governed": bool(rule and rule.governed),
                "four_eyes": bool(rule and rule.four_eyes),
                "owners": list(rule.systems) if rule else [],
                "strategy": rule.strategy if rule else "",
                "reference": isinstance(attribute, Reference),
                "highlight": attribute.name == highlight,
            }
        )
    return rows


def _rules(domain: str) -> dict[str, OwnershipRule]:
    return {r.attribute: r for r in OwnershipRule.objects.filter(domain=domain)}


@require_GET
@steward_view()
def approval_detail(request: HttpRequest, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(
        ChangeApproval.objects.select_related(
            "system", "source_record", "proposed_by", "decided_by"
        ),
        pk=approval_id,
    )
    form = ApprovalFilter(request.GET)
    query = form.query()
    domain = approval.domain
    spec = get_domain(domain)
    model = GOLDEN_MODELS[domain]
    current_id = resolve_golden_id(domain, approval.golden_id)
    obj = model.objects.filter(pk=current_id).first()
    if obj is None:
        raise Http404("The golden record is gone.")
    attribute = spec.attribute(approval.attribute)
    rules = _rules(domain)
    rule = rules.get(approval.attribute)
    others = _rows(
        list(
            ChangeApproval.objects.filter(
                domain=domain,
                golden_id__in={approval.golden_id, current_id},
                attribute=approval.attribute,
                state=State.PENDING,
            )
            .exclude(pk=approval.pk)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)
        )
    )
    sources = [
        {
            "system": sr.system.code,
            "source_id": sr.source_id,
            "value": (sr.references if isinstance(attribute, Reference) else sr.canonical).get(
                attribute.name
            ),
            "at": sr.source_updated_at or sr.received_at,
            "owner": bool(rule and rule.is_owner(sr.system.code)),
            "proposing": sr.pk == approval.source_record_id,
        }
        for sr in SourceRecord.objects.filter(domain=domain, golden_id=current_id)
        .select_related("system")
        .defer("payload")
        .order_by("system__code", "source_id")
    ]
    override = AttributeOverride.objects.filter(
        domain=domain, golden_id=current_id, attribute=approval.attribute
    ).first()
    decisions = list(
        StewardDecision.objects.filter(
            Q(approval=approval) | Q(golden_id=current_id, action__in=[StewardDecision.Action.EDIT])
        ).order_by("-created_at", "-id")[:50]
    )
    previous, following = _neighbours(form, approval)
    is_pending = approval.state == State.PENDING
    own = approval.kind == Kind.FOUR_EYES_EDIT and approval.proposed_by_id == request.user.pk
    context = {
        "approval": approval,
        "label": str(obj),
        "golden": obj,
        "current_id": current_id,
        "golden_active": obj.record_status == GoldenStatus.ACTIVE,
        "attribute_label": attribute.verbose_name,
        "current_value": golden_value(obj, attribute),
        "lineage": (obj.lineage or {}).get(approval.attribute) or {},
        "override": override,
        "rule": rule,
        "record_rows": _record_rows(domain, obj, approval.attribute, rules),
        "others": others,
        "sources": sources,
        "decisions": decisions,
        "is_pending": is_pending,
        "own_edit": own,
        "may_decide": request.may_decide,
        "may_approve": request.may_decide and is_pending and not own,
        "query": query,
        "queue_url": _queue_url(query),
        "previous_url": _approval_url(previous, query) if previous else "",
        "next_url": _approval_url(following, query) if following else "",
        "approval_counts": counts(),
    }
    return render(request, "stewardship/approvals/detail.html", context)


@require_POST
@steward_view(decide=True)
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(ChangeApproval, pk=approval_id)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    form = ApprovalFilter(request.GET)
    query = form.query()
    _, following = _neighbours(form, approval)
    try:
        if decision == approvals.APPROVE:
            audit = approvals.approve_change(approval.pk, request.user, note)
        elif decision == approvals.REJECT:
            audit = approvals.reject_change(approval.pk, request.user, note)
        else:
            raise StewardshipError("invalid_decision", "Approve or reject.")
    except approvals.ApprovalAlreadyDecided as exc:
        messages.warning(request, exc.message)
        return redirect(_approval_url(approval.pk, query))
    except StewardshipError as exc:
        messages.error(request, exc.message)
        return redirect(_approval_url(approval.pk, query))
    label = _label(approval.domain, approval.attribute)
    record = reverse("stewardship:record", args=[approval.domain, audit.golden_id])
    if decision == approvals.APPROVE:
        outcome = format_html(
            'Approved change {}: {} of <a href="{}">the record</a> is now {}.',
            approval.pk,
            label,
            record,
            approval.proposed_value,
        )
    else:
        outcome = format_html(
            'Rejected change {}: {} of <a href="{}">the record</a> stays as it was.',
            approval.pk,
            label,
            record,
        )
    messages.success(request, outcome)
    return redirect(_approval_url(following, query) if following else _queue_url(query))


# -- steward edits ------------------------------------------------------------------------------


class EditForm(forms.Form):
    attribute = forms.ChoiceField(choices=[])
    value = forms.CharField(max_length=4000, required=False, strip=True)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, domain: str, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        spec = get_domain(domain)
        self.fields["attribute"].choices = [
            (a.name, a.verbose_name) for a in spec.attributes if not isinstance(a, Reference)
        ]


@require_http_methods(["GET", "POST"])
@steward_view()
def record_edit(request: HttpRequest, domain: str, golden_id: uuid.UUID) -> HttpResponse:
    """A steward's edit of one golden attribute: applied as an override at once, or (four-eyes)
    proposed for a second steward's approval. Viewers see the record and its rules only."""
    if request.method == "POST" and not request.may_decide:
        raise PermissionDenied("Only a data steward (steward or admin role) edits records.")
    if domain not in DOMAINS:
        raise Http404("No such domain.")
    current_id = resolve_golden_id(domain, golden_id)
    if current_id != golden_id:
        messages.info(request, f"{golden_id} was merged into {current_id}.")
        return redirect("stewardship:record_edit", domain=domain, golden_id=current_id)
    obj = get_object_or_404(GOLDEN_MODELS[domain], pk=golden_id)
    status = 200
    form = EditForm(
        domain, request.POST or None, initial={"attribute": request.GET.get("attribute")}
    )
    error_field = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = approvals.propose_edit(
                domain, golden_id, data["attribute"], data["value"], request.user, data["note"]
            )
        except approvals.InvalidValue as exc:
            error_field = exc.field
            form.add_error("value" if exc.field != "attribute" else "attribute", exc.message)
            status = 400
        except StewardshipError as exc:
            form.add_error(None, exc.message)
            status = 400
        else:
            label = _label(domain, data["attribute"])
            if outcome.applied:
                messages.success(
                    request,
                    f"Applied: {label} is now {outcome.decision.after['value']} "
                    f"(version {outcome.version}), kept as a steward override.",
                )
                # Back to the record, where the new value and the decision show.
                return redirect("stewardship:record", domain=domain, golden_id=golden_id)
            messages.info(
                request,
                f"Proposed {label} = {outcome.approval.proposed_value}: waiting for a second "
                "steward's approval. Nothing changes until then.",
            )
            return redirect("stewardship:approval", approval_id=outcome.approval.pk)
    elif request.method == "POST":
        status = 400
    rules = _rules(domain)
    pending = _rows(
        list(
            ChangeApproval.objects.filter(domain=domain, golden_id=golden_id, state=State.PENDING)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)
        )
    )
    decisions = list(
        StewardDecision.objects.filter(golden_id=golden_id).order_by("-created_at", "-id")[:20]
    )
    selected = form["attribute"].value() or ""
    context = {
        "domain": domain,
        "domain_label": get_domain(domain).label,
        "golden": obj,
        "label": str(obj),
        "form": form,
        "error_field": error_field,
        "record_rows": _record_rows(domain, obj, selected, rules),
        "four_eyes": sorted(name for name, r in rules.items() if r.four_eyes),
        "selected_four_eyes": bool(rules.get(selected) and rules[selected].four_eyes),
        "pending": pending,
        "decisions": decisions,
        "may_decide": request.may_decide,
        "active": obj.record_status == GoldenStatus.ACTIVE,
        "approval_counts": counts(),
    }
    return render(request, "stewardship/approvals/edit.html", context, status=status)
