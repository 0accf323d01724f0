"""Match reviews resolved by a steward, and the never-match memory behind "not the same".

``resolve_review(merge)`` merges the reviewed record's golden record into the candidate's (the
older id survives, the other resolves to it); ``reject`` remembers "never match" for every pair
of source records across the two golden records, with each side's fingerprint, so the memory
lapses when a compared attribute of either record changes. An unmerge remembers the same.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch, merge_golden, resolve_golden_id, unmerge
from matching import online
from matching.memory import active_never_matches, ordered, remember_never_match
from matching.models import MatchDecision, MatchProfile, MatchReview, NeverMatch, ReviewStatus
from matching.reviews import ReviewError, resolve_review
from tests.conftest import make_system

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]

NORTHWIND_ERP = {
    "name": "Northwind Traders GmbH",
    "address_line1": "Friedrichstrasse 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "phone": "+49 30 23456789",
    "payment_terms": "NET30",
}
NORTHWIND_WMS = {
    "name": "Northwind Traders",
    "address_line1": "Friedrichstr. 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "phone": "030 2345 6789",
}
# Same name, another city and phone: the matcher is unsure (review band).
NORTHWIND_MUNICH = {
    "name": "Northwind Traders",
    "city": "Munich",
    "country": "DE",
    "phone": "+49 89 7654321",
    "segment": "Key account",
}


@pytest.fixture(autouse=True)
def _fresh_saturation_memory():
    online._saturated.clear()
    yield
    online._saturated.clear()


@pytest.fixture
def steward():
    return get_user_model().objects.create_user("stew")


@pytest.fixture
def origin(steward):
    return ChangeOrigin.steward(steward)


def send(system: str, source_id: str, payload: dict) -> str:
    outcome = ingest_batch(
        make_system(system),
        "customer",
        [{"source_id": source_id, **payload}],
        "reject_all",
        ChangeOrigin.source_system(system),
    )
    assert not outcome.rejected_all, outcome.records[0].errors_as_list()
    return outcome.records[0].action


def remembered() -> set[tuple[int, int]]:
    """Active never-match pairs among all customer source records."""
    ids = SourceRecord.objects.filter(domain="customer").values_list("pk", flat=True)
    return active_never_matches(list(ids))


def src(system: str, source_id: str) -> SourceRecord:
    return SourceRecord.objects.get(system__code=system, domain="customer", source_id=source_id)


@pytest.fixture
def reviewed():
    """ERP and WMS hold Northwind Berlin (one golden record); CRM's Munich record is in review."""
    assert send("erp", "100045", NORTHWIND_ERP) == "created"
    assert send("wms", "NW-1", NORTHWIND_WMS) == "linked"
    assert send("crm", "A-77", NORTHWIND_MUNICH) == "created"
    review = MatchReview.objects.get()
    assert review.source_record == src("crm", "A-77")
    assert review.candidate_golden_id == src("erp", "100045").golden_id
    return review


