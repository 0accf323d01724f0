"""One service per steward action: a match review decided over the REST API and one decided in
the steward UI go through ``decide_review`` and leave the same audit record, its channel apart."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from golden_records.models import GOLDEN_MODELS, GoldenStatus
from matching.models import ReviewStatus
from stewardship.models import StewardDecision
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
SHAPE = ("action", "actor_id", "actor_name", "domain", "bulk", "note")


def api_decide(client: APIClient, review_id: int, decision: str, note: str = ""):
    return client.post(
        f"/api/v1/match-reviews/{review_id}/decision",
        data=json.dumps({"decision": decision, "note": note}),
        content_type="application/json",
    )


@pytest.fixture
def alice():
    return factories.user("alice", "steward")


def clients(user) -> tuple[Client, APIClient]:
    ui, api = Client(), APIClient()
    ui.force_login(user)
    api.force_login(user)
    return ui, api


@pytest.mark.parametrize("decision", ["merge", "reject"])
def test_ui_and_api_write_the_same_audit_record(alice, decision):
    by_ui, by_api = factories.pair(1), factories.pair(2)
    ui, api = clients(alice)

    ui.post(reverse("stewardship:decide", args=[by_ui.pk]), {"decision": decision, "note": "x"})
    response = api_decide(api, by_api.pk, decision, "x")

    assert response.status_code == 200
    assert response.json()["status"] == {"merge": "merged", "reject": "rejected"}[decision]
    from_ui = StewardDecision.objects.get(review=by_ui)
    from_api = StewardDecision.objects.get(review=by_api)
    assert (from_ui.channel, from_api.channel) == ("ui", "api")
    assert [getattr(from_api, f) for f in SHAPE] == [getattr(from_ui, f) for f in SHAPE]
    assert from_api.actor == alice
    assert set(from_api.before) == set(from_ui.before)
    assert set(from_api.after) == set(from_ui.after)
    assert (from_api.golden_id is None) == (from_ui.golden_id is None)
    assert (from_api.related_golden_id is None) == (from_ui.related_golden_id is None)
    for review in (by_ui, by_api):
        review.refresh_from_db()
        assert review.status == (
            ReviewStatus.MERGED if decision == "merge" else ReviewStatus.REJECTED
        )
        assert review.decided_by == "steward:alice"


def test_the_merge_is_in_the_golden_records_history_with_the_api_channel(alice):
    review = factories.pair(1)
    merged = review.source_record.golden_id
    _, api = clients(alice)

    assert api_decide(api, review.pk, "merge").status_code == 200

    retired = Customer.objects.get(pk=merged)
    assert retired.record_status == GoldenStatus.MERGED
    row = retired.history.first()
    assert (row.actor_type, row.actor, row.channel) == ("steward", "alice", "api")


def test_deciding_twice_is_the_already_decided_error(alice):
    review = factories.pair(1)
    _, api = clients(alice)
    assert api_decide(api, review.pk, "reject").status_code == 200

    again = api_decide(api, review.pk, "merge")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "review_not_open"
    assert "by alice" in again.json()["error"]["message"]
    assert StewardDecision.objects.filter(review=review).count() == 1


def test_a_viewer_gets_403_and_nothing_is_decided():
    review = factories.pair(1)
    _, api = clients(factories.user("vic", "viewer"))
    response = api_decide(api, review.pk, "merge")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "steward_required"
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN
    assert not StewardDecision.objects.exists()
