"""Delivering outbox events to subscribers: claim due deliveries, send them, record the outcome.

A worker claims a batch of due deliveries of one subscription (``SELECT … FOR UPDATE SKIP
LOCKED``), marks them ``delivering`` with a lease, sends them concurrently over pooled
connections, then records every attempt and the new state in one transaction. Per (subscription,
golden record) at most one delivery is in flight, and it is the oldest version waiting, so a
subscriber sees a record's versions in order. A worker that dies leaves its lease to expire; the
sweep makes such deliveries due again, and the webhook id (the event id) stays the same, so the
subscriber can drop the duplicate.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import email.utils
import json
import logging
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from golden_records.attributes import Reference
from golden_records.bulk import bulk_insert
from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin, origin_scope, write_history
from golden_records.models import SourceRecord
from sync import transport
from sync.models import (
    DeliveredVersion,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    SigningSecret,
    Subscription,
)

log = logging.getLogger(__name__)
Outcome = DeliveryAttempt.Outcome
DELIVERY_LINK_RULE = "delivery_response"


# -- claiming -----------------------------------------------------------------------------------


def reap_expired_leases(subscription_id: int | None = None) -> int:
    """Deliveries whose worker died mid-send (lease expired) become due again."""
    rows = Delivery.objects.filter(
        status=DeliveryStatus.DELIVERING, lease_until__lte=timezone.now()
    )
    if subscription_id is not None:
        rows = rows.filter(subscription_id=subscription_id)
    return rows.update(status=DeliveryStatus.PENDING, lease_until=None, lease_token=None)


def lease_seconds(batch: int) -> float:
    """How long a claimed batch is its worker's: long enough to send it even when every request
    runs into the timeout (rounds of MDM_DELIVERY_THREADS at once), so a slow endpoint never has
    its deliveries claimed twice; at least MDM_DELIVERY_LEASE_SECONDS."""
    rounds = math.ceil(batch / max(1, settings.MDM_DELIVERY_THREADS))
    worst = rounds * settings.MDM_WEBHOOK_TIMEOUT_SECONDS + 15
    return max(settings.MDM_DELIVERY_LEASE_SECONDS, worst)


def claim(subscription_id: int, limit: int) -> tuple[uuid.UUID, list[Delivery]]:
    """Claim up to ``limit`` due deliveries of an active subscription, oldest version per record."""
    now = timezone.now()
    token = uuid.uuid4()
    in_flight = Delivery.objects.filter(
        subscription_id=subscription_id,
        golden_id=OuterRef("golden_id"),
        status=DeliveryStatus.DELIVERING,
    )
    older_waiting = Delivery.objects.filter(
        subscription_id=subscription_id,
        golden_id=OuterRef("golden_id"),
        status=DeliveryStatus.PENDING,
        version__lt=OuterRef("version"),
    )
    try:
        with transaction.atomic():
            subscription = (
                Subscription.objects.filter(pk=subscription_id, state=Subscription.State.ACTIVE)
                .select_related("system")
                .first()
            )
            if subscription is None:
                return token, []
            rows = list(
                Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                .only("id", "golden_id", "version", "next_attempt_at")
                .filter(
                    subscription_id=subscription_id,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at__lte=now,
                )
                .exclude(Exists(in_flight))
                .annotate(older_waiting=Exists(older_waiting))
                # the due index's order: the scan stops after the limit, however long the
                # backlog (a sort on more columns would read all of it on every claim)
                .order_by("next_attempt_at")[: limit * 2]
            )
            chosen: dict[uuid.UUID, Delivery] = {}
            for row in rows:  # one per record: its oldest waiting version
                current = chosen.get(row.golden_id)
                if current is None or row.version < current.version:
                    chosen[row.golden_id] = row
            picked = sorted(chosen.values(), key=lambda d: (d.next_attempt_at, d.id))[:limit]
            if not picked:
                return token, []
            _supersede_older(subscription_id, [d for d in picked if d.older_waiting])
            lease_until = now + dt.timedelta(seconds=lease_seconds(len(picked)))
            Delivery.objects.filter(pk__in=[d.pk for d in picked]).update(
                status=DeliveryStatus.DELIVERING, lease_until=lease_until, lease_token=token
            )
    except IntegrityError:
        # Another worker claimed a delivery of the same record at the same moment (only possible
        # after a replay left two versions waiting): leave the batch to the next round.
        return token, []
    claimed = list(
        Delivery.objects.filter(lease_token=token)
        .select_related("event")
        .order_by("next_attempt_at", "id")
    )
    for delivery in claimed:  # one subscription for all: not joined and decoded once a row
        delivery.subscription = subscription
    return token, claimed


def _supersede_older(subscription_id: int, picked: Sequence[Delivery]) -> None:
    """An older version still waiting (for its retry, not due yet) is superseded by the newer
    one about to be sent, so that it does not follow it. Usually record_results has done so
    already; this catches a newer version that committed just after that check."""
    if not picked:
        return
    older = Q()
    for d in picked:
        older |= Q(golden_id=d.golden_id, version__lt=d.version)
    Delivery.objects.filter(
        older, subscription_id=subscription_id, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.SUPERSEDED)


# -- rendering ----------------------------------------------------------------------------------


def subscriber_ids(
    subscription: Subscription, domain: str, golden_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The subscriber's own id for each golden record, where the hub knows one. Where it holds
    several (a merge linked two of its records to one golden record) the one linked first: the
    record that was there before the merge."""
    rows = (
        SourceRecord.objects.filter(
            system_id=subscription.system_id, domain=domain, golden_id__any=list(golden_ids)
        )
        .order_by("golden_id", "-linked_at", "-id")  # dict() keeps the last: the first linked
        .values_list("golden_id", "source_id")
    )
    return dict(rows)