class TestMerge:
    def test_merge_moves_the_record_into_the_older_golden(self, reviewed, origin):
        berlin = src("erp", "100045").golden_id
        munich = src("crm", "A-77").golden_id
        assert berlin.int < munich.int  # UUIDv7: the ERP golden is older

        review = resolve_review(reviewed.pk, "merge", origin, note="Munich branch, same company")

        assert review.status == ReviewStatus.MERGED
        assert review.decided_by == "steward:stew"
        assert review.decided_at is not None
        assert review.note == "Munich branch, same company"
        assert src("crm", "A-77").golden_id == berlin
        assert src("crm", "A-77").link_rule == "merge"
        retired = Customer.objects.get(pk=munich)
        assert retired.record_status == GoldenStatus.MERGED
        assert retired.merged_into == berlin
        assert resolve_golden_id("customer", munich) == berlin
        assert resolve_golden_id("customer", berlin) == berlin
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 1
        survivor = Customer.objects.get(pk=berlin)
        assert survivor.segment == "Key account"  # the moved record's value now counts
        row = retired.history.first()
        assert (row.actor_type, row.actor) == ("steward", "stew")
        # What the matcher decided stays as it was decided.
        decision = MatchDecision.objects.get(source_record=src("crm", "A-77"))
        assert decision.outcome == "review"
        assert decision.golden_id == munich
        assert not NeverMatch.objects.exists()

    def test_the_older_golden_survives_whichever_side_of_the_review_it_is_on(self, origin):
        send("erp", "100045", NORTHWIND_ERP)
        send("crm", "A-77", NORTHWIND_MUNICH)
        older, newer = src("erp", "100045"), src("crm", "A-77")
        assert older.golden_id.int < newer.golden_id.int
        MatchReview.objects.all().delete()
        # A review raised the other way round (as a dedupe run may): older record under review.
        review = MatchReview.objects.create(
            domain="customer",
            source_record=older,
            candidate_record=newer,
            candidate_golden_id=newer.golden_id,
            probability=0.8,
            raised_by="test",
            created_at=older.created_at,
        )
        resolve_review(review.pk, "merge", origin)
        assert src("crm", "A-77").golden_id == older.golden_id
        assert resolve_golden_id("customer", newer.golden_id) == older.golden_id

    def test_merge_closes_other_open_reviews_between_the_same_golden_records(
        self, reviewed, origin
    ):
        berlin = src("erp", "100045").golden_id
        munich = src("crm", "A-77").golden_id
        # A second review between the same two golden records (another pair of their records),
        # and one with a third golden record that the decision does not answer.
        send("ecom", "Z-1", {"name": "Zenith Plumbing", "city": "Munich", "country": "DE"})
        third = src("ecom", "Z-1")
        MatchReview.objects.exclude(pk=reviewed.pk).delete()
        same_pair = MatchReview.objects.create(
            domain="customer",
            source_record=src("wms", "NW-1"),
            candidate_record=src("crm", "A-77"),
            candidate_golden_id=munich,
            probability=0.7,
            raised_by="test",
            created_at=reviewed.created_at,
        )
        other = MatchReview.objects.create(
            domain="customer",
            source_record=third,
            candidate_record=src("crm", "A-77"),
            candidate_golden_id=munich,
            probability=0.6,
            raised_by="test",
            created_at=reviewed.created_at,
        )
        assert third.golden_id not in (berlin, munich)

        resolve_review(reviewed.pk, "merge", origin)

        same_pair.refresh_from_db()
        other.refresh_from_db()
        assert same_pair.status == ReviewStatus.OBSOLETE
        assert same_pair.decided_by == "steward:stew"
        assert str(reviewed.pk) in same_pair.note
        assert other.status == ReviewStatus.OPEN

    def test_a_record_as_close_to_two_golden_records_raises_a_review_the_merge_answers(
        self, reviewed, origin
    ):
        berlin = src("erp", "100045").golden_id
        munich = src("crm", "A-77").golden_id
        # The e-commerce shop has Berlin's city and Munich's phone: it links to one of them
        # and the other is proposed to the steward (the two golden records look like one).
        bridge = {"name": "Northwind Traders", "city": "Berlin", "country": "DE"}
        bridge["phone"] = NORTHWIND_MUNICH["phone"]
        assert send("ecom", "W-5", bridge) == "linked"
        assert src("ecom", "W-5").golden_id in (berlin, munich)
        raised = MatchReview.objects.exclude(pk=reviewed.pk).get()
        assert raised.source_record == src("ecom", "W-5")
        assert {raised.candidate_golden_id, src("ecom", "W-5").golden_id} == {berlin, munich}

        resolve_review(reviewed.pk, "merge", origin)

        raised.refresh_from_db()
        assert raised.status == ReviewStatus.OBSOLETE
        assert {
            src(s, i).golden_id for s, i in [("erp", "100045"), ("crm", "A-77"), ("ecom", "W-5")]
        } == {berlin}

    def test_a_merge_that_joins_both_sides_answers_the_review(self, reviewed, origin):
        """Merged some other way (a steward, dedupe, catch-up): nothing is left to decide."""
        berlin = src("erp", "100045").golden_id
        munich = src("crm", "A-77").golden_id
        merge_golden("customer", berlin, [munich], origin)

        reviewed.refresh_from_db()
        assert reviewed.status == ReviewStatus.OBSOLETE
        assert reviewed.note.startswith(f"Answered by the merge into {berlin}")
        assert reviewed.decided_by == "steward:stew"
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk, "merge", origin)
        assert exc.value.code == "review_not_open"
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 1


