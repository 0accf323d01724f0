"""Every write to subscriptions and deliveries that is not a delivery attempt goes through here:
pause, resume, secret rotation, replay, re-sync, reconciliation and retention. Each runs in one
transaction and is safe to repeat."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from golden_records.domains import DOMAINS, get_domain
from golden_records.history import ChangeOrigin, origin_scope
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceSystem
from sync.models import (
    DeliveredVersion,
    Delivery,
    DeliveryStatus,
    JobRun,
    OutboxEvent,
    SigningSecret,
    Subscription,
)
from sync.outbox import snapshot_events, wake_workers
from sync.signing import new_secret

RESYNC_CHUNK = 1000


class SyncError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def create_subscription(
    system: SourceSystem,
    name: str,
    endpoint_url: str,
    domains: Iterable[str],
    fields: dict[str, dict[str, str]] | None = None,
    secret: str | None = None,
    origin: ChangeOrigin | None = None,
) -> Subscription:
    """A new active webhook subscription with one signing secret."""
    domains = list(dict.fromkeys(domains))
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown or not domains:
        raise SyncError("invalid_domains", f"Domains must be some of {', '.join(DOMAINS)}.")
    for domain, names in (fields or {}).items():
        if domain not in domains:
            raise SyncError("invalid_fields", f"Field names given for {domain}, not subscribed.")
        known = {a.name for a in get_domain(domain).attributes}
        bad = [a for a in names if a not in known]
        if bad:
            raise SyncError("invalid_fields", f"Unknown {domain} attributes: {', '.join(bad)}.")
    origin = origin or ChangeOrigin.command("create_subscription")
    with transaction.atomic(), origin_scope(origin):
        subscription = Subscription.objects.create(
            system=system,
            name=name,
            endpoint_url=endpoint_url,
            domains=domains,
            fields=fields or {},
        )
        SigningSecret.objects.create(subscription=subscription, secret=secret or new_secret())
    return subscription


def set_state(subscription_id: int, state: str, reason: str, origin: ChangeOrigin) -> Subscription:
    """Pause, resume (active) or disable a subscription. Resuming clears the failure streak and
    wakes a worker for what waited meanwhile."""
    if state not in Subscription.State.values:
        raise SyncError("invalid_state", f"State must be one of {', '.join(Subscription.State)}.")
    with transaction.atomic(), origin_scope(origin.with_reason(reason)):
        sub = Subscription.objects.select_for_update().get(pk=subscription_id)
        if sub.state == state:
            return sub
        sub.state = state
        sub.state_reason = reason
        sub.state_changed_at = timezone.now()
        if state == Subscription.State.ACTIVE:
            sub.failing_since = None
            transaction.on_commit(lambda: wake_workers([sub.pk]))
        sub.save(update_fields=["state", "state_reason", "state_changed_at", "failing_since"])
    return sub


def rotate_secret(
    subscription_id: int, overlap: dt.timedelta = dt.timedelta(hours=24)
) -> SigningSecret:
    """Add a new signing secret; the current ones keep signing for ``overlap``, then expire."""
    with transaction.atomic():
        sub = Subscription.objects.select_for_update().get(pk=subscription_id)
        expires = timezone.now() + overlap
        SigningSecret.objects.filter(subscription=sub, expires_at__isnull=True).update(
            expires_at=expires
        )
        return SigningSecret.objects.create(subscription=sub, secret=new_secret())


@dataclass(frozen=True)
class ReplayFilter:
    system: str | None = None
    domain: str | None = None
    status: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    delivery_ids: tuple[int, ...] = ()


def deliveries_matching(f: ReplayFilter) -> QuerySet[Delivery]:
    rows = Delivery.objects.all()
    if f.delivery_ids:
        rows = rows.filter(pk__in=f.delivery_ids)
    if f.system:
        rows = rows.filter(subscription__system__code=f.system)
    if f.domain:
        rows = rows.filter(domain=f.domain)
    if f.status:
        rows = rows.filter(status=f.status)
    if f.since:
        rows = rows.filter(created_at__gte=f.since)
    if f.until:
        rows = rows.filter(created_at__lt=f.until)
    return rows


def replay(f: ReplayFilter, actor: str) -> int:
    """Send the chosen deliveries again (same event, so the same webhook-id). Only deliveries
    that are finished (delivered or dead) are replayed; pending ones are due anyway, and a
    delivery superseded by a newer version is not worth sending. Returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        rows = deliveries_matching(f).filter(
            status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.DEAD]
        )
        subscription_ids = set(rows.values_list("subscription_id", flat=True).distinct())
        count = rows.update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            replayed_at=now,
            replayed_by=actor[:150],
            last_error="",
        )
        if subscription_ids:
            transaction.on_commit(lambda: wake_workers(subscription_ids))
    return count


