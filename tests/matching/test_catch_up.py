"""Catch-up matching: two batches running side by side cannot see each other's new records.

When both bring the same entity with no shared identifier, each creates a golden record. After
a batch commits, its new golden records are matched against records other batches created
around the same time (matching.catch_up): auto-match merges, the review band raises a review,
and running it again changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import itertools
import threading
from unittest import mock

import pytest
from django.db import connection, connections
from django.utils import timezone

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch
from matching import catch_up as catch_up_module
from matching import online
from matching.catch_up import (
    MAX_ATTEMPTS,
    RAISED_BY,
    RETENTION_DAYS,
    _unseen,
    catch_up,
    purge_done,
    run_request,
    sweep,
)
from matching.models import CatchUpRequest, MatchDecision, MatchReview
from tests.conftest import make_system
from tests.matching.test_online import NORTHWIND_CRM, NORTHWIND_ERP, NORTHWIND_MUNICH, ZENITH

Customer = GOLDEN_MODELS["customer"]
ORIGIN = ChangeOrigin.command("test")


def send(system: str, source_id: str, payload: dict, hidden: bool = False) -> SourceRecord:
    """Ingest one record; ``hidden``: its batch sees no stored candidate, as when the records
    it would have found were not committed yet."""
    hide = mock.patch.object(online, "candidate_rows", return_value={})
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
def test_a_batch_writes_a_request_and_enqueues_it_where_batches_run_side_by_side(
    django_capture_on_commit_callbacks,
):
    first = send("erp", "100045", NORTHWIND_ERP)
    with (
        mock.patch("matching.tasks.catch_up.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        other = send("crm", "Z-1", ZENITH)
        linked = send("crm", "0015g00000ABC", NORTHWIND_CRM)
    assert linked.link_rule.startswith("match:")
    requests = list(CatchUpRequest.objects.exclude(record_ids=[first.pk]).order_by("pk"))
    if connection.vendor == "postgresql":
        # Each batch's new records, linked or not: a request row per batch, run after commit.
        assert [(r.domain, r.record_ids, r.written) for r in requests] == [
            ("customer", [other.pk], []),
            ("customer", [linked.pk], []),
        ]
        assert all(r.snapshot_xmin and r.done_at is None for r in requests)
        assert [c.args for c in delay.call_args_list] == [(r.pk,) for r in requests]
    else:  # one write transaction at a time: nothing to catch up
        assert requests == []
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


# The same company as a web shop account: no legal form, street spelt out another way.
NORTHWIND_ECOM = {
    "name": "Northwind Traders",
    "address_line1": "Friedrichstraße 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "phone": "030 23456789",
}


def three_way_split(**tax_ids: str) -> tuple[SourceRecord, SourceRecord, SourceRecord]:
    """One company sent by three systems whose batches could not see each other."""
    erp = send("erp", "100045", {**NORTHWIND_ERP, **_tax("erp", tax_ids)})
    crm = send("crm", "0015g00000ABC", {**NORTHWIND_CRM, **_tax("crm", tax_ids)}, hidden=True)
    ecom = send("ecom", "WEB-77", NORTHWIND_ECOM, hidden=True)
    assert len({erp.golden_id, crm.golden_id, ecom.golden_id}) == 3
    CatchUpRequest.objects.all().delete()  # the batches' own (PostgreSQL): each test makes its
    return erp, crm, ecom


def _tax(system: str, tax_ids: dict[str, str]) -> dict[str, str]:
    return {"tax_id": tax_ids[system]} if system in tax_ids else {}


@pytest.mark.django_db
class TestSplitsOfMoreThanTwo:
    def test_a_three_way_split_merges_into_the_oldest_golden_record(self):
        """The finding: a record strongly matching two golden records became a review."""
        erp, _crm, ecom = three_way_split()

        counts = catch_up("customer", [ecom.pk], None)

        assert counts["merged"] == 2
        assert counts["reviews"] == 0
        assert active_goldens() == {erp.golden_id}
        assert set(SourceRecord.objects.values_list("golden_id", flat=True)) == {erp.golden_id}
        assert not MatchReview.objects.filter(status="open").exists()

    def test_each_merge_says_which_pairs_made_it(self):
        _erp, crm, ecom = three_way_split()
        catch_up("customer", [ecom.pk], None)

        for retired_id in (crm.golden_id, ecom.golden_id):
            latest = Customer.objects.get(pk=retired_id).history.latest()
            assert latest.actor == RAISED_BY
            assert "3 golden records of one entity" in latest.history_change_reason
            assert "ecom:WEB-77 ~ erp:100045 p=" in latest.history_change_reason
            assert "ecom:WEB-77 ~ crm:0015g00000ABC p=" in latest.history_change_reason

    def test_golden_records_with_different_tax_ids_are_left_to_a_steward(self):
        three_way_split(erp="DE136695976", crm="DE129273398")

        counts = catch_up("customer", [ecom_record().pk], None)

        assert counts["merged"] == 0
        assert counts["reviews"] == 2  # the web shop's record against each, for a steward
        assert len(active_goldens()) == 3

    @pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
    def test_whichever_record_catches_up_the_end_state_is_the_same(self, order):
        records = three_way_split()
        for index in order:
            catch_up("customer", [records[index].pk], None)

        assert active_goldens() == {records[0].golden_id}
        assert not MatchReview.objects.exists()


def ecom_record() -> SourceRecord:
    return SourceRecord.objects.get(system__code="ecom", source_id="WEB-77")


def pending_request(*records: SourceRecord) -> CatchUpRequest:
    """A request as a batch writes it; no snapshot: every candidate counts as unseen."""
    return CatchUpRequest.objects.create(
        domain="customer", record_ids=[r.pk for r in records], created_at=timezone.now()
    )


@pytest.mark.django_db
class TestRequests:
    def test_a_request_runs_once(self):
        _, _, ecom = three_way_split()
        request = pending_request(ecom)

        assert run_request(request.pk) == {"pairs": 2, "merged": 2, "reviews": 0}
        assert run_request(request.pk) is None  # a second delivery of its message

        request.refresh_from_db()
        assert request.done_at is not None
        assert request.attempts == 1
        assert request.result["merged"] == 2
        [merge] = request.result["merges"]
        assert {pair["record"] for pair in merge["pairs"]} == {ecom.pk}
        assert len(merge["pairs"]) == 2

    def test_a_run_that_dies_half_way_leaves_nothing_and_the_next_run_completes(self):
        erp, _, ecom = three_way_split()
        request = pending_request(ecom)
        versions = dict(Customer.objects.values_list("pk", "version"))

        with (
            mock.patch("matching.catch_up._raise_reviews", side_effect=SystemExit("killed")),
            pytest.raises(SystemExit),
        ):
            run_request(request.pk)

        request.refresh_from_db()
        assert request.done_at is None and request.attempts == 1
        assert dict(Customer.objects.values_list("pk", "version")) == versions  # rolled back
        assert len(active_goldens()) == 3

        assert run_request(request.pk)["merged"] == 2
        request.refresh_from_db()
        assert request.attempts == 2 and request.done_at is not None
        assert active_goldens() == {erp.golden_id}

    def test_the_sweep_runs_what_is_pending_after_the_grace_period(self):
        erp, _, ecom = three_way_split()
        request = pending_request(ecom)

        assert sweep(grace_seconds=60) == 0  # its message may still be on the way
        assert sweep(grace_seconds=0) == 1
        assert sweep(grace_seconds=0) == 0
        request.refresh_from_db()
        assert request.done_at is not None
        assert active_goldens() == {erp.golden_id}

    def test_old_done_requests_are_forgotten_and_pending_ones_kept(self):
        _, _, ecom = three_way_split()
        old = timezone.now() - dt.timedelta(days=RETENTION_DAYS + 1)
        CatchUpRequest.objects.create(
            domain="customer", record_ids=[ecom.pk], created_at=old, done_at=old
        )
        recent = CatchUpRequest.objects.create(
            domain="customer", record_ids=[ecom.pk], created_at=old, done_at=timezone.now()
        )
        pending = CatchUpRequest.objects.create(
            domain="customer", record_ids=[ecom.pk], created_at=old
        )

        assert purge_done() == 1

        assert set(CatchUpRequest.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}

    def test_the_sweep_leaves_a_request_alone_while_a_run_has_just_started_it(self):
        _, _, ecom = three_way_split()
        request = CatchUpRequest.objects.create(
            domain="customer",
            record_ids=[ecom.pk],
            created_at=timezone.now() - dt.timedelta(seconds=30),
            started_at=timezone.now(),
            attempts=1,
        )

        assert sweep(grace_seconds=10) == 0
        request.started_at = timezone.now() - dt.timedelta(seconds=30)
        request.save()
        assert sweep(grace_seconds=10) == 1  # that run died: the sweep runs it again

    def test_a_request_that_failed_too_often_is_left_to_an_operator(self):
        _, _, ecom = three_way_split()
        request = CatchUpRequest.objects.create(
            domain="customer",
            record_ids=[ecom.pk],
            created_at=timezone.now() - dt.timedelta(seconds=30),
            attempts=MAX_ATTEMPTS,
            error="RuntimeError('poison')",
        )

        assert sweep(grace_seconds=0) == 0
        request.refresh_from_db()
        assert request.done_at is None and request.attempts == MAX_ATTEMPTS

    def test_a_failing_request_does_not_hold_up_the_others(self):
        erp, _, ecom = three_way_split()
        broken = CatchUpRequest.objects.create(
            domain="customer",
            record_ids=[ecom.pk],
            created_at=timezone.now() - dt.timedelta(seconds=30),
        )
        good = pending_request(ecom)
        real = catch_up_module.catch_up

        def fail_first(*args, **kwargs):
            if inspect.signature(real).bind(*args, **kwargs).arguments["request_id"] == broken.pk:
                raise RuntimeError("poison")
            return real(*args, **kwargs)

        with mock.patch.object(catch_up_module, "catch_up", side_effect=fail_first):
            assert sweep(grace_seconds=0) == 1

        broken.refresh_from_db()
        assert broken.done_at is None and "poison" in broken.error
        assert CatchUpRequest.objects.get(pk=good.pk).done_at is not None
        assert active_goldens() == {erp.golden_id}


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_record_linked_across_a_split_hands_it_to_the_catch_up_instead_of_a_review():
    """The ERP and CRM records of one company made two golden records (their batches ran at
    once, their catch-up has not run yet); the web shop's record, seen later, matches both."""
    erp = send("erp", "100045", NORTHWIND_ERP)
    crm = send("crm", "0015g00000ABC", NORTHWIND_CRM, hidden=True)
    CatchUpRequest.objects.all().delete()

    ecom = send("ecom", "WEB-77", NORTHWIND_ECOM)

    assert ecom.link_rule.startswith("match:")
    assert not MatchReview.objects.exists()  # no steward task for a split
    request = CatchUpRequest.objects.get()
    assert request.splits == [[ecom.pk, crm.pk if ecom.golden_id == erp.golden_id else erp.pk]]
    run_request(request.pk)
    assert active_goldens() == {erp.golden_id}