class TestReject:
    def test_reject_remembers_every_pair_with_fingerprints(self, reviewed, origin):
        review = resolve_review(reviewed.pk, "reject", origin, note="different company")

        assert review.status == ReviewStatus.REJECTED
        assert review.decided_by == "steward:stew"
        assert review.note == "different company"
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 2
        munich = src("crm", "A-77").pk
        berlin = [src("erp", "100045").pk, src("wms", "NW-1").pk]
        rows = {(r.left_id, r.right_id): r for r in NeverMatch.objects.all()}
        assert set(rows) == {ordered(munich, b) for b in berlin}
        prints = dict(MatchProfile.objects.values_list("source_record_id", "fingerprint"))
        for (left, right), row in rows.items():
            assert left < right
            assert row.domain == "customer"
            assert row.left_fingerprint == prints[left] != ""
            assert row.right_fingerprint == prints[right] != ""
            assert row.decided_by == "steward:stew"
            assert row.reason == f"match review {reviewed.pk}"
        assert remembered() == set(rows)
        assert active_never_matches(domain="customer") == set(rows)
        assert active_never_matches(domain="item") == set()
        assert active_never_matches([]) == set()

    def test_rejecting_twice_is_review_not_open(self, reviewed, origin):
        resolve_review(reviewed.pk, "reject", origin)
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk, "reject", origin)
        assert exc.value.code == "review_not_open"
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk, "merge", origin)
        assert exc.value.code == "review_not_open"
        assert NeverMatch.objects.count() == 2
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 2

    def test_unknown_review_and_unknown_decision(self, reviewed, origin):
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk + 1000, "merge", origin)
        assert exc.value.code == "review_not_found"
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk, "maybe", origin)
        assert exc.value.code == "invalid_decision"
        reviewed.refresh_from_db()
        assert reviewed.status == ReviewStatus.OPEN

    def test_reject_after_the_records_were_merged_is_refused(self, reviewed, origin):
        merge_golden(
            "customer",
            src("erp", "100045").golden_id,
            [src("crm", "A-77").golden_id],
            origin,
        )
        with pytest.raises(ReviewError) as exc:
            resolve_review(reviewed.pk, "reject", origin)
        assert exc.value.code == "review_not_open"  # the merge answered it
        reviewed.refresh_from_db()
        assert reviewed.status == ReviewStatus.OBSOLETE
        assert not NeverMatch.objects.exists()

    def test_reject_closes_other_open_reviews_between_the_two(self, reviewed, origin):
        twin = MatchReview.objects.create(
            domain="customer",
            source_record=src("crm", "A-77"),
            candidate_record=src("wms", "NW-1"),
            candidate_golden_id=src("wms", "NW-1").golden_id,
            probability=0.55,
            raised_by="test",
            created_at=reviewed.created_at,
        )
        resolve_review(reviewed.pk, "reject", origin)
        twin.refresh_from_db()
        assert twin.status == ReviewStatus.OBSOLETE


