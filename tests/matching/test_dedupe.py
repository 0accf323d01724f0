"""dedupe: batch re-match of a domain, with stable golden ids and the chaining guard."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import call_command

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch, resolve_golden_id, unmerge
from matching.dedupe import run_inline, start_run
from matching.models import DedupeRun, MatchReview, ReviewStatus
from matching.reviews import resolve_review
from matching.rule_versions import active_rules, save_rule_version
from matching.rules import Thresholds
from tests.conftest import make_system

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
ORIGIN = ChangeOrigin.command("test")

ACME = [
    {
        "source_id": "C-1",
        "name": "Acme Corporation",
        "address_line1": "12 Main Street",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
        "phone": "+1 217 555 0100",
    },
    {
        "source_id": "C-2",
        "name": "ACME Corp.",
        "address_line1": "12 Main St",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
        "phone": "(217) 555-0100",
    },
    {
        "source_id": "C-3",
        "name": "Acme Corp",
        "address_line1": "12 Main St.",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
    },
]
OTHER = {
    "source_id": "C-9",
    "name": "Zenith Plumbing Supply",
    "address_line1": "400 Oak Ave",
    "city": "Springfield",
    "postal_code": "62702",
    "country": "US",
}


def ingest_without_linking(records, system="crm"):
    """Ingest under rules that never auto-link, as if the records came before good rules."""
    default = active_rules("customer")
    strict = replace(default, thresholds=Thresholds(auto_match=1.1, review=1.1, cluster_guard=0.5))
    save_rule_version(strict, created_by="test", note="no linking")
    ingest_batch(make_system(system), "customer", records, "reject_all", ORIGIN)
    save_rule_version(default, created_by="test", note="back to defaults")


def goldens(*source_ids):
    return {SourceRecord.objects.get(source_id=s).golden_id for s in source_ids}


def test_dedupe_merges_duplicates_into_the_oldest_golden_record():
    ingest_without_linking([*ACME, OTHER])
    assert Customer.objects.count() == 4
    oldest = min(goldens("C-1", "C-2", "C-3"), key=lambda g: g.int)
    ids_before = goldens("C-1", "C-2", "C-3")

    run = run_inline(start_run("customer", "test"))

    assert run.status == DedupeRun.Status.DONE
    assert goldens("C-1", "C-2", "C-3") == {oldest}
    assert goldens("C-9") != {oldest}
    # Every old id still resolves, to the survivor.
    assert {resolve_golden_id("customer", g) for g in ids_before} == {oldest}
    assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 2
    assert run.counts["golden_records_merged"] == 2


def test_a_second_run_changes_nothing():
    ingest_without_linking([*ACME, OTHER])
    run_inline(start_run("customer", "test"))
    before = dict(SourceRecord.objects.values_list("source_id", "golden_id"))
    versions = dict(Customer.objects.values_list("pk", "version"))

    run = run_inline(start_run("customer", "test", shards=3))

    assert dict(SourceRecord.objects.values_list("source_id", "golden_id")) == before
    assert dict(Customer.objects.values_list("pk", "version")) == versions
    assert run.counts["golden_records_merged"] == 0


def test_shards_give_the_same_result_as_one():
    ingest_without_linking([*ACME, OTHER])
    run = run_inline(start_run("customer", "test", shards=4, dry_run=True))
    single = run_inline(start_run("customer", "test", shards=1, dry_run=True))
    assert run.counts["golden_records_merged"] == single.counts["golden_records_merged"] == 2
    assert run.counts["pairs_scored"] == single.counts["pairs_scored"]
    assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 4  # dry run


def test_never_match_keeps_records_apart_until_a_compared_attribute_changes():
    ingest_without_linking(ACME[:2])
    run_inline(start_run("customer", "test"))
    survivor = SourceRecord.objects.get(source_id="C-1").golden_id
    second = SourceRecord.objects.get(source_id="C-2")
    unmerge("customer", survivor, [second.pk], ORIGIN)

    run = run_inline(start_run("customer", "test"))
    assert run.counts["golden_records_merged"] == 0
    assert len(goldens("C-1", "C-2")) == 2

    # CRM corrects C-2's phone: the steward's decision was about other values.
    ingest_batch(
        make_system("crm"),
        "customer",
        [{**ACME[1], "phone": "+1 217 555 0199"}],
        "reject_all",
        ORIGIN,
    )
    run = run_inline(start_run("customer", "test"))
    assert run.counts["golden_records_merged"] == 1
    assert len(goldens("C-1", "C-2")) == 1


def test_chaining_guard_sends_the_weak_link_to_review():
    # A ~ B and B ~ C strongly, A and C different companies: B must not chain them.
    records = [
        {
            "source_id": "A",
            "name": "Northwind Traders",
            "phone": "+1 312 555 0101",
            "email": "orders@northwind.example",
            "country": "US",
        },
        {
            "source_id": "B",
            "name": "Northwind Traders",
            "phone": "+1 312 555 0101",
            "email": "sales@southwind.example",
            "country": "US",
        },
        {
            "source_id": "C",
            "name": "Southwind Foods",
            "phone": "+1 415 555 0199",
            "email": "sales@southwind.example",
            "country": "US",
        },
    ]
    ingest_without_linking(records)
    run = run_inline(start_run("customer", "test"))
    assert len(goldens("A", "C")) == 2
    assert run.counts["held_apart"] + run.counts["reviews_raised"] >= 1
    assert MatchReview.objects.filter(status=ReviewStatus.OPEN).exists()


def test_reviews_are_not_raised_twice_and_rejections_stick():
    records = [
        {
            "source_id": "R-1",
            "name": "Blue Ridge Supply",
            "city": "Asheville",
            "postal_code": "28801",
            "country": "US",
        },
        {
            "source_id": "R-2",
            "name": "Blue Ridge Supplies",
            "city": "Asheville",
            "postal_code": "28801",
            "country": "US",
            "address_line1": "9 Patton Ave",
        },
    ]
    ingest_without_linking(records)
    default = active_rules("customer")
    # Make the pair a review case: auto-match out of reach, review at 0.5.
    save_rule_version(
        replace(default, thresholds=Thresholds(auto_match=0.999999999, review=0.5)),
        created_by="test",
    )
    run_inline(start_run("customer", "test"))
    open_reviews = MatchReview.objects.filter(status=ReviewStatus.OPEN)
    assert open_reviews.count() == 1
    run_inline(start_run("customer", "test"))
    assert open_reviews.count() == 1

    steward = ChangeOrigin.command("steward-test")
    resolve_review(open_reviews.get().pk, "reject", steward)
    run_inline(start_run("customer", "test"))
    assert MatchReview.objects.filter(status=ReviewStatus.OPEN).count() == 0
    assert len(goldens("R-1", "R-2")) == 2


def test_command_prints_the_outcome(capsys):
    ingest_without_linking([*ACME, OTHER])
    call_command("dedupe", "--domain", "customer", "--shards", "2")
    out = capsys.readouterr().out
    assert "Merged 2 golden records in 1 clusters" in out


def test_command_refuses_a_domain_without_rules():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no match rules"):
        call_command("dedupe", "--domain", "price")


def test_celery_shards_advance_the_run_phase_by_phase(django_capture_on_commit_callbacks):
    from matching import tasks
    from mdm.celery import app

    ingest_without_linking([*ACME, OTHER])
    run = start_run("customer", "test", shards=3)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.start_dedupe(run.pk, run.shards)
    finally:
        app.conf.task_always_eager = False
    run.refresh_from_db()
    assert (run.status, run.phase) == (DedupeRun.Status.DONE, "apply")
    assert run.finished_shards.count() == 6
    assert len(goldens("C-1", "C-2", "C-3")) == 1
    # A redelivered shard message finds its shard done and does nothing.
    assert tasks.dedupe_shard(run.pk, "score", 1) is False
    assert tasks.dedupe_apply(run.pk) == "done"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dedupe_runs_through_a_redis_worker(empty_broker):
    """The shards and the apply step are real messages through the broker: the last shard of
    each phase enqueues the next (after its transaction commits)."""
    import time

    from celery.contrib.testing.worker import start_worker

    from matching import tasks

    app = empty_broker
    ingest_without_linking([*ACME, OTHER])
    run = start_run("customer", "test", shards=2)
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        assert app.connection().transport.driver_type == "redis"
        tasks.start_dedupe(run.pk, run.shards)
        started = time.monotonic()
        while time.monotonic() - started < 30:
            run.refresh_from_db()
            if run.status != DedupeRun.Status.RUNNING:
                break
            time.sleep(0.1)
    assert run.status == DedupeRun.Status.DONE
    assert len(goldens("C-1", "C-2", "C-3")) == 1
