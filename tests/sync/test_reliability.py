"""Propagation under failure, with real processes: two Celery workers (solo pool) and beat on a
private Redis server, the reference receiver, and pytest-django's PostgreSQL test database, which
the workers reach through the same DATABASE_URL. Workers are killed with SIGKILL, the broker is
flushed and restarted, the receiver fails and hangs; every delivery must still arrive, once
applied, with duplicates under the same webhook-id, and no version going backwards.

Tests here create data in committed transactions (``transaction=True``): the workers are other
processes and see only what is committed.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid

import pytest
from django.db.models import Count

import sync.tasks
from golden_records.history import ChangeOrigin
from golden_records.models import Customer
from golden_records.services import ingest_batch
from sync import signing
from sync.models import Delivery, DeliveryAttempt, OutboxEvent, Subscription
from sync.receiver import read_records
from sync.services import create_subscription
from tests.conftest import make_system
from tests.sync.reliability import (
    Cluster,
    database_url,
    ordering_violations,
    receiver_requests,
    wait_until,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCHEDULE = [0.2, 0.5, 1.0, 2.0, 2.0, 2.0]
JITTER = 0.1
SWEEP_SECONDS = 1.0
TIMEOUT_SECONDS = 1.0
SECRET = signing.new_secret()
ENV = {
    "MDM_WEBHOOK_RETRY_SCHEDULE": ",".join(str(s) for s in SCHEDULE),
    "MDM_WEBHOOK_RETRY_JITTER": str(JITTER),
    "MDM_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
    "MDM_DELIVERY_LEASE_SECONDS": "3",
    "MDM_SWEEP_SECONDS": str(SWEEP_SECONDS),
}
ORIGIN = ChangeOrigin.source_system("erp")
KILLS = 12


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    cluster = Cluster(url, tmp_path_factory.mktemp("reliability"), SECRET, env_overrides=ENV)
    try:
        cluster.start()
        _app, dispatch = cluster.sender()
        with pytest.MonkeyPatch.context() as patch:
            # This process wakes the workers on the private Redis, like the hub would.
            patch.setattr(sync.tasks, "dispatch", dispatch)
            yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def hub(cluster, request):
    """Workers running, faults off, and a channel (URL path) of the receiver per test."""
    cluster.ensure_workers()
    cluster.faults(enabled=False, fail_rate=0, hang_seconds=0)
    hub = Hub(cluster, request.node.name)
    yield hub
    cluster.faults(enabled=False)
    # pytest-django empties the tables after the test (TRUNCATE): workers still claiming and
    # recording could deadlock with it. They are killed (the next test starts them again).
    for name in cluster.worker_names():
        cluster.processes[name].kill()


class Hub:
    def __init__(self, cluster: Cluster, test: str):
        self.cluster = cluster
        self.test = test
        self.channels: dict[int, str] = {}

    def subscribe(self, *names: str) -> list[Subscription]:
        subs = []
        for name in names:
            channel = f"/{self.test}/{name}"
            sub = create_subscription(
                make_system(name),
                f"{self.test}-{name}",
                self.cluster.receiver_url + channel,
                ["customer"],
                secret=SECRET,
            )
            self.channels[sub.pk] = channel
            subs.append(sub)
        return subs

    def requests(self) -> list[dict]:
        return receiver_requests(self.cluster.store, self.channels.values())

    def undelivered(self) -> int:
        return Delivery.objects.exclude(status="delivered").count()

    def wait_delivered(self, expected: int, timeout: float) -> None:
        wait_until(
            lambda: (
                Delivery.objects.filter(status="delivered").count() == expected
                and not self.undelivered()
            ),
            timeout,
            f"{expected} deliveries delivered",
            interval=0.5,
        )

    def check_receiver_has_everything(self) -> dict[str, int]:
        """Every delivery applied exactly once at its channel under its event id, duplicates
        only under the same id, no version going backwards. Returns the outcome counts."""
        requests = self.requests()
        accepted: dict[tuple[str, str], int] = {}
        counts: dict[str, int] = {}
        for r in requests:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
            if r["outcome"] == "accepted":
                key = (r["channel"], r["webhook_id"])
                accepted[key] = accepted.get(key, 0) + 1
        wanted = {
            (self.channels[sub_id], str(event_id))
            for sub_id, event_id in Delivery.objects.values_list("subscription_id", "event_id")
        }
        assert set(accepted) == wanted
        assert set(accepted.values()) == {1}
        assert ordering_violations(requests) == []
        return counts


def make_changes(count: int, prefix: str) -> None:
    """``count`` new customers from ERP (one golden change each), in batches of 1,000."""
    erp = make_system("erp")
    for start in range(0, count, 1000):
        records = [
            {"source_id": f"{prefix}{i}", "name": f"{prefix} {uuid.uuid4().hex[:12]}"}
            for i in range(start, min(count, start + 1000))
        ]
        outcome = ingest_batch(erp, "customer", records, "reject_failed", ORIGIN)
        assert not outcome.rejected_all


def test_killing_workers_again_and_again_loses_nothing(hub):
    """5,000 changes x 2 subscriptions while a worker is killed (SIGKILL) every second or two."""
    subs = hub.subscribe("ecom", "crm")
    rng = random.Random(5)
    stop = threading.Event()
    kills: list[tuple[str, int]] = []

    def killer() -> None:
        while not stop.wait(rng.uniform(1.0, 2.5)) and len(kills) < KILLS:
            in_flight = Delivery.objects.filter(status="delivering").count()
            name = hub.cluster.kill_worker(rng)
            kills.append((name, in_flight))
            hub.cluster.processes[name].start()

    thread = threading.Thread(target=killer)
    started = time.monotonic()
    thread.start()
    try:
        make_changes(5000, "K")
        wait_until(lambda: not hub.undelivered() or len(kills) >= KILLS, 120, "the kills")
    finally:
        stop.set()
        thread.join()
    hub.wait_delivered(10_000, 120)
    seconds = time.monotonic() - started
    assert OutboxEvent.objects.count() == 5000
    assert Delivery.objects.filter(subscription__in=subs).count() == 10_000
    counts = hub.check_receiver_has_everything()
    assert counts["accepted"] == 10_000
    assert len(kills) >= 5 and any(in_flight for _, in_flight in kills)
    print(f"\n{len(kills)} kills, {counts} in {seconds:.0f} s")


def test_a_flushed_broker_loses_nothing(hub):
    """A backlog waits in Redis (no worker running); Redis is flushed; started workers get
    everything from the database through the sweep."""
    hub.subscribe("ecom", "crm")
    for name in hub.cluster.worker_names():
        hub.cluster.processes[name].kill()
    make_changes(1000, "F")
    redis = hub.cluster.redis()
    assert redis.llen("celery") > 0  # the wake-up messages wait
    redis.flushall()
    assert redis.llen("celery") == 0
    hub.cluster.ensure_workers()
    hub.wait_delivered(2000, 60)
    assert hub.check_receiver_has_everything()["accepted"] == 2000


def test_a_restarted_broker_loses_nothing(hub):
    """Redis is killed while workers deliver a backlog and comes back empty a second later."""
    hub.subscribe("ecom", "crm")
    make_changes(1200, "R")
    wait_until(
        lambda: Delivery.objects.filter(status="delivered").count() > 100, 30, "delivery to start"
    )
    hub.cluster.restart_redis(down_seconds=1.0)
    assert hub.undelivered() > 0  # the outage hit a backlog
    hub.wait_delivered(2400, 90)
    assert hub.check_receiver_has_everything()["accepted"] == 2400
    assert all(hub.cluster.processes[n].alive for n in hub.cluster.worker_names())


def test_an_endpoint_failing_for_a_while_gets_everything_on_schedule(hub):
    hub.cluster.faults(enabled=True, fail_rate=1, fail_status=500)
    hub.subscribe("ecom", "crm")
    make_changes(20, "E")
    wait_until(
        lambda: not Delivery.objects.filter(attempts__lt=4).exists(), 30, "four failed attempts"
    )
    hub.cluster.faults(enabled=False)
    hub.wait_delivered(40, 30)
    hub.check_receiver_has_everything()
    attempts = list(DeliveryAttempt.objects.order_by("delivery_id", "number"))
    by_delivery: dict[int, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    for rows in by_delivery.values():
        assert [a.number for a in rows] == list(range(1, len(rows) + 1))
        assert [a.outcome for a in rows] == ["retry"] * (len(rows) - 1) + ["delivered"]
        assert all(a.status_code == 500 for a in rows[:-1])
        for before, after in itertools.pairwise(rows):
            planned = SCHEDULE[before.number - 1]
            ended = before.started_at.timestamp() + before.duration_ms / 1000
            gap = after.started_at.timestamp() - ended
            # never early; late by at most a sweep period and a round of work
            assert (
                planned * (1 - JITTER) - 0.005 <= gap <= planned * (1 + JITTER) + SWEEP_SECONDS + 2
            )


def test_a_hanging_endpoint_times_out_and_the_retry_is_a_duplicate(hub):
    hub.cluster.faults(enabled=True, hang_seconds=TIMEOUT_SECONDS * 2.5, hang_rate=1)
    hub.subscribe("ecom")
    make_changes(3, "H")
    wait_until(
        lambda: DeliveryAttempt.objects.filter(error__startswith="timeout").count() >= 3,
        20,
        "three timeouts",
    )
    hub.cluster.faults(enabled=False)
    hub.wait_delivered(3, 20)
    for attempt in DeliveryAttempt.objects.filter(number=1):
        assert attempt.status_code is None and attempt.outcome == "retry"
        assert attempt.error == f"timeout after {TIMEOUT_SECONDS:g} s"
        assert TIMEOUT_SECONDS * 900 <= attempt.duration_ms < TIMEOUT_SECONDS * 2000
    # The hung requests are applied when their hang ends: after the retries, so as duplicates
    # (the same webhook-id) of what the retries brought.
    wait_until(
        lambda: sum(r["outcome"] == "stale" for r in hub.requests()) >= 3, 10, "the hung requests"
    )
    assert hub.check_receiver_has_everything() == {"accepted": 3, "stale": 3}


def test_quick_versions_under_random_failures_end_on_the_newest(hub):
    """100 versions of one record, sent while 30% of the requests fail: the receiver ends on
    the newest one and the hub never sent an older version after a newer one was taken."""
    hub.cluster.faults(enabled=True, fail_rate=0.3, fail_status=500)
    subs = hub.subscribe("ecom", "crm")
    erp = make_system("erp")
    for i in range(100):
        record = {"source_id": "Q1", "name": f"Quick {i}", "credit_limit": str(1000 + i)}
        ingest_batch(erp, "customer", [record], "reject_failed", ORIGIN)
    golden = Customer.objects.get()
    assert golden.version == 100

    def newest_everywhere() -> bool:
        records = read_records(hub.cluster.store)
        return all(
            records.get((hub.channels[s.pk], str(golden.pk)), {}).get("version") == 100
            for s in subs
        )

    wait_until(newest_everywhere, 60, "version 100 at the receiver", interval=0.3)
    hub.cluster.faults(enabled=False)
    records = read_records(hub.cluster.store)
    for sub in subs:
        assert '"name":"Quick 99"' in records[hub.channels[sub.pk], str(golden.pk)]["body"]
    requests = hub.requests()
    assert ordering_violations(requests) == []
    assert any(r["outcome"] == "failed" for r in requests)
    statuses = dict(
        Delivery.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    assert statuses.get("delivered", 0) >= 2 and "dead" not in statuses