def render(
    delivery: Delivery, their_id: str | None, their_ids: Mapping[str, Mapping[str, str]]
) -> bytes:
    """The body for one subscriber: its field names, its id for the record, the version, and
    for each reference (a price's item, a location's customer) the subscriber's id of the
    referenced record where the hub knows one (``their_ids``: domain -> golden id -> its id)."""
    payload: dict[str, Any] = dict(delivery.event.payload)
    names = delivery.subscription.fields.get(delivery.domain) or {}
    record = payload.pop("record", {})
    references = {}
    for attribute in reference_attributes(delivery.domain):
        if names and attribute.name not in names:
            continue
        golden_id = record.get(attribute.name)
        references[names.get(attribute.name, attribute.name)] = {
            "golden_id": golden_id,
            "id": their_ids.get(attribute.domain, {}).get(golden_id) if golden_id else None,
        }
    if names:
        record = {their: record.get(ours) for ours, their in names.items()}
    if payload.get("survivor_id"):
        survivor = payload["survivor_id"]
        payload["survivor"] = {
            "golden_id": survivor,
            "id": their_ids.get(delivery.domain, {}).get(survivor),
        }
    body = {
        "event_id": str(delivery.event_id),
        **payload,
        "id": their_id,
        "record": record,
        "references": references,
    }
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def their_id_for(delivery: Delivery, their_ids: Mapping[str, Mapping[str, str]]) -> str | None:
    """The subscriber's id for the delivered record: its linked source record, or for a
    merged-away record the one it held before the merge (those moved to the survivor)."""
    their_id = their_ids.get(delivery.domain, {}).get(str(delivery.golden_id))
    held = delivery.event.payload.get("source_records")
    if their_id is None and held:
        system = delivery.subscription.system.code
        their_id = next((r["source_id"] for r in held if r["system"] == system), None)
    return their_id


def reference_attributes(domain: str) -> list[Reference]:
    return [a for a in get_domain(domain).attributes if isinstance(a, Reference)]


