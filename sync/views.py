"""The operations dashboard for propagation: how every subscription is doing, the deliveries that
failed, and the steward's actions on them (replay, pause, resume).

Who sees what: staff users, superusers and members of the "steward" and "admin" groups see the
pages; only superusers and members of "steward" or "admin" act (a staff user outside those groups
reads). Anyone else logged in gets 403, anonymous users the login page. Every action goes through
sync/services.py with the user as its origin: pause and resume are in the subscription's history,
replays in each delivery's ``replayed_by`` / ``replayed_at``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from golden_records.domains import DOMAIN_CHOICES
from golden_records.history import ChangeOrigin
from golden_records.models import Channel, SourceSystem
from stewardship.permissions import steward_roles, steward_view
from sync import services
from sync.models import Delivery, DeliveryStatus, SigningSecret, Subscription
from sync.stats import subscription_figures

log = logging.getLogger(__name__)

FAILED_ON_DASHBOARD = 20
FAILED_PER_PAGE = 50
HISTORY_ROWS = 50
REPLAYABLE = [DeliveryStatus.DELIVERED, DeliveryStatus.DEAD]


# -- permissions --------------------------------------------------------------------------------


def ops_roles(user: Any) -> tuple[bool, bool]:
    """(may view, may act): the steward roles (viewers read, stewards and admins act), and staff
    users read too."""
    may_read, may_decide = steward_roles(user)
    return may_read or (user.is_active and user.is_staff), may_decide


def ops_view(act: bool = False) -> Callable:
    """Login required (anonymous users go to the login page); 403 without a role, and for
    actions without the steward or admin role."""
    return steward_view(decide=act, roles=ops_roles)


def _origin(request: HttpRequest, reason: str = "") -> ChangeOrigin:
    return ChangeOrigin.steward(request.user, Channel.UI, reason)


def _actor(request: HttpRequest) -> str:
    return f"steward:{request.user.get_username()}"


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after an action: the page it was posted from, if it is one of ours."""
    target = request.POST.get("next", "")
    return target if target.startswith("/ops/") else default


# -- pages --------------------------------------------------------------------------------------


def failing_deliveries() -> QuerySet[Delivery]:
    """Dead deliveries and pending ones that failed at least once (waiting for a retry)."""
    return (
        Delivery.objects.filter(
            Q(status=DeliveryStatus.DEAD) | Q(status=DeliveryStatus.PENDING, attempts__gt=0)
        )
        .select_related("subscription__system")
        .order_by("-created_at", "-id")
    )


@require_GET
@ops_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = subscription_figures()
    failing = failing_deliveries()
    totals = {
        "backlog": sum(f.backlog for f in figures),
        "oldest": max((f.oldest_waiting_seconds or 0 for f in figures), default=0) or None,
        "delivered_hour": sum(f.delivered_hour for f in figures),
        "failed_hour": sum(f.failed_hour for f in figures),
        "dead": sum(f.dead for f in figures),
        "disabled": sum(f.subscription.state == Subscription.State.DISABLED for f in figures),
        "paused": sum(f.subscription.state == Subscription.State.PAUSED for f in figures),
    }
    context = {
        "figures": figures,
        "totals": totals,
        "disabled": [f for f in figures if f.subscription.state == Subscription.State.DISABLED],
        "failing": list(failing[:FAILED_ON_DASHBOARD]),
        "failing_count": sum(f.dead for f in figures) + failing.filter(status="pending").count(),
        "now": timezone.now(),
        "refresh": _refresh_seconds(request),
    }
    return render(request, "sync/dashboard.html", context)


def _refresh_seconds(request: HttpRequest) -> int | None:
    """``?refresh=30`` reloads the page every 30 seconds (a wall display); 10 at least."""
    try:
        return max(10, int(request.GET["refresh"]))
    except (KeyError, ValueError):
        return None


class FailedFilter(forms.Form):
    subscription = forms.ModelChoiceField(
        Subscription.objects.order_by("name"), required=False, empty_label="every subscription"
    )
    domain = forms.ChoiceField(choices=[("", "every domain"), *DOMAIN_CHOICES], required=False)
    status = forms.ChoiceField(
        choices=[("", "dead and retrying"), ("dead", "dead"), ("pending", "retrying")],
        required=False,
    )


@require_GET
@ops_view()
def failed(request: HttpRequest) -> HttpResponse:
    form = FailedFilter(request.GET or None)
    rows = failing_deliveries()
    if form.is_valid():
        if form.cleaned_data["subscription"]:
            rows = rows.filter(subscription=form.cleaned_data["subscription"])
        if form.cleaned_data["domain"]:
            rows = rows.filter(domain=form.cleaned_data["domain"])
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
    page = Paginator(rows, FAILED_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "sync/failed.html", context)


