"""Behaviour that needs the real servers: concurrent writers on PostgreSQL, a Celery worker
consuming from Redis."""

import threading
import time

import pytest
from django.db import connections

from golden_records.history import ChangeOrigin
from golden_records.models import Customer, OwnershipRule, PendingReference, Price, SourceRecord
from golden_records.services import ingest_batch
from golden_records.tasks import recompute_golden_records
from tests.conftest import make_system


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_batches_with_one_identifier_make_one_golden_record():
    """Two systems send the same company at the same moment: the domain lock makes the second
    writer see the first one's golden record instead of creating a duplicate."""
    systems = [make_system(code) for code in ("erp", "crm", "ecom", "edi")]

    def sender(system):
        records = [
            {"source_id": f"{system.code}-{i}", "name": f"Company {i}", "duns": f"{i:09d}"}
            for i in range(200)
        ]
        origin = ChangeOrigin.source_system(system.code)
        return lambda: ingest_batch(system, "customer", records, "reject_failed", origin)

    _run_concurrently(*[sender(system) for system in systems])
    assert SourceRecord.objects.count() == 800
    assert Customer.objects.count() == 200
    per_golden = SourceRecord.objects.values("golden_id").distinct().count()
    assert per_golden == 200


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_task_runs_through_a_redis_worker(empty_broker):
    from celery.contrib.testing.worker import start_worker

    app = empty_broker

    system = make_system("erp")
    ingest_batch(
        system,
        "customer",
        [{"source_id": "1", "name": "A", "segment": "SMB"}],
        "reject_failed",
        ChangeOrigin.source_system("erp"),
    )
    OwnershipRule.objects.filter(domain="customer", attribute="segment").update(
        strategy="steward_only"
    )
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        # The worker runs in this process, but the message goes through the Redis broker.
        assert app.connection().transport.driver_type == "redis"
        recompute_golden_records.delay("customer")
        start = time.monotonic()
        while Customer.objects.get().segment != "" and time.monotonic() - start < 20:
            time.sleep(0.1)
    assert Customer.objects.get().segment == ""
    assert Customer.objects.get().history.first().actor == "recompute_golden_records"


def _run_concurrently(*jobs):
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_references_resolve_when_item_and_price_batches_race():
    """A price batch and the batch creating its items run at the same moment: every reference
    ends resolved, none stays pending."""
    erp = make_system("erp")
    origin = ChangeOrigin.source_system("erp")
    items = [{"source_id": f"I-{i}", "sku": f"SKU-{i}"} for i in range(300)]
    prices = [
        {
            "source_id": f"P-{i}",
            "item": f"I-{i}",
            "price_list": "LIST",
            "currency": "USD",
            "unit_price": "1.00",
            "valid_from": "2026-01-01",
        }
        for i in range(300)
    ]
    _run_concurrently(
        lambda: ingest_batch(erp, "item", items, "reject_failed", origin),
        lambda: ingest_batch(erp, "price", prices, "reject_failed", origin),
    )
    assert PendingReference.objects.count() == 0
    assert Price.objects.filter(item__isnull=True).count() == 0
    assert Price.objects.count() == 300


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_same_source_records_sent_twice_at_once():
    """Two deliveries of the same records race: one writes, the other sees them as unchanged."""
    erp = make_system("erp")
    origin = ChangeOrigin.source_system("erp")
    records = [{"source_id": f"C-{i}", "name": f"Company {i}"} for i in range(300)]
    outcomes = []
    _run_concurrently(
        *[
            lambda: outcomes.append(ingest_batch(erp, "customer", records, "reject_failed", origin))
            for _ in range(2)
        ]
    )
    assert SourceRecord.objects.count() == 300
    assert Customer.objects.count() == 300
    counts = sorted(tuple(sorted(o.counts.items())) for o in outcomes)
    assert counts == [(("created", 300),), (("unchanged", 300),)]
