"""Delivery figures per subscription, read from the database: what the operations dashboard shows
and what /metrics exports (sync/views.py, sync/metrics.py compute nothing of their own).

A fixed number of queries whatever the number of subscriptions or deliveries, each bounded by an
index: the backlog and dead deliveries by ``(status, created_at)``, attempts of the last day by
``started_at``, latency by the delivered attempts of the last hour.

* backlog: deliveries ``pending`` or ``delivering``; oldest: the oldest one's ``created_at``
  (the time of the change: a delivery is created with its event);
* delivered / failed in the last hour and day: attempts with outcome ``delivered``, and
  ``retry``, ``dead`` or ``disabled``; a replayed delivery counts once per send;
* latency: ``Delivery.delivered_at - OutboxEvent.created_at`` of the deliveries delivered in the
  last hour, replays left out (their first send is long ago); p50 and p95 interpolated as
  PostgreSQL's ``percentile_cont``, computed in SQL there, in Python over at most
  ``LATENCY_SAMPLE`` rows elsewhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from sync.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Subscription

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
LATENCY_WINDOW = HOUR
LATENCY_SAMPLE = 20_000  # rows read per scrape on databases without percentile_cont

WAITING = [DeliveryStatus.PENDING, DeliveryStatus.DELIVERING]
FAILED_OUTCOMES = [
    DeliveryAttempt.Outcome.RETRY,
    DeliveryAttempt.Outcome.DEAD,
    DeliveryAttempt.Outcome.DISABLED,
]


@dataclass
class SubscriptionFigures:
    """One subscription's state and delivery figures at ``now``."""

    subscription: Subscription
    backlog: int = 0
    delivering: int = 0
    oldest_waiting_at: dt.datetime | None = None
    dead: int = 0
    delivered_hour: int = 0
    delivered_day: int = 0
    failed_hour: int = 0
    failed_day: int = 0
    # attempts of the last day by outcome (delivered, retry, dead, disabled)
    outcomes_day: dict[str, int] = field(default_factory=dict)
    outcomes_hour: dict[str, int] = field(default_factory=dict)
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_count: int = 0
    now: dt.datetime = field(default_factory=timezone.now)

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting_at is None:
            return None
        return max(0.0, (self.now - self.oldest_waiting_at).total_seconds())

    @property
    def needs_attention(self) -> bool:
        return (
            self.subscription.state == Subscription.State.DISABLED
            or self.dead > 0
            or self.subscription.failing_since is not None
        )


def subscription_figures(
    now: dt.datetime | None = None, subscription_id: int | None = None
) -> list[SubscriptionFigures]:
    """Every subscription (or one) with its system and its figures: four queries in all."""
    now = now or timezone.now()
    subscriptions = Subscription.objects.select_related("system").order_by("name")
    deliveries, attempts = Delivery.objects.all(), DeliveryAttempt.objects.all()
    if subscription_id is not None:
        subscriptions = subscriptions.filter(pk=subscription_id)
        deliveries = deliveries.filter(subscription_id=subscription_id)
        attempts = attempts.filter(delivery__subscription_id=subscription_id)
    figures = {s.pk: SubscriptionFigures(s, now=now) for s in subscriptions}
    if not figures:
        return []

    waiting = Q(status__in=WAITING)
    rows = (
        deliveries.filter(status__in=[*WAITING, DeliveryStatus.DEAD])
        .values("subscription_id")
        .annotate(
            backlog=Count("id", filter=waiting),
            delivering=Count("id", filter=Q(status=DeliveryStatus.DELIVERING)),
            oldest=Min("created_at", filter=waiting),
            dead=Count("id", filter=Q(status=DeliveryStatus.DEAD)),
        )
        .order_by()
    )
    for row in rows:
        f = figures.get(row["subscription_id"])
        if f is not None:
            f.backlog, f.delivering, f.dead = row["backlog"], row["delivering"], row["dead"]
            f.oldest_waiting_at = row["oldest"]

    hour_ago = now - HOUR
    outcomes = (
        attempts.filter(started_at__gte=now - DAY)
        .values("delivery__subscription_id", "outcome")
        .annotate(day=Count("id"), hour=Count("id", filter=Q(started_at__gte=hour_ago)))
        .order_by()
    )
    for row in outcomes:
        f = figures.get(row["delivery__subscription_id"])
        if f is None:
            continue
        f.outcomes_day[row["outcome"]] = row["day"]
        f.outcomes_hour[row["outcome"]] = row["hour"]
    for f in figures.values():
        f.delivered_day = f.outcomes_day.get(DeliveryAttempt.Outcome.DELIVERED, 0)
        f.delivered_hour = f.outcomes_hour.get(DeliveryAttempt.Outcome.DELIVERED, 0)
        f.failed_day = sum(f.outcomes_day.get(o, 0) for o in FAILED_OUTCOMES)
        f.failed_hour = sum(f.outcomes_hour.get(o, 0) for o in FAILED_OUTCOMES)

    for subscription_id, (p50, p95, count) in latency_percentiles(now - LATENCY_WINDOW).items():
        f = figures.get(subscription_id)
        if f is not None:
            f.latency_p50, f.latency_p95, f.latency_count = p50, p95, count
    return list(figures.values())


def latency_percentiles(since: dt.datetime) -> dict[int, tuple[float, float, int]]:
    """Per subscription: p50 and p95 of change-to-delivery seconds of the deliveries delivered
    since ``since`` (not replays), and how many there were."""
    if connection.vendor == "postgresql":
        return _latency_percentiles_sql(since)
    rows = (
        DeliveryAttempt.objects.filter(
            outcome=DeliveryAttempt.Outcome.DELIVERED,
            started_at__gte=since,
            delivery__replayed_at__isnull=True,
            delivery__delivered_at__isnull=False,
        )
        .order_by("-started_at")
        .values_list(
            "delivery__subscription_id", "delivery__delivered_at", "delivery__event__created_at"
        )[:LATENCY_SAMPLE]
    )
    by_subscription: dict[int, list[float]] = defaultdict(list)
    for subscription_id, delivered_at, changed_at in rows:
        by_subscription[subscription_id].append((delivered_at - changed_at).total_seconds())
    return {
        sid: (percentile(values, 0.5), percentile(values, 0.95), len(values))
        for sid, values in by_subscription.items()
    }


def _latency_percentiles_sql(since: dt.datetime) -> dict[int, tuple[float, float, int]]:
    attempt, delivery, event = (
        DeliveryAttempt._meta.db_table,
        Delivery._meta.db_table,
        OutboxEvent._meta.db_table,
    )
    seconds = "EXTRACT(EPOCH FROM d.delivered_at - e.created_at)"
    sql = f"""
        SELECT d.subscription_id,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY {seconds}),
               count(*)
        FROM {attempt} a
        JOIN {delivery} d ON d.id = a.delivery_id
        JOIN {event} e ON e.id = d.event_id
        WHERE a.outcome = %s AND a.started_at >= %s
          AND d.replayed_at IS NULL AND d.delivered_at IS NOT NULL
        GROUP BY d.subscription_id
    """  # table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [DeliveryAttempt.Outcome.DELIVERED.value, since])
        return {sid: (float(p50), float(p95), n) for sid, p50, p95, n in cursor.fetchall()}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between the closest ranks, as
    ``percentile_cont`` computes it."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
