"""Deliveries and attempts with chosen times, for the dashboard, metrics and command tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.utils import timezone

from golden_records.models import SourceSystem
from sync.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    OutboxEvent,
    Subscription,
)
from sync.services import create_subscription
from tests.conftest import make_system


def subscription(
    name: str,
    system: str | SourceSystem = "erp",
    domains: Sequence[str] = ("customer", "item"),
    state: str = Subscription.State.ACTIVE,
    reason: str = "",
) -> Subscription:
    if isinstance(system, str):
        system = make_system(system)
    sub = create_subscription(system, name, f"https://{name}.example.com/hook", list(domains))
    if state != Subscription.State.ACTIVE:
        Subscription.objects.filter(pk=sub.pk).update(
            state=state, state_reason=reason, state_changed_at=timezone.now()
        )
        sub.refresh_from_db()
    return sub


def ago(seconds: float, now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(seconds=seconds)


def delivery(
    sub: Subscription,
    status: str,
    changed: dt.datetime,
    delivered: dt.datetime | None = None,
    attempts: Sequence[tuple[str, dt.datetime]] = (),
    domain: str = "customer",
    replayed_by: str = "",
    last_error: str = "",
) -> Delivery:
    """A delivery of a new event made at ``changed``, with one attempt per (outcome, started)."""
    event = OutboxEvent.objects.create(
        domain=domain,
        golden_id=uuid.uuid4(),
        version=1,
        type=EventType.CREATED,
        payload={"record": {"name": "Acme"}},
        actor="source_system:crm",
        created_at=changed,
    )
    row = Delivery.objects.create(
        event=event,
        subscription=sub,
        domain=domain,
        golden_id=event.golden_id,
        version=1,
        status=status,
        attempts=len(attempts),
        next_attempt_at=changed,
        created_at=changed,
        delivered_at=delivered,
        last_error=last_error,
        last_status_code=500 if last_error else None,
        replayed_by=replayed_by,
        replayed_at=timezone.now() if replayed_by else None,
        lease_token=uuid.uuid4() if status == DeliveryStatus.DELIVERING else None,
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            delivery=row,
            number=number,
            started_at=started,
            duration_ms=120,
            status_code=200 if outcome == "delivered" else 500,
            response_excerpt="" if outcome == "delivered" else "Internal Server Error",
            error="" if outcome == "delivered" else "HTTP 500",
            outcome=outcome,
        )
        for number, (outcome, started) in enumerate(attempts, start=1)
    )
    return row


def seed_figures(now: dt.datetime) -> dict[str, Subscription]:
    """Three subscriptions with known figures (the expectations are in EXPECTED)."""
    erp = subscription("erp-items", "erp")
    ecom = subscription("ecom-all", "ecom", state="paused", reason="ERP maintenance")
    wms = subscription(
        "wms-gone", "wms", state="disabled", reason="The endpoint answered 410 Gone."
    )
    # erp: a backlog of four, the oldest ten minutes old, one of them failed once
    delivery(erp, "pending", ago(600, now))
    delivery(erp, "pending", ago(300, now), attempts=[("retry", ago(240, now))], last_error="x")
    delivery(erp, "pending", ago(60, now))
    delivery(erp, "delivering", ago(120, now))
    # two dead: one failed within the hour, one earlier in the day
    delivery(
        erp,
        "dead",
        ago(3600, now),
        attempts=[("retry", ago(3000, now)), ("dead", ago(1800, now))],
        last_error="HTTP 500",
    )
    delivery(
        erp,
        "dead",
        ago(4 * 3600, now),
        attempts=[("retry", ago(3 * 3600, now)), ("dead", ago(2 * 3600, now))],
        last_error="HTTP 503",
    )
    # ten delivered within the hour, 1…10 seconds after their change
    for i in range(1, 11):
        at = ago(60 * i, now)
        delivery(erp, "delivered", at - dt.timedelta(seconds=i), at, [("delivered", at)])
    # a replay delivered within the hour: counted as delivered, left out of latency
    at = ago(30, now)
    delivery(erp, "delivered", ago(7200, now), at, [("delivered", at)], replayed_by="steward:x")
    # two delivered earlier today, one two days ago
    for hours in (5, 6, 48):
        at = ago(hours * 3600, now)
        delivery(erp, "delivered", at - dt.timedelta(seconds=2), at, [("delivered", at)])
    # ecom (paused): two waiting, nothing sent
    delivery(ecom, "pending", ago(7200, now), domain="item")
    delivery(ecom, "pending", ago(100, now), domain="item")
    # wms (disabled by a 410): one waiting after a disabled attempt
    delivery(
        wms, "pending", ago(900, now), attempts=[("disabled", ago(800, now))], last_error="410 Gone"
    )
    return {"erp": erp, "ecom": ecom, "wms": wms}


EXPECTED = {
    "erp-items": {
        "backlog": 4,
        "delivering": 1,
        "oldest": 600,
        "dead": 2,
        "delivered_hour": 11,
        "delivered_day": 13,
        "failed_hour": 3,
        "failed_day": 5,
        "p50": 5.5,
        "p95": 9.55,
        "latency_count": 10,
    },
    "ecom-all": {
        "backlog": 2,
        "delivering": 0,
        "oldest": 7200,
        "dead": 0,
        "delivered_hour": 0,
        "delivered_day": 0,
        "failed_hour": 0,
        "failed_day": 0,
        "p50": None,
        "p95": None,
        "latency_count": 0,
    },
    "wms-gone": {
        "backlog": 1,
        "delivering": 0,
        "oldest": 900,
        "dead": 0,
        "delivered_hour": 0,
        "delivered_day": 0,
        "failed_hour": 1,
        "failed_day": 1,
        "p50": None,
        "p95": None,
        "latency_count": 0,
    },
}