def resync(
    subscription: Subscription, domain: str, reason: str, run_key: str | None = None
) -> dict[str, Any]:
    """Send every active golden record of ``domain`` to one subscription as it is now.

    With ``run_key`` (the nightly job's period) a second run for the same key does nothing.
    Records the subscriber already has in their current version are skipped.
    """
    if not subscription.wants(domain):
        raise SyncError("not_subscribed", f"{subscription.name} does not receive {domain}.")
    if run_key is not None:
        try:
            with transaction.atomic():
                run = JobRun.objects.create(
                    job="resync", key=f"{subscription.pk}:{domain}:{run_key}"
                )
        except IntegrityError:
            return {"skipped": True, "sent": 0}
    model = GOLDEN_MODELS[domain]
    have = DeliveredVersion.objects.filter(
        subscription=subscription, golden_id=OuterRef("pk"), version__gte=OuterRef("version")
    )
    query = (
        model.objects.filter(record_status=GoldenStatus.ACTIVE).exclude(Exists(have)).order_by("pk")
    )
    sent = 0
    after: uuid.UUID | None = None
    while True:
        chunk = query.filter(pk__gt=after) if after else query
        objs = list(chunk[:RESYNC_CHUNK])
        if not objs:
            break
        snapshot_events(domain, objs, subscription, reason)
        sent += len(objs)
        after = objs[-1].pk
    result = {"skipped": False, "sent": sent}
    if run_key is not None:
        JobRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), result=result)
    return result


def lagging(subscription: Subscription, domain: str, sla_seconds: float) -> QuerySet:
    """Active golden records of ``domain`` the subscriber has in an older version (or not at all)
    although their current version is older than the SLA."""
    model = GOLDEN_MODELS[domain]
    cutoff = timezone.now() - dt.timedelta(seconds=sla_seconds)
    delivered = DeliveredVersion.objects.filter(subscription=subscription, golden_id=OuterRef("pk"))
    return (
        model.objects.filter(record_status=GoldenStatus.ACTIVE, updated_at__lt=cutoff)
        .annotate(delivered_version=Subquery(delivered.values("version")[:1]))
        .exclude(delivered_version__gte=F("version"))
    )


def reconcile(sla_seconds: float | None = None) -> dict[str, dict[str, int]]:
    """Per active subscription and domain: how many records lag behind longer than the SLA, and
    how many of those had nothing waiting for them (they get a snapshot now)."""
    sla = settings.MDM_DELIVERY_LAG_SLA_SECONDS if sla_seconds is None else sla_seconds
    report: dict[str, dict[str, int]] = {}
    for sub in Subscription.objects.filter(state=Subscription.State.ACTIVE):
        for domain in sub.domains:
            behind = lagging(sub, domain, sla)
            waiting = Delivery.objects.filter(
                subscription=sub,
                golden_id=OuterRef("pk"),
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.DELIVERING],
            )
            lost = list(behind.exclude(Exists(waiting))[:RESYNC_CHUNK])
            if lost:
                snapshot_events(domain, lost, sub, "reconcile")
            report[f"{sub.name}/{domain}"] = {"lagging": behind.count(), "repaired": len(lost)}
    JobRun.objects.create(
        job="reconcile", key=timezone.now().isoformat(timespec="seconds"), result=report
    )
    return report


def purge_old_deliveries(days: int | None = None) -> dict[str, int]:
    """Drop finished deliveries, their attempts, and events without deliveries, older than the
    retention (at least 30 days)."""
    days = max(30, days or settings.MDM_DELIVERY_RETENTION_DAYS)
    cutoff = timezone.now() - dt.timedelta(days=days)
    finished = [DeliveryStatus.DELIVERED, DeliveryStatus.SUPERSEDED, DeliveryStatus.DEAD]
    with transaction.atomic():
        old = Delivery.objects.filter(status__in=finished, created_at__lt=cutoff)
        _, deleted = old.delete()  # with their attempts
        live = Delivery.objects.filter(event_id=OuterRef("pk"))
        events, _ = OutboxEvent.objects.filter(created_at__lt=cutoff).exclude(Exists(live)).delete()
        JobRun.objects.filter(started_at__lt=cutoff).delete()
    return {
        "deliveries": deleted.get("sync.Delivery", 0),
        "attempts": deleted.get("sync.DeliveryAttempt", 0),
        "events": events,
    }
