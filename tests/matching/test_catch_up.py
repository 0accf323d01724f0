"""Catch-up matching: two batches running side by side cannot see each other's new records.

When both bring the same entity with no shared identifier, each creates a golden record. After
a batch commits, its new golden records are matched against records other batches created
around the same time (matching.catch_up): auto-match merges, the review band raises a review,
and running it again changes nothing.
"""

from __future__ import annotations

import contextlib
import threading
from unittest import mock

import pytest
from django.db import connection, connections

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch
from matching import online
from matching.catch_up import RAISED_BY, _unseen, catch_up
from matching.models import MatchDecision, MatchReview
from tests.conftest import make_system
from tests.matching.test_online import NORTHWIND_CRM, NORTHWIND_ERP, NORTHWIND_MUNICH, ZENITH

Customer = GOLDEN_MODELS["customer"]
ORIGIN = ChangeOrigin.command("test")


def send(system: str, source_id: str, payload: dict, hidden: bool = False) -> SourceRecord:
    """Ingest one record; ``hidden``: its batch sees no stored candidate, as when the records
    it would have found were not committed yet."""
    hide = mock.patch.object(online, "_rows_under_keys", return_value=[])
    with hide if hidden else contextlib.nullcontext():
        outcome = ingest_batch(
            make_system(system),
            "customer",
            [{"source_id": source_id, **payload}],
            "reject_all",
            ORIGIN,
        )
    assert not outcome.rejected_all, outcome.records[0].errors
    return SourceRecord.objects.get(system__code=system, source_id=source_id)


def active_goldens() -> set:
    return set(
        Customer.objects.filter(record_status=GoldenStatus.ACTIVE).values_list("pk", flat=True)
    )


@pytest.mark.django_db
class TestCatchUp:
    def test_an_unseen_duplicate_is_merged_into_the_older_golden_record(self):
        erp = send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "0015g00000ABC", NORTHWIND_CRM, hidden=True)
        assert crm.golden_id != erp.golden_id  # the race: two golden records for one company

        counts = catch_up("customer", [crm.pk], None)

        assert counts == {"pairs": 1, "merged": 1, "reviews": 0}
        crm.refresh_from_db()
        assert crm.golden_id == erp.golden_id  # the older one survives
        assert active_goldens() == {erp.golden_id}
        retired = Customer.objects.exclude(pk=erp.golden_id).get()
        assert retired.record_status == GoldenStatus.MERGED
        assert retired.merged_into == erp.golden_id
        latest = retired.history.latest()
        assert latest.actor == RAISED_BY
        assert latest.actor_type == "task"

    def test_running_it_again_changes_nothing(self):
        send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "0015g00000ABC", NORTHWIND_CRM, hidden=True)
        catch_up("customer", [crm.pk], None)
        survivor = Customer.objects.get(record_status=GoldenStatus.ACTIVE)

        assert catch_up("customer", [crm.pk], None) == {
            "pairs": 0,
            "merged": 0,
            "reviews": 0,
        }
        assert Customer.objects.get(pk=survivor.pk).version == survivor.version

    def test_the_review_band_raises_one_review(self):
        erp = send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "A-77", NORTHWIND_MUNICH, hidden=True)
        assert not MatchReview.objects.exists()

        assert catch_up("customer", [crm.pk], None)["reviews"] == 1
        assert catch_up("customer", [crm.pk], None)["reviews"] == 0

        review = MatchReview.objects.get()
        assert review.source_record == crm  # the newer record is under review
        assert review.candidate_record == erp
        assert review.candidate_golden_id == erp.golden_id
        assert review.raised_by == RAISED_BY
        assert review.explanation["comparisons"]
        assert len(active_goldens()) == 2  # nothing merged

    def test_the_older_records_catch_up_finds_the_pair_too(self):
        erp = send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "0015g00000ABC", NORTHWIND_CRM, hidden=True)

        assert catch_up("customer", [erp.pk], None)["merged"] == 1
        crm.refresh_from_db()
        assert crm.golden_id == erp.golden_id
        assert active_goldens() == {erp.golden_id}

    def test_a_golden_record_weighed_lower_than_it_now_scores_is_matched_again(self):
        erp = send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "A-77", NORTHWIND_MUNICH)
        # As if, when the decision was taken, the golden record held only a weaker look-alike
        # (the record that scores now came in a batch the read could not see).
        MatchReview.objects.all().delete()
        decision = MatchDecision.objects.get(source_record=crm)
        decision.candidates = [{"golden_id": str(erp.golden_id), "probability": 0.01}]
        decision.save()

        assert catch_up("customer", [crm.pk], None)["reviews"] == 1
        assert MatchReview.objects.get().candidate_record == erp

    def test_pairs_the_online_decision_weighed_are_left_alone(self):
        send("erp", "100045", NORTHWIND_ERP)
        crm = send("crm", "A-77", NORTHWIND_MUNICH)  # seen: online matching raised the review
        assert MatchReview.objects.count() == 1

        assert catch_up("customer", [crm.pk], None)["pairs"] == 0
        assert MatchReview.objects.count() == 1

    def test_a_different_company_is_not_touched(self):
        send("erp", "100045", NORTHWIND_ERP)
        other = send("crm", "Z-1", ZENITH, hidden=True)

        assert catch_up("customer", [other.pk], None) == {
            "pairs": 0,
            "merged": 0,
            "reviews": 0,
        }
        assert len(active_goldens()) == 2


