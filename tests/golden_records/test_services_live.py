"""Behaviour that needs the real servers: concurrent writers on PostgreSQL, a Celery worker
consuming from Redis."""

import threading
import time

import pytest
from django.db import connections

from golden_records.history import ChangeOrigin
from golden_records.models import Customer, OwnershipRule, SourceRecord
from golden_records.services import ingest_batch
from golden_records.tasks import recompute_golden_records
from tests.conftest import make_system


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_batches_with_one_identifier_make_one_golden_record():
    """Two systems send the same company at the same moment: the domain lock makes the second
    writer see the first one's golden record instead of creating a duplicate."""
    systems = [make_system(code) for code in ("erp", "crm", "ecom", "edi")]
    barrier = threading.Barrier(len(systems))
    errors: list[BaseException] = []

    def send(system):
        try:
            records = [
                {"source_id": f"{system.code}-{i}", "name": f"Company {i}", "duns": f"{i:09d}"}
                for i in range(200)
            ]
            barrier.wait()
            ingest_batch(
                system,
                "customer",
                records,
                "reject_failed",
                ChangeOrigin.source_system(system.code),
            )
        except BaseException as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(s,)) for s in systems]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert SourceRecord.objects.count() == 800
    assert Customer.objects.count() == 200
    per_golden = SourceRecord.objects.values("golden_id").distinct().count()
    assert per_golden == 200


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_task_runs_through_a_redis_worker():
    from celery.contrib.testing.worker import start_worker

    from mdm.celery import app

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
