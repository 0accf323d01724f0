"""The transactional outbox: an event row, and one delivery per subscription, with every change.

``record_changes`` is called by the golden-record services (apply_ownership, merge_golden,
unmerge) inside their transaction, so an event exists exactly when its change committed. The
events carry the golden record's full state; a newer version of a record supersedes its pending
(not yet sent) deliveries, so a subscriber receives the newest state without a backlog of
intermediate versions. Workers are woken on commit; the sweep finds anything a lost message left.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from golden_records.bulk import bulk_insert
from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import GoldenRecord
from golden_records.values import golden_attributes
from sync.models import Delivery, DeliveryStatus, EventType, OutboxEvent, Subscription

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventNote:
    """What kind of change a new version is, and what else subscribers need to know about it
    (the survivor of a merge, the records an unmerge split off)."""

    type: str
    extra: Mapping[str, Any] = field(default_factory=dict)


def event_payload(
    domain: str, obj: GoldenRecord, event_type: str, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The full state of a golden record after a change, in the hub's attribute names."""
    spec = get_domain(domain)
    merged_into = getattr(obj, "merged_into", None)
    return {
        "type": event_type,
        "domain": domain,
        "golden_id": str(obj.pk),
        "version": obj.version,
        "status": obj.record_status,
        "merged_into": str(merged_into) if merged_into else None,
        "updated_at": obj.updated_at.isoformat(),
        "record": golden_attributes(obj, spec),
        **(extra or {}),
    }


def subscriptions_for(domain: str) -> list[Subscription]:
    """Every subscription that receives ``domain``, whatever its state: a paused or disabled one
    keeps one pending delivery per record (the newest), sent when it is resumed."""
    return [s for s in Subscription.objects.all() if s.wants(domain)]


def record_changes(
    domain: str,
    changes: Sequence[tuple[GoldenRecord, EventNote]],
    origin: ChangeOrigin,
    when: dt.datetime | None = None,
) -> list[OutboxEvent]:
    """Write one event per changed golden record and its deliveries; must run in a transaction."""
    if not changes:
        return []
    when = when or timezone.now()
    actor = f"{origin.actor_type}:{origin.actor}"
    events = [
        OutboxEvent(
            id=uuid.uuid4(),
            domain=domain,
            golden_id=obj.pk,
            version=obj.version,
            type=note.type,
            payload=event_payload(domain, obj, note.type, note.extra),
            actor=actor,
            created_at=when,
        )
        for obj, note in changes
    ]
    bulk_insert(OutboxEvent, events)  # COPY on PostgreSQL: this runs in every ingest batch
    enqueue_deliveries(events, subscriptions_for(domain), when)
    return events


def enqueue_deliveries(
    events: Sequence[OutboxEvent], subscriptions: Iterable[Subscription], when: dt.datetime
) -> list[Delivery]:
    """One pending delivery of each event per subscription; older pending ones are superseded."""
    subscriptions = list(subscriptions)
    if not events or not subscriptions:
        return []
    golden_ids = list({e.golden_id for e in events})
    Delivery.objects.filter(
        subscription__in=subscriptions,
        golden_id__any=golden_ids,
        status=DeliveryStatus.PENDING,
    ).update(status=DeliveryStatus.SUPERSEDED)
    deliveries = [
        Delivery(
            event=event,
            subscription=subscription,
            domain=event.domain,
            golden_id=event.golden_id,
            version=event.version,
            status=DeliveryStatus.PENDING,
            next_attempt_at=when,
            created_at=when,
        )
        for subscription in subscriptions
        for event in _newest_per_record(events)
    ]
    bulk_insert(Delivery, deliveries)
    active = [s.pk for s in subscriptions if s.state == Subscription.State.ACTIVE]
    if active:
        transaction.on_commit(lambda: wake_workers(active))
    return deliveries


def _newest_per_record(events: Sequence[OutboxEvent]) -> list[OutboxEvent]:
    newest: dict[uuid.UUID, OutboxEvent] = {}
    for event in events:
        if event.golden_id not in newest or event.version > newest[event.golden_id].version:
            newest[event.golden_id] = event
    return list(newest.values())


def wake_workers(subscription_ids: Iterable[int]) -> None:
    """The fast path: ask a worker to deliver now. If the broker is down the sweep does it later,
    so a failure here is logged, never raised into the change that committed."""
    from sync.tasks import dispatch

    for subscription_id in subscription_ids:
        try:
            dispatch.delay(subscription_id)
        except Exception:
            log.warning("Could not wake a delivery worker for subscription %s", subscription_id)


def snapshot_events(
    domain: str, objs: Sequence[GoldenRecord], subscription: Subscription, reason: str
) -> list[OutboxEvent]:
    """Full-state events of records as they are now, delivered to one subscription only (re-sync,
    reconciliation). Their type is ``snapshot``: no change happened, the subscriber catches up."""
    when = timezone.now()
    events = [
        OutboxEvent(
            id=uuid.uuid4(),
            domain=domain,
            golden_id=obj.pk,
            version=obj.version,
            type=EventType.SNAPSHOT,
            payload=event_payload(domain, obj, EventType.SNAPSHOT),
            actor=f"task:{reason}",
            created_at=when,
        )
        for obj in objs
    ]
    with transaction.atomic():
        bulk_insert(OutboxEvent, events)
        enqueue_deliveries(events, [subscription], when)
    return events