@pytest.mark.django_db
def test_a_batch_enqueues_its_new_records_where_batches_run_side_by_side(
    django_capture_on_commit_callbacks,
):
    send("erp", "100045", NORTHWIND_ERP)
    with (
        mock.patch("matching.tasks.catch_up.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        other = send("crm", "Z-1", ZENITH)
        linked = send("crm", "0015g00000ABC", NORTHWIND_CRM)
    assert linked.link_rule.startswith("match:")
    if connection.vendor == "postgresql":
        # Each batch's new records, linked or not, once per batch after its commit.
        calls = [c.args for c in delay.call_args_list]
        assert [(c[0], c[1], c[3]) for c in calls] == [
            ("customer", [other.pk], []),
            ("customer", [linked.pk], []),
        ]
        assert all(set(c[2]) == {"xmin", "own"} for c in calls)
    else:  # one write transaction at a time: nothing to catch up
        delay.assert_not_called()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batches_one_after_the_other_leave_nothing_to_catch_up():
    """The snapshot tells what a batch could not see: after sequential batches, nothing."""
    send("erp", "100045", NORTHWIND_ERP)
    send("erp", "200001", ZENITH)
    matcher_snapshots = []
    take = online.Snapshot.current

    def remember():
        snapshot = take()
        matcher_snapshots.append(snapshot)
        return snapshot

    with mock.patch.object(online.Snapshot, "current", side_effect=remember):
        crm = send("crm", "A-77", NORTHWIND_MUNICH)
    [snapshot] = matcher_snapshots
    assert catch_up("customer", [crm.pk], snapshot) == {"pairs": 0, "merged": 0, "reviews": 0}
    earlier = set(SourceRecord.objects.exclude(pk=crm.pk).values_list("pk", flat=True))
    assert _unseen(earlier, snapshot) == set()
    # A record written after that read is one it did not see.
    later = send("edi", "X-1", NORTHWIND_CRM)
    assert _unseen({*earlier, crm.pk, later.pk}, snapshot) == {later.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batches_at_once_end_with_one_golden_record():
    """The race itself: both batches read their candidates before either writes."""
    from mdm.celery import app

    make_system("erp")
    make_system("crm")
    barrier = threading.Barrier(2, timeout=30)
    read = online.OnlineMatcher._stored_candidates

    def read_then_wait(self, exclude):
        found = read(self, exclude)
        barrier.wait()
        return found

    errors: list[BaseException] = []

    def run(system: str, source_id: str, payload: dict) -> None:
        try:
            ingest_batch(
                make_system(system),
                "customer",
                [{"source_id": source_id, **payload}],
                "reject_all",
                ORIGIN,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    app.conf.task_always_eager = True
    try:
        with mock.patch.object(online.OnlineMatcher, "_stored_candidates", read_then_wait):
            threads = [
                threading.Thread(target=run, args=("erp", "100045", NORTHWIND_ERP)),
                threading.Thread(target=run, args=("crm", "0015g00000ABC", NORTHWIND_CRM)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        app.conf.task_always_eager = False
    assert not errors, errors
    assert Customer.objects.count() == 2  # each batch created one
    assert len(active_goldens()) == 1  # the catch-up of the later commit merged them
    goldens = set(SourceRecord.objects.values_list("golden_id", flat=True))
    assert goldens == active_goldens()