class TestFingerprints:
    def test_memory_holds_until_a_compared_attribute_of_either_record_changes(
        self, reviewed, origin
    ):
        resolve_review(reviewed.pk, "reject", origin)
        munich = src("crm", "A-77")
        erp = src("erp", "100045")
        pair = ordered(munich.pk, erp.pk)
        assert pair in remembered()

        # A change the matcher does not compare (segment, payment terms) keeps the memory.
        assert send("crm", "A-77", {**NORTHWIND_MUNICH, "segment": "Mid market"}) == "updated"
        assert send("erp", "100045", {**NORTHWIND_ERP, "payment_terms": "NET60"}) == "updated"
        assert pair in remembered()

        # CRM corrects the phone: the steward decided on other values.
        changed = {**NORTHWIND_MUNICH, "segment": "Mid market", "phone": "+49 89 7654000"}
        assert send("crm", "A-77", changed) == "updated"
        assert pair not in remembered()
        assert ordered(munich.pk, src("wms", "NW-1").pk) not in remembered()
        # The rows stay (history of the decision); only the memory lapsed.
        assert NeverMatch.objects.count() == 2

        # Decided again on the new values, then the other side changes a compared attribute.
        assert remember_never_match("customer", [pair], "steward:stew") == 0
        assert pair in remembered()
        moved = {**NORTHWIND_ERP, "payment_terms": "NET60", "city": "Berlin-Mitte"}
        assert send("erp", "100045", moved) == "updated"
        assert pair not in remembered()
        assert ordered(munich.pk, src("wms", "NW-1").pk) not in remembered()

    def test_an_unchanged_resend_keeps_the_memory(self, reviewed, origin):
        resolve_review(reviewed.pk, "reject", origin)
        before = active_never_matches()
        assert send("crm", "A-77", NORTHWIND_MUNICH) == "unchanged"
        assert active_never_matches() == before != set()


class TestRememberNeverMatch:
    def test_pairs_are_ordered_and_deduplicated(self, reviewed):
        a, b = src("erp", "100045").pk, src("crm", "A-77").pk
        assert remember_never_match("customer", [(b, a), (a, b), (a, a)], "steward:x") == 1
        row = NeverMatch.objects.get()
        assert (row.left_id, row.right_id) == (min(a, b), max(a, b))
        assert remember_never_match("customer", [(a, b)], "steward:y", "again") == 0
        row.refresh_from_db()
        assert (row.decided_by, row.reason) == ("steward:y", "again")


class TestUnmerge:
    def test_unmerge_remembers_never_match_between_split_and_staying_records(self, origin):
        send("erp", "100045", NORTHWIND_ERP)
        send("wms", "NW-1", NORTHWIND_WMS)
        send("crm", "A-1", {**NORTHWIND_WMS, "phone": "030 23456789"})
        golden = src("erp", "100045").golden_id
        assert {src(s, i).golden_id for s, i in [("wms", "NW-1"), ("crm", "A-1")]} == {golden}
        erp, wms, crm = src("erp", "100045"), src("wms", "NW-1"), src("crm", "A-1")

        new_id = unmerge("customer", golden, [crm.pk], origin)

        assert src("crm", "A-1").golden_id == new_id
        rows = {(r.left_id, r.right_id): r for r in NeverMatch.objects.all()}
        assert set(rows) == {ordered(crm.pk, erp.pk), ordered(crm.pk, wms.pk)}
        assert ordered(erp.pk, wms.pk) not in rows
        prints = dict(MatchProfile.objects.values_list("source_record_id", "fingerprint"))
        for (left, right), row in rows.items():
            assert (row.left_fingerprint, row.right_fingerprint) == (prints[left], prints[right])
            assert row.decided_by == "steward:stew"
            assert row.reason == f"unmerged from {golden}"
        assert remembered() == set(rows)

    def test_unmerging_two_records_remembers_each_against_each(self, origin):
        send("erp", "100045", NORTHWIND_ERP)
        send("wms", "NW-1", NORTHWIND_WMS)
        send("crm", "A-1", {**NORTHWIND_WMS, "phone": "030 23456789"})
        send("ecom", "W-1", {**NORTHWIND_WMS, "name": "Northwind Traders G.m.b.H."})
        golden = src("erp", "100045").golden_id
        ids = {s: src(s, i).pk for s, i in [("erp", "100045"), ("wms", "NW-1")]}
        moving = [src("crm", "A-1").pk, src("ecom", "W-1").pk]
        assert {src(s, i).golden_id for s, i in [("crm", "A-1"), ("ecom", "W-1")]} == {golden}

        unmerge("customer", golden, moving, origin)

        expected = {ordered(m, s) for m in moving for s in ids.values()}
        assert set(NeverMatch.objects.values_list("left_id", "right_id")) == expected
