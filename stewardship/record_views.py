"""The golden-record browser: search, one record's page, and unmerge from it.

``/steward/records``                              search across domains (name, hub id, any
                                                   system's id), filters, pages
``/steward/records/<domain>/<golden_id>``         the record: attributes with lineage, every
                                                   cross-reference, hierarchy or prices, open
                                                   reviews, deliveries, history, decisions
``/steward/records/<domain>/<golden_id>/unmerge`` POST: the confirmation page; with ``confirm``,
                                                   the split (stewards only)

A merged-away id redirects to its survivor with a notice. Reads need the viewer role, unmerge
the steward role (stewardship/permissions.py); the write goes through
``stewardship.records.unmerge_records``, which audits it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from golden_records.domains import DOMAINS, get_domain
from golden_records.models import GOLDEN_MODELS, GoldenStatus
from stewardship import queue, records
from stewardship.permissions import steward_view
from stewardship.services import StewardshipError


def record_url(domain: str, golden_id: uuid.UUID | str) -> str:
    return reverse("stewardship:record", args=[domain, str(golden_id)])


def _page(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 else 1


@require_GET
@steward_view()
def record_search(request: HttpRequest) -> HttpResponse:
    form = records.RecordSearch(request.GET)
    result = records.search(form, _page(request.GET.get("page")))
    query = form.query()
    context = {
        "form": form,
        "result": result,
        "query": query,
        "sorts": records.SORTS,
        "searched": bool(form.value("q")),
        "search_help": "; ".join(
            f"{spec.label} {' / '.join(records.search_attributes(spec)).replace('_', ' ')}"
            for spec in DOMAINS.values()
        ),
        "counts": queue.counts(request.user),
        "may_decide": request.may_decide,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "stewardship/records/_results.html", context)
    return render(request, "stewardship/records/search.html", context)


def _spec(domain: str) -> Any:
    if domain not in DOMAINS:
        raise Http404(f"Unknown domain {domain!r}.")
    return get_domain(domain)


def _active_or_redirect(request: HttpRequest, domain: str, golden_id: uuid.UUID) -> Any:
    """The record, or a redirect to the survivor of a merged-away id (with a notice)."""
    obj = records.load_record(domain, golden_id)
    if obj is None:
        raise Http404(f"No {domain} golden record {golden_id}.")
    if obj.record_status == GoldenStatus.MERGED and obj.merged_into:
        survivor = obj.merged_into
        if GOLDEN_MODELS[domain].objects.filter(pk=survivor).exists():
            messages.info(
                request,
                format_html(
                    "{} was merged into {}: showing the surviving record.",
                    str(golden_id),
                    str(survivor),
                ),
            )
            return redirect(record_url(domain, survivor))
    return obj


@require_GET
@steward_view()
def record_detail(request: HttpRequest, domain: str, golden_id: uuid.UUID) -> HttpResponse:
    spec = _spec(domain)
    obj = _active_or_redirect(request, domain, golden_id)
    if isinstance(obj, HttpResponse):
        return obj
    sources = records.source_records(obj)
    overrides = records.overrides_of(obj)
    rows, hidden, discrepancy_count = records.attribute_rows(obj, sources, overrides)
    merged_ids = records.merged_from(obj)
    entries, more_history = records.history(obj)
    reviews = records.open_reviews(obj)
    pending = records.pending_approvals(obj, merged_ids)
    can_split = (
        request.may_decide and obj.record_status == GoldenStatus.ACTIVE and len(sources) >= 2
    )
    context = {
        "spec": spec,
        "obj": obj,
        "label": records.label(obj),
        "rows": rows,
        "hidden": hidden,
        "discrepancy_count": discrepancy_count,
        "sources": sources,
        "merged_from": merged_ids,
        "hierarchy": records.hierarchy(obj),
        "reviews": reviews,
        "approvals": pending,
        "task_count": len(reviews) + len(pending),
        "deliveries": records.deliveries(obj),
        "history": entries,
        "more_history": more_history,
        "decisions": records.decisions(obj, merged_ids),
        "may_decide": request.may_decide,
        "can_split": can_split,
        "counts": queue.counts(request.user),
    }
    return render(request, "stewardship/records/detail.html", context)


def _chosen(request: HttpRequest) -> set[int]:
    return {int(v) for v in request.POST.getlist("source") if v.isdigit() and len(v) < 19}


@require_POST
@steward_view(decide=True)
def record_unmerge(request: HttpRequest, domain: str, golden_id: uuid.UUID) -> HttpResponse:
    """Without ``confirm``: what the split would do. With it: the split, then the new record."""
    spec = _spec(domain)
    back = record_url(domain, golden_id)
    chosen = _chosen(request)
    if not chosen:
        messages.warning(request, "Select the source records to split out, then Unmerge.")
        return redirect(back)
    if not request.POST.get("confirm"):
        obj = records.load_record(domain, golden_id)
        if obj is None:
            raise Http404(f"No {domain} golden record {golden_id}.")
        sources = records.source_records(obj)
        linked = {s.pk for s in sources}
        if obj.record_status != GoldenStatus.ACTIVE or not chosen <= linked:
            messages.warning(
                request,
                "Nothing to confirm: the record changed meanwhile (the selected source records "
                "are no longer all on it). Look again and choose.",
            )
            return redirect(back)
        if len(chosen) >= len(sources):
            messages.warning(request, "Leave at least one source record on the record.")
            return redirect(back)
        context = {
            "spec": spec,
            "obj": obj,
            "label": records.label(obj),
            "preview": records.preview_unmerge(obj, sources, chosen),
            "back_url": back,
            "counts": queue.counts(request.user),
        }
        return render(request, "stewardship/records/unmerge_confirm.html", context)
    try:
        decision = records.unmerge_records(
            domain, golden_id, chosen, request.user, request.POST.get("note", "").strip()
        )
    except StewardshipError as exc:
        messages.warning(request, exc.message)
        return redirect(back)
    new_id = decision.related_golden_id
    moved = ", ".join(f"{r['system']} {r['source_id']}" for r in decision.after["moved"])
    names = {
        o.pk: records.label(o)
        for o in GOLDEN_MODELS[domain].objects.filter(pk__in=[golden_id, new_id])
    }
    messages.success(
        request,
        format_html(
            'Split {} out of <a href="{}" title="{}">{}</a> into the new record '
            '<a href="{}" title="{}">{}</a>.',
            moved,
            back,
            golden_id,
            names.get(golden_id, golden_id),
            record_url(domain, new_id),
            new_id,
            names.get(new_id, new_id),
        ),
    )
    return redirect(record_url(domain, new_id))