def _their_ids(
    subscription: Subscription, deliveries: Sequence[Delivery]
) -> dict[str, dict[str, str]]:
    """The subscriber's ids of the records in the batch and of the records they reference."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for d in deliveries:
        wanted[d.domain].add(str(d.golden_id))
        if d.event.payload.get("survivor_id"):
            wanted[d.domain].add(d.event.payload["survivor_id"])
        record = d.event.payload.get("record", {})
        for attribute in reference_attributes(d.domain):
            if record.get(attribute.name):
                wanted[attribute.domain].add(record[attribute.name])
    return {
        domain: {
            str(golden_id): their_id
            for golden_id, their_id in subscriber_ids(
                subscription, domain, [uuid.UUID(g) for g in golden_ids]
            ).items()
        }
        for domain, golden_ids in wanted.items()
    }


def active_secrets(subscription: Subscription) -> list[str]:
    now = timezone.now()
    return [
        s.secret
        for s in SigningSecret.objects.filter(subscription=subscription).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    ]


# -- sending and recording ----------------------------------------------------------------------


@dataclass
class Sent:
    delivery: Delivery
    started_at: dt.datetime
    result: transport.HttpResult
    their_id: str | None  # the subscriber's id the body carried


def send_batch(deliveries: Sequence[Delivery]) -> list[Sent]:
    if not deliveries:
        return []
    subscription = deliveries[0].subscription
    send = transport.transport_for(subscription)
    secrets = active_secrets(subscription)
    their_ids = _their_ids(subscription, deliveries)

    def send_one(delivery: Delivery) -> Sent:
        their_id = their_id_for(delivery, their_ids)
        body = render(delivery, their_id, their_ids)
        started_at = timezone.now()
        if not secrets:
            result = transport.HttpResult(None, b"", {}, 0, error="no active signing secret")
        else:
            result = send(subscription, str(delivery.event_id), body, secrets)
        return Sent(delivery, started_at, result, their_id)

    threads = max(1, min(settings.MDM_DELIVERY_THREADS, len(deliveries)))
    if threads == 1:
        return [send_one(d) for d in deliveries]
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(send_one, deliveries))


def retry_delay(attempts: int, result: transport.HttpResult) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None: no more attempts."""
    if result.status_code in (429, 503):
        honoured = retry_after_seconds(result.headers.get("Retry-After", ""))
        if honoured is not None:
            return honoured
    schedule = settings.MDM_WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    jitter = settings.MDM_WEBHOOK_RETRY_JITTER
    return base * random.uniform(1 - jitter, 1 + jitter)


def retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date), capped; None if absent."""
    value = value.strip()
    if not value:
        return None
    cap = settings.MDM_WEBHOOK_MAX_RETRY_AFTER_SECONDS
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max(0.0, (when - timezone.now()).total_seconds()), cap)


def _their_new_id(sent: Sent) -> str | None:
    """A 2xx body may carry the subscriber's own id for an active record it did not have
    before (one the body went out without an id for)."""
    if sent.their_id or not sent.result.body:
        return None
    if sent.delivery.event.payload.get("status") != "active":
        return None  # a merged or retired record takes no new cross-reference
    try:
        body = json.loads(sent.result.body)
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:255]
    return None


def record_results(token: uuid.UUID, sent: Sequence[Sent]) -> dict[str, int]:
    """Store attempts and new states in one transaction; returns counts by outcome."""
    counts = {o.value: 0 for o in Outcome}
    if not sent:
        return counts
    subscription = sent[0].delivery.subscription
    now = timezone.now()
    attempts: list[DeliveryAttempt] = []
    delivered: list[Delivery] = []
    same: dict[tuple, list[int]] = defaultdict(list)
    waiting_again: list[int] = []
    gone = False
    with transaction.atomic():
        for item in sent:
            delivery, result = item.delivery, item.result
            number = delivery.attempts + 1
            changes: dict[str, Any] = {
                "attempts": number,
                "last_status_code": result.status_code,
                "lease_until": None,
                "lease_token": None,
            }
            if result.status_code is not None and 200 <= result.status_code < 300:
                outcome = Outcome.DELIVERED
                changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
                delivered.append(delivery)
            elif result.status_code == 410:
                outcome = Outcome.DISABLED
                gone = True
                changes.update(
                    status=DeliveryStatus.PENDING, next_attempt_at=now, last_error="410 Gone"
                )
            else:
                error = result.error or f"HTTP {result.status_code}"
                delay = retry_delay(number, result)
                if delay is None:
                    outcome = Outcome.DEAD
                    changes.update(status=DeliveryStatus.DEAD, last_error=error[:500])
                else:
                    outcome = Outcome.RETRY
                    changes.update(
                        status=DeliveryStatus.PENDING,
                        next_attempt_at=now + dt.timedelta(seconds=delay),
                        last_error=error[:500],
                    )
            counts[outcome] += 1
            attempts.append(
                DeliveryAttempt(
                    delivery=delivery,
                    number=number,
                    started_at=item.started_at,
                    duration_ms=result.duration_ms,
                    status_code=result.status_code,
                    response_excerpt=result.excerpt,
                    error=result.error[:500],
                    outcome=outcome,
                )
            )
            # Rows that change alike are updated together: one UPDATE for a batch that went
            # well (retries differ in their jittered times and go one by one).
            changes.pop("attempts")  # one more than before, for every row
            same[tuple(sorted(changes.items()))].append(delivery.pk)
            if changes["status"] == DeliveryStatus.PENDING:
                waiting_again.append(delivery.pk)
        # Only the holder of the lease moves a delivery on; a worker whose lease expired (and
        # whose delivery was claimed again) still records its attempt.
        for changes_, pks in same.items():
            Delivery.objects.filter(pk__in=pks, lease_token=token).update(
                attempts=F("attempts") + 1, **dict(changes_)
            )
        _supersede_by_newer(waiting_again)
        bulk_insert(DeliveryAttempt, attempts)
        _remember_delivered(subscription, delivered, now)
        delivered_ids = {d.pk for d in delivered}
        _store_their_ids(subscription, [s for s in sent if s.delivery.pk in delivered_ids])
        _update_health(subscription, counts, gone, now)
    return counts


def _supersede_by_newer(delivery_ids: Sequence[int]) -> None:
    """A failed delivery waiting for its retry is superseded by a newer version of its record
    that was queued while it was in flight: otherwise the newer one, due at once, would be
    sent first and the older one after it, and the subscriber would go back a version."""
    if not delivery_ids:
        return
    newer = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        golden_id=OuterRef("golden_id"),
        status=DeliveryStatus.PENDING,
        version__gt=OuterRef("version"),
    )
    Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.PENDING).filter(
        Exists(newer)
    ).update(status=DeliveryStatus.SUPERSEDED)


def _remember_delivered(
    subscription: Subscription, delivered: Sequence[Delivery], now: dt.datetime
) -> None:
    if not delivered:
        return
    newest: dict[uuid.UUID, Delivery] = {}
    for d in delivered:
        if d.golden_id not in newest or d.version > newest[d.golden_id].version:
            newest[d.golden_id] = d
    existing = {
        row.golden_id: row
        for row in DeliveredVersion.objects.select_for_update().filter(
            subscription=subscription, golden_id__any=list(newest)
        )
    }
    new_rows, moved = [], []
    for golden_id, d in newest.items():
        row = existing.get(golden_id)
        if row is None:
            new_rows.append(
                DeliveredVersion(
                    subscription=subscription,
                    domain=d.domain,
                    golden_id=golden_id,
                    version=d.version,
                    delivered_at=now,
                )
            )
        elif d.version > row.version:  # a replayed older version does not move it back
            row.version, row.delivered_at = d.version, now
            moved.append(row)
    DeliveredVersion.objects.bulk_create(new_rows, ignore_conflicts=True)
    DeliveredVersion.objects.bulk_update(moved, ["version", "delivered_at"])


def _store_their_ids(subscription: Subscription, sent: Sequence[Sent]) -> None:
    """Ids the subscriber answered with become its cross-references (a source record of its
    system with no attributes, linked to the golden record), unless the id is already taken."""
    if not sent:
        return
    by_domain: dict[str, list[Sent]] = {}
    for item in sent:
        by_domain.setdefault(item.delivery.domain, []).append(item)
    origin = ChangeOrigin.task("sync.deliver", f"id answered by {subscription.system.code}")
    for domain, items in by_domain.items():
        now = timezone.now()
        fresh: dict[str, SourceRecord] = {}
        for item in items:
            # send_batch looked the known ids up already: no second query per batch here
            their_id = _their_new_id(item)
            if their_id is None or their_id in fresh:
                continue
            fresh[their_id] = SourceRecord(
                system_id=subscription.system_id,
                domain=domain,
                source_id=their_id,
                payload={},
                canonical={},
                references={},
                payload_hash="",
                golden_id=item.delivery.golden_id,
                link_rule=DELIVERY_LINK_RULE,
                linked_at=now,
                received_at=now,
            )
        if not fresh:
            continue
        taken = set(
            SourceRecord.objects.filter(
                system_id=subscription.system_id, domain=domain, source_id__in=list(fresh)
            ).values_list("source_id", flat=True)
        )
        rows = SourceRecord.objects.bulk_create(
            [row for their_id, row in fresh.items() if their_id not in taken]
        )
        write_history(SourceRecord, rows, "+", origin)


def _update_health(
    subscription: Subscription, counts: dict[str, int], gone: bool, now: dt.datetime
) -> None:
    """Track how long the endpoint has been failing; disable it when it is gone (410) or has
    failed without one success for longer than the setting allows. The subscription row is
    locked only when something changes, so workers recording batches do not queue on it."""
    current = Subscription.objects.get(pk=subscription.pk)
    if not _health_changes(current, counts, gone, now)[0]:
        return
    sub = Subscription.objects.select_for_update().get(pk=subscription.pk)
    fields, reason = _health_changes(sub, counts, gone, now)
    if fields:
        if "state" in fields:
            log.warning("Subscription %s disabled: %s", sub.name, reason)
        with origin_scope(ChangeOrigin.task("sync.deliver", reason or "delivery health")):
            sub.save(update_fields=fields)


def _health_changes(
    sub: Subscription, counts: dict[str, int], gone: bool, now: dt.datetime
) -> tuple[list[str], str]:
    """Apply the outcome of a batch to ``sub`` in memory; returns the changed fields and why."""
    fields: list[str] = []
    if counts[Outcome.DELIVERED]:
        if sub.failing_since is not None:
            sub.failing_since = None
            fields.append("failing_since")
    elif (counts[Outcome.RETRY] or counts[Outcome.DEAD]) and sub.failing_since is None:
        sub.failing_since = now
        fields.append("failing_since")
    reason = ""
    if gone:
        reason = "The endpoint answered 410 Gone."
    elif sub.failing_since is not None and (
        (now - sub.failing_since).total_seconds() > settings.MDM_WEBHOOK_DISABLE_AFTER_SECONDS
    ):
        reason = f"Every delivery failed since {sub.failing_since:%Y-%m-%d %H:%M} UTC."
    if reason and sub.state == Subscription.State.ACTIVE:
        sub.state = Subscription.State.DISABLED
        sub.state_reason = reason
        sub.state_changed_at = now
        fields += ["state", "state_reason", "state_changed_at"]
    return fields, reason


def deliver_due(subscription_id: int, limit: int | None = None) -> int:
    """One round for one subscription: claim, send, record. Returns how many were attempted."""
    token, claimed = claim(subscription_id, limit or settings.MDM_DELIVERY_BATCH)
    if not claimed:
        return 0
    sent = send_batch(claimed)
    record_results(token, sent)
    return len(sent)
