"""Celery tasks of propagation. Each takes ids, is idempotent and safe to run twice: the state
lives in the database (sync/models.py), messages only say "look now"."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.utils import timezone

from sync import services
from sync.delivery import deliver_due, reap_expired_leases
from sync.models import Delivery, DeliveryStatus, Subscription

log = logging.getLogger(__name__)

DISPATCH_SECONDS = 20  # a dispatch task hands over to a fresh one after this long


@shared_task(name="sync.dispatch")
def dispatch(subscription_id: int) -> int:
    """Deliver what is due for one subscription until nothing is, or hand over after a while
    (short tasks keep the queue fair between subscriptions). Several may run at once: each
    claims other deliveries."""
    started = time.monotonic()
    attempted = 0
    while True:
        count = deliver_due(subscription_id)
        attempted += count
        if count == 0:
            return attempted
        if time.monotonic() - started > DISPATCH_SECONDS:
            dispatch.delay(subscription_id)
            return attempted


@shared_task(name="sync.sweep")
def sweep() -> list[int]:
    """The safety net: make deliveries of dead workers due again and wake a worker for every
    active subscription with something due, whether or not a message was lost."""
    reap_expired_leases()
    due = (
        Delivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__state=Subscription.State.ACTIVE,
        )
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    subscription_ids = sorted(set(due))
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
