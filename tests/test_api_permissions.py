"""API authorisation is explicit: tokens as their scope allows, sessions by the steward UI's roles.

A logged-in user without a role gets 403 ``role_required`` on every API route (as on every steward
page); a viewer reads, and is refused writes with ``steward_required``; a steward writes the steward
actions but never sends records as a source system (token-only). Token behaviour is covered by
the API's own tests (tests/golden_records/, tests/matching/); the schema documents both schemes.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from golden_records.models import ApiToken, SourceRecord
from matching.models import MatchReview
from tests.conftest import client_for, make_token
from tests.helpers import put
from tests.matching.test_match_api import _schema, assert_matches_schema

pytestmark = pytest.mark.django_db

ACME = {"name": "Acme Industrial Supply", "country": "DE", "credit_limit": "25000.00"}


def session(username: str, group: str | None = None, superuser: bool = False) -> APIClient:
    user = User.objects.create_user(username, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def record(api) -> SourceRecord:
    assert put(api["erp"], "erp", "customer", "C100008", ACME).status_code == 201
    return SourceRecord.objects.get(source_id="C100008")


@pytest.fixture
def reads(record) -> dict[str, tuple[str, str]]:
    """The finding's four reads: (URL, schema path)."""
    golden = f"/api/v1/golden/customer/{record.golden_id}"
    return {
        "golden list": ("/api/v1/golden/customer", "/api/v1/golden/customer"),
        "golden record": (golden, "/api/v1/golden/customer/{golden_id}"),
        "source record": (
            "/api/v1/sources/erp/customer/C100008",
            "/api/v1/sources/{system}/{domain}/{source_id}",
        ),
        "xref": (
            "/api/v1/xref/customer/erp/C100008",
            "/api/v1/xref/{domain}/{system}/{source_id}",
        ),
        "match reviews": ("/api/v1/match-reviews", "/api/v1/match-reviews"),
        "match decisions": (
            "/api/v1/match-decisions?system=erp&domain=customer&source_id=C100008",
            "/api/v1/match-decisions",
        ),
    }


def lookup(client: APIClient):
    return client.post(
        "/api/v1/xref/customer/lookup",
        data=json.dumps({"lookups": [{"system": "erp", "source_id": "C100008"}]}),
        content_type="application/json",
    )


def decide(client: APIClient, review_id: int):
    return client.post(
        f"/api/v1/match-reviews/{review_id}/decision",
        data=json.dumps({"decision": "reject"}),
        content_type="application/json",
    )


class TestSessionWithoutRole:
    def test_every_read_is_403_role_required(self, reads):
        client = session("nobody")
        for name, (url, path) in reads.items():
            response = client.get(url)
            assert response.status_code == 403, name
            assert response.json()["error"]["code"] == "role_required", name
            assert_matches_schema(response, path)
        response = lookup(client)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_required"
        assert_matches_schema(response, "/api/v1/xref/{domain}/lookup", "post")

    def test_the_raw_payload_is_not_shown(self, reads):
        response = session("nobody").get(reads["source record"][0])
        assert b"25000" not in response.content

    def test_writes_are_403_role_required(self, record):
        client = session("nobody")
        assert put(client, "erp", "customer", "C1", ACME).json()["error"]["code"] == (
            "role_required"
        )
        assert decide(client, 1).json()["error"]["code"] == "role_required"

    def test_anonymous_is_401(self, reads):
        for name, (url, _) in reads.items():
            assert APIClient().get(url).status_code == 401, name


class TestViewer:
    def test_reads(self, reads):
        client = session("vic", "viewer")
        for name, (url, path) in reads.items():
            response = client.get(url)
            assert response.status_code == 200, name
            assert_matches_schema(response, path)
        assert client.get(reads["source record"][0]).json()["payload"]["credit_limit"]

    def test_the_batch_lookup_is_a_read(self, record):
        response = lookup(session("vic", "viewer"))
        assert response.status_code == 200
        assert response.json()["results"][0]["golden_id"] == str(record.golden_id)

    def test_writes_are_403_steward_required(self, record):
        client = session("vic", "viewer")
        response = put(client, "erp", "customer", "C100008", {**ACME, "name": "Changed"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "steward_required"
        response = decide(client, 424242)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "steward_required"
        assert_matches_schema(response, "/api/v1/match-reviews/{review_id}/decision", "post")


class TestSteward:
    @pytest.mark.parametrize("group", ["steward", "admin"])
    def test_reads_and_decides(self, reads, group):
        client = session("stew", group)
        assert client.get(reads["golden list"][0]).status_code == 200
        # Past the permission: the unknown review is the view's 404.
        assert decide(client, 424242).json()["error"]["code"] == "review_not_found"

    def test_superuser_acts(self, reads):
        client = session("root", superuser=True)
        assert client.get(reads["source record"][0]).status_code == 200
        assert decide(client, 424242).status_code == 404

    def test_never_sends_records_as_a_system(self, record):
        response = put(session("stew", "steward"), "erp", "customer", "C100008", ACME)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "system_forbidden"
        assert not MatchReview.objects.exists()


class TestTokens:
    def test_a_read_token_reads_and_does_not_write(self, reads, systems):
        reader = client_for(make_token(None, ApiToken.Scope.READ))
        for name, (url, _) in reads.items():
            assert reader.get(url).status_code == 200, name
        response = put(reader, "erp", "customer", "C9", ACME)
        assert response.json()["error"]["code"] == "system_forbidden"
        assert decide(reader, 1).json()["error"]["code"] == "steward_required"

    def test_a_write_token_writes_as_its_system_only(self, api, record):
        assert put(api["crm"], "crm", "customer", "X-1", ACME).status_code in (200, 201)
        response = put(api["crm"], "erp", "customer", "X-1", ACME)
        assert response.json()["error"]["code"] == "system_forbidden"


def test_the_schema_documents_both_schemes():
    schema = _schema()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert "role_required" in schemes["cookieAuth"]["description"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"bearerAuth": []} in operation["security"], (method, path)
            assert {"cookieAuth": []} in operation["security"], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