@require_GET
@ops_view()
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        Delivery.objects.select_related("subscription__system", "event"), pk=pk
    )
    attempts = list(delivery.attempt_rows.order_by("-number"))
    payload = json.dumps(delivery.event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    context = {
        "delivery": delivery,
        "attempts": attempts,
        "payload": payload,
        "replayable": delivery.status in REPLAYABLE,
    }
    return render(request, "sync/delivery.html", context)


@require_GET
@ops_view()
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription.objects.select_related("system"), pk=pk)
    [figures] = subscription_figures(subscription_id=subscription.pk)
    history = list(subscription.history.select_related("history_user")[:HISTORY_ROWS])
    now = timezone.now()
    secrets = [
        {"created_at": s.created_at, "expires_at": s.expires_at, "hint": s.secret[:10] + "…"}
        for s in SigningSecret.objects.filter(subscription=subscription)
        if s.expires_at is None or s.expires_at > now
    ]
    context = {"s": subscription, "f": figures, "history": history, "secrets": secrets}
    return render(request, "sync/subscription.html", context)


# -- actions ------------------------------------------------------------------------------------


@require_POST
@ops_view(act=True)
def replay_one(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=pk)
    detail = reverse("sync:delivery", args=[pk])
    if delivery.status not in REPLAYABLE:
        messages.warning(
            request, f"Delivery {pk} is {delivery.status}: only delivered or dead ones replay."
        )
        return redirect(_back(request, detail))
    count = services.replay(services.ReplayFilter(delivery_ids=(pk,)), _actor(request))
    log.info("%s replayed delivery %s", _actor(request), pk)
    messages.success(request, f"Delivery {pk} queued for replay ({count}).")
    return redirect(_back(request, detail))


class ReplayForm(forms.Form):
    """Which deliveries to send again; the fields of services.ReplayFilter."""

    system = forms.ModelChoiceField(
        SourceSystem.objects.filter(subscriptions__isnull=False).distinct().order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="every system",
    )
    domain = forms.ChoiceField(choices=[("", "every domain"), *DOMAIN_CHOICES], required=False)
    status = forms.ChoiceField(
        choices=[("dead", "dead"), ("delivered", "delivered"), ("", "dead and delivered")],
        required=False,
        initial="dead",
    )
    since = forms.DateTimeField(
        required=False,
        help_text="Changes from (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False,
        help_text="Changes before (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            raise forms.ValidationError("“From” must be before “before”.")
        return data

    def replay_filter(self) -> services.ReplayFilter:
        data = self.cleaned_data
        return services.ReplayFilter(
            system=data["system"].code if data["system"] else None,
            domain=data["domain"] or None,
            status=data["status"] or None,
            since=data["since"],
            until=data["until"],
        )


@require_http_methods(["GET", "POST"])
@ops_view()
def replay_many(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST ``preview``: how many match, and a confirm button. POST ``confirm``:
    queue them (steward / admin only)."""
    if request.method == "GET":
        form = ReplayForm(initial={"status": "dead"})
        return render(request, "sync/replay.html", {"form": form})
    if not request.may_decide:  # type: ignore[attr-defined]
        raise PermissionDenied("Replaying deliveries needs the steward or admin role.")
    form = ReplayForm(request.POST)
    if not form.is_valid():
        return render(request, "sync/replay.html", {"form": form}, status=400)
    replay_filter = form.replay_filter()
    if request.POST.get("action") != "confirm":
        by_status = dict(
            services.deliveries_matching(replay_filter)
            .filter(status__in=REPLAYABLE)
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
            .values_list("status", "n")
        )
        context = {
            "form": form,
            "preview": {"total": sum(by_status.values()), "by_status": by_status},
        }
        return render(request, "sync/replay.html", context)
    count = services.replay(replay_filter, _actor(request))
    log.info("%s replayed %s deliveries (%s)", _actor(request), count, replay_filter)
    messages.success(request, f"Queued {count} deliveries for replay.")
    return redirect("sync:dashboard")


@require_POST
@ops_view(act=True)
def set_state(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=pk)
    state = request.POST.get("state", "")
    if state not in (Subscription.State.PAUSED, Subscription.State.ACTIVE):
        messages.error(request, "A subscription is paused or resumed here, nothing else.")
        return redirect(_back(request, reverse("sync:dashboard")))
    verb = "paused" if state == Subscription.State.PAUSED else "resumed"
    reason = request.POST.get("reason", "").strip()[:300] or f"{verb} from the dashboard"
    services.set_state(subscription.pk, state, reason, _origin(request))
    messages.success(request, f"{subscription.name} {verb}.")
    return redirect(_back(request, reverse("sync:dashboard")))
