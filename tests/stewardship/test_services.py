"""Steward actions on match reviews: each through resolve_review or the steward's bookkeeping,
each with its audit row; a chosen value becomes an override in the merge's transaction; a
review decided by someone else is never applied twice."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from golden_records.models import GOLDEN_MODELS, AttributeOverride, GoldenStatus, SourceRecord
from golden_records.services import preview_merge
from matching.models import MatchReview, NeverMatch, ReviewStatus
from stewardship import services
from stewardship.models import ReviewComment, ReviewTask, StewardDecision
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]


@pytest.fixture
def alice():
    return factories.user("alice", "steward")


@pytest.fixture
def bob():
    return factories.user("bob", "steward")


def goldens(review: MatchReview):
    return review.source_record.golden_id, review.candidate_record.golden_id


class TestMerge:
    def test_merge_goes_through_resolve_review_and_is_audited(self, alice):
        review = factories.pair(1)
        crm_golden, erp_golden = goldens(review)

        decision = services.decide_review(review.pk, "merge", alice, note="same shop")

        review.refresh_from_db()
        assert review.status == ReviewStatus.MERGED
        assert review.decided_by == "steward:alice"
        assert Customer.objects.get(pk=crm_golden).record_status == GoldenStatus.MERGED
        assert SourceRecord.objects.get(pk=review.source_record_id).golden_id == erp_golden
        assert decision.action == "merge" and decision.actor == alice
        assert decision.note == "same shop"
        assert set(decision.before["golden"]) == {str(crm_golden), str(erp_golden)}
        assert decision.after["survivor"] == str(erp_golden)
        assert decision.after["merged"] == [str(crm_golden)]
        assert decision.after["attributes"]["segment"] == "Key account"
        assert decision.after["overrides"] == {}

    def test_a_chosen_value_becomes_an_override_in_the_same_transaction(self, alice):
        review = factories.pair(2)
        _, erp_golden = goldens(review)
        # Survivorship takes ERP's name (ERP first); the steward keeps CRM's.
        decision = services.decide_review(
            review.pk, "merge", alice, keep={"name": "Northwind Traders 2", "city": "Berlin"}
        )
        survivor = Customer.objects.get(pk=erp_golden)
        assert survivor.name == "Northwind Traders 2"
        override = AttributeOverride.objects.get(golden_id=erp_golden)
        assert (override.attribute, override.value, override.set_by) == (
            "name",
            "Northwind Traders 2",
            alice,
        )
        assert decision.after["overrides"] == {"name": "Northwind Traders 2"}  # city: same
        assert survivor.lineage["name"]["rule"] == "override"

    def test_several_chosen_values_make_one_new_version(self, alice):
        review = factories.pair(4)
        _, erp_golden = goldens(review)
        decision = services.decide_review(
            review.pk, "merge", alice, keep={"name": "Chosen Name", "segment": "Chosen segment"}
        )
        assert set(decision.after["overrides"]) == {"name", "segment"}
        survivor = Customer.objects.get(pk=erp_golden)
        chosen = survivor.history.filter(history_change_reason__startswith="chosen when merging")
        assert chosen.count() == 1  # one version for both values, not one each
        row = chosen.get()
        assert (row.history_user, row.version) == (alice, survivor.version)
        assert set(row.changed_fields) == {"name", "segment"}
        assert AttributeOverride.objects.filter(golden_id=erp_golden).count() == 2

    def test_a_failing_override_rolls_the_merge_back(self, alice):
        review = factories.pair(3)
        crm_golden, _ = goldens(review)
        with (
            mock.patch.object(services, "set_overrides", side_effect=RuntimeError("boom")),
            pytest.raises(RuntimeError),
        ):
            services.decide_review(review.pk, "merge", alice, keep={"name": "Other"})
        review.refresh_from_db()
        assert review.status == ReviewStatus.OPEN
        assert Customer.objects.get(pk=crm_golden).record_status == GoldenStatus.ACTIVE
        assert not StewardDecision.objects.exists()

    def test_a_reference_cannot_be_kept(self, alice):
        review = factories.pair(4)
        with pytest.raises(services.StewardshipError) as exc:
            services.decide_review(review.pk, "merge", alice, keep={"parent": "x"})
        assert exc.value.code == "invalid_attribute"
        review.refresh_from_db()
        assert review.status == ReviewStatus.OPEN

    def test_preview_is_what_the_merge_makes(self, alice):
        review = factories.pair(5)
        crm_golden, erp_golden = goldens(review)
        preview = preview_merge("customer", erp_golden, [crm_golden])
        services.decide_review(review.pk, "merge", alice)
        survivor = Customer.objects.get(pk=erp_golden)
        for name, (value, _) in preview.values.items():
            assert getattr(survivor, name) == value or (
                value is None and not getattr(survivor, name)
            )


class TestReject:
    def test_reject_remembers_never_match_and_is_audited(self, alice):
        review = factories.pair(1)
        decision = services.decide_review(review.pk, "reject", alice)
        review.refresh_from_db()
        assert review.status == ReviewStatus.REJECTED
        assert NeverMatch.objects.count() == 1
        assert decision.after == {"status": "rejected", "never_match_pairs": 1}


class TestTwoStewards:
    def test_the_second_sees_who_decided_and_nothing_is_applied_twice(self, alice, bob):
        review = factories.pair(1)
        services.decide_review(review.pk, "merge", alice)
        version = Customer.objects.get(pk=review.candidate_record.golden_id).version

        with pytest.raises(services.AlreadyDecided) as exc:
            services.decide_review(review.pk, "reject", bob)
        assert exc.value.decided_by == "alice"
        assert "already merged by alice" in exc.value.message
        with pytest.raises(services.AlreadyDecided):
            services.decide_review(review.pk, "merge", bob)

        assert StewardDecision.objects.filter(action__in=["merge", "reject"]).count() == 1
        assert not NeverMatch.objects.exists()
        assert Customer.objects.get(pk=review.candidate_record.golden_id).version == version

    def test_bulk_reports_reviews_decided_meanwhile(self, alice, bob):
        first, second = factories.pair(1), factories.pair(2)
        services.decide_review(first.pk, "reject", bob)
        outcomes = services.decide_many([first.pk, second.pk], "merge", alice)
        assert [(o.review_id, o.ok) for o in outcomes] == [(first.pk, False), (second.pk, True)]
        assert "by bob" in outcomes[0].message
        assert StewardDecision.objects.get(review=second).bulk


class TestBookkeeping:
    def test_defer_assign_comment_each_audited(self, alice, bob):
        review = factories.pair(1)
        until = timezone.now() + dt.timedelta(days=3)
        services.defer_review(review.pk, alice, until)
        services.assign_review(review.pk, alice, bob)
        services.assign_review(review.pk, alice, None)
        services.comment_review(review.pk, bob, "  Call the customer first.  ")

        task = ReviewTask.objects.get(review=review)
        assert task.deferred_until == until and task.assignee is None
        assert ReviewComment.objects.get().text == "Call the customer first."
        rows = list(StewardDecision.objects.values_list("action", "actor_name", "before", "after"))
        assert rows[0] == (
            "defer",
            "alice",
            {"deferred_until": None},
            {"deferred_until": until.isoformat()},
        )
        assert rows[1][:2] == ("assign", "alice") and rows[1][3] == {"assignee": "bob"}
        assert rows[2][2:] == ({"assignee": "bob"}, {"assignee": None})
        assert rows[3][0] == "comment" and rows[3][3]["text"] == "Call the customer first."

    def test_only_open_reviews_are_deferred_or_assigned(self, alice):
        review = factories.pair(1)
        services.decide_review(review.pk, "reject", alice)
        with pytest.raises(services.AlreadyDecided):
            services.defer_review(review.pk, alice, timezone.now())
        with pytest.raises(services.AlreadyDecided):
            services.assign_review(review.pk, alice, alice)
        services.comment_review(review.pk, alice, "Decided after a call.")  # still allowed

    def test_empty_comment_refused(self, alice):
        review = factories.pair(1)
        with pytest.raises(services.StewardshipError):
            services.comment_review(review.pk, alice, "   ")
