"""Celery tasks of propagation. Each takes ids, is idempotent and safe to run twice: the state
lives in the database (sync/models.py), messages only say "look now"."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from sync import services
from sync.delivery import deliver_due, reap_expired_leases
from sync.models import Delivery, DeliveryStatus, Subscription

log = logging.getLogger(__name__)

DISPATCH_SECONDS = 20  # a dispatch task hands over to a fresh one after this long


def subscriptions_with_due_deliveries() -> list[int]:
    """Active subscriptions with a delivery due now: one indexed EXISTS per subscription (there
    are few subscriptions and possibly very many pending deliveries)."""
    now = timezone.now()
    due = Delivery.objects.filter(
        subscription_id=OuterRef("pk"), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    return list(
        Subscription.objects.filter(state=Subscription.State.ACTIVE)
        .filter(Exists(due))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@shared_task(name="sync.dispatch")
def dispatch(subscription_id: int | None = None) -> int:
    """Deliver what is due, a batch per subscription in turn (the one that woke the task first),
    until nothing is due, then stop; after DISPATCH_SECONDS hand over to a fresh task so the
    queue stays fair. Taking turns keeps one subscription's large backlog (a re-sync) from
    starving the others. Several tasks may run at once: each claims other deliveries."""
    started = time.monotonic()
    attempted = 0
    while True:
        due = subscriptions_with_due_deliveries()
        if subscription_id in due:
            due.remove(subscription_id)
            due.insert(0, subscription_id)
        round_attempted = sum(deliver_due(pk) for pk in due)
        attempted += round_attempted
        if round_attempted == 0:
            return attempted
        if time.monotonic() - started > DISPATCH_SECONDS:
            dispatch.delay()
            return attempted


@shared_task(name="sync.sweep")
def sweep() -> list[int]:
    """The safety net: make deliveries of dead workers due again and wake a worker for every
    active subscription with something due, whether or not a message was lost."""
    reap_expired_leases()
    subscription_ids = subscriptions_with_due_deliveries()
    for subscription_id in subscription_ids:
        dispatch.delay(subscription_id)
    return subscription_ids


@shared_task(name="sync.resync")
def resync(subscription_id: int, domain: str, run_key: str | None = None) -> dict:
    subscription = Subscription.objects.get(pk=subscription_id)
    return services.resync(subscription, domain, "resync", run_key)


@shared_task(name="sync.nightly_resync")
def nightly_resync() -> int:
    """Queue one re-sync per active subscription and domain for today; a second run today finds
    each one done already (JobRun's unique key) and sends nothing."""
    today = timezone.now().date().isoformat()
    queued = 0
    for sub in Subscription.objects.filter(state=Subscription.State.ACTIVE):
        for domain in sub.domains:
            resync.delay(sub.pk, domain, today)
            queued += 1
    return queued


@shared_task(name="sync.reconcile")
def reconcile() -> dict:
    report = services.reconcile()
    behind = {k: v for k, v in report.items() if v["lagging"]}
    if behind:
        log.warning("Deliveries lagging behind the SLA: %s", behind)
    return report


@shared_task(name="sync.purge_old_deliveries")
def purge_old_deliveries() -> dict:
    return services.purge_old_deliveries()
