"""The match-review queue and match-decision API: filters, errors, stewards, schema agreement.

Every response body is checked against the OpenAPI schema the project publishes (the same
drf-spectacular schema tests/test_schema.py generates and validates), with undocumented fields
and undocumented status codes counted as disagreements.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import jsonschema
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, ApiToken, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch, resolve_golden_id
from matching import online
from matching.models import MatchDecision, MatchReview, NeverMatch, ReviewStatus
from stewardship.models import StewardDecision
from tests.conftest import client_for, make_system, make_token
from tests.helpers import put

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]

NORTHWIND_ERP = {
    "name": "Northwind Traders GmbH",
    "address_line1": "Friedrichstrasse 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "phone": "+49 30 23456789",
}
NORTHWIND_CRM = {
    "name": "NORTHWIND TRADERS",
    "address_line1": "Friedrichstr. 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "Germany",
    "phone": "030 23456789",
}
NORTHWIND_MUNICH = {
    "name": "Northwind Traders",
    "city": "Munich",
    "country": "DE",
    "phone": "+49 89 7654321",
}
LUMEX_ERP = {
    "sku": "LX200-WL",
    "gtin": "036000291452",
    "mpn": "LX-200",
    "manufacturer": "Lumex Industries Inc.",
    "name": "Lumex LED Work Light 20W",
    "category": "Lighting",
}
# Another GTIN, everything else the same: never linked by itself, a steward decides.
LUMEX_OTHER_GTIN = {**LUMEX_ERP, "sku": "99-1020", "gtin": "012345678905"}


# -- the published schema --------------------------------------------------------------------------


@functools.cache
def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _as_json_schema(node: Any, components: dict[str, Any]) -> Any:
    """OpenAPI 3.0 → JSON Schema: refs inlined, ``nullable`` allows null, objects closed."""
    if isinstance(node, list):
        return [_as_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _as_json_schema(copy.deepcopy(components[name]), components)
    out = {k: _as_json_schema(v, components) for k, v in node.items()}
    for key in ("example", "readOnly", "writeOnly", "nullable"):
        out.pop(key, None)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_matches_schema(response, path: str, method: str = "get") -> None:
    schema = _schema()
    operation = schema["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} {path} answered {status}, which the schema does not document"
    )
    body_schema = operation["responses"][status]["content"]["application/json"]["schema"]
    resolved = _as_json_schema(body_schema, schema["components"]["schemas"])
    jsonschema.validate(
        response.json(),
        resolved,
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


REVIEWS = "/api/v1/match-reviews"
REVIEW = "/api/v1/match-reviews/{review_id}"
DECISION = "/api/v1/match-reviews/{review_id}/decision"
DECISIONS = "/api/v1/match-decisions"


def decide(client: APIClient, review_id: int, body: Any):
    return client.post(
        f"/api/v1/match-reviews/{review_id}/decision",
        data=json.dumps(body),
        content_type="application/json",
    )


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_saturation_memory():
    online._saturated.clear()
    yield
    online._saturated.clear()


@pytest.fixture
def reader(systems) -> APIClient:
    return client_for(make_token(None, ApiToken.Scope.READ))


def session(username: str, group: str | None = None) -> APIClient:
    user = get_user_model().objects.create_user(username)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def steward_client() -> APIClient:
    """A user of the steward group: the role decides, as in the steward UI."""
    return session("stew", "steward")


@pytest.fixture
def queue(api) -> dict[str, MatchReview]:
    """Two open customer reviews and one item review, of different probabilities."""
    put(api["erp"], "erp", "customer", "100045", {**NORTHWIND_ERP, "tax_id": "DE136695976"})
    put(api["crm"], "crm", "customer", "A-77", NORTHWIND_MUNICH)
    put(api["crm"], "crm", "customer", "A-78", {**NORTHWIND_ERP, "tax_id": "DE811907980"})
    put(api["erp"], "erp", "item", "MAT-4471", LUMEX_ERP)
    put(api["ecom"], "ecom", "item", "W-1", LUMEX_OTHER_GTIN)
    reviews = {
        (r.source_record.system.code, r.source_record.source_id): r
        for r in MatchReview.objects.select_related("source_record__system").filter(
            candidate_record__source_id__in=["100045", "MAT-4471"]
        )
    }
    assert set(reviews) >= {("crm", "A-77"), ("crm", "A-78"), ("ecom", "W-1")}
    return {
        "munich": reviews[("crm", "A-77")],
        "tax": reviews[("crm", "A-78")],
        "item": reviews[("ecom", "W-1")],
    }


# -- the review queue ----------------------------------------------------------------------------


class TestReviewList:
    def test_lists_open_reviews_most_probable_first(self, queue, reader):
        response = reader.get(REVIEWS)
        assert response.status_code == 200
        assert_matches_schema(response, REVIEWS)
        body = response.json()
        assert body["count"] == MatchReview.objects.filter(status="open").count() >= 3
        probabilities = [r["probability"] for r in body["results"]]
        assert probabilities == sorted(probabilities, reverse=True)
        munich = next(r for r in body["results"] if r["id"] == queue["munich"].pk)
        assert munich["status"] == "open"
        assert munich["domain"] == "customer"
        assert munich["source_record"]["system"] == "crm"
        assert munich["source_record"]["source_id"] == "A-77"
        assert munich["candidate_record"]["system"] == "erp"
        assert munich["candidate_record"]["source_id"] == "100045"
        assert munich["candidate_golden_id"] == str(
            SourceRecord.objects.get(source_id="100045").golden_id
        )
        city = next(c for c in munich["explanation"]["comparisons"] if c["comparison"] == "city")
        assert (city["left"], city["right"]) == ("munich", "berlin")

    def test_filters_by_domain_and_status(self, queue, reader, steward_client):
        items = reader.get(REVIEWS, {"domain": "item"})
        assert_matches_schema(items, REVIEWS)
        assert [r["id"] for r in items.json()["results"]] == [queue["item"].pk]
        customers = reader.get(REVIEWS, {"domain": "customer"}).json()
        assert {r["id"] for r in customers["results"]} >= {queue["munich"].pk, queue["tax"].pk}
        assert all(r["domain"] == "customer" for r in customers["results"])
        assert reader.get(REVIEWS, {"domain": "location"}).json()["count"] == 0

        assert decide(steward_client, queue["tax"].pk, {"decision": "reject"}).status_code == 200
        rejected = reader.get(REVIEWS, {"status": "rejected"})
        assert_matches_schema(rejected, REVIEWS)
        assert [r["id"] for r in rejected.json()["results"]] == [queue["tax"].pk]
        assert rejected.json()["results"][0]["decided_by"] == "steward:stew"
        still_open = reader.get(REVIEWS).json()["results"]
        assert queue["tax"].pk not in {r["id"] for r in still_open}
        both = reader.get(REVIEWS, {"status": "rejected", "domain": "item"}).json()
        assert both["count"] == 0

    def test_invalid_filters(self, queue, reader):
        for params, code in [
            ({"domain": "invoice"}, "invalid_domain"),
            ({"status": "closed"}, "invalid_status"),
            ({"status": "OPEN"}, "invalid_status"),
            ({"domain": "customer", "status": "done"}, "invalid_status"),
        ]:
            response = reader.get(REVIEWS, params)
            assert response.status_code == 400, params
            assert response.json()["error"]["code"] == code
            assert_matches_schema(response, REVIEWS)

    def test_pagination(self, queue, reader):
        everything = reader.get(REVIEWS).json()
        assert everything["next"] is None and everything["previous"] is None
        first = reader.get(REVIEWS, {"limit": 1})
        assert_matches_schema(first, REVIEWS)
        page = first.json()
        assert page["count"] == everything["count"]
        assert [r["id"] for r in page["results"]] == [everything["results"][0]["id"]]
        assert "offset=1" in page["next"] and page["previous"] is None
        second = reader.get(REVIEWS, {"limit": 1, "offset": 1}).json()
        assert [r["id"] for r in second["results"]] == [everything["results"][1]["id"]]
        assert second["previous"] is not None
        beyond = reader.get(REVIEWS, {"limit": 1, "offset": 50}).json()
        assert beyond["results"] == [] and beyond["count"] == everything["count"]

    def test_needs_authentication(self, queue):
        response = APIClient().get(REVIEWS)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_unauthenticated_answer_is_documented(self, queue):
        assert_matches_schema(APIClient().get(REVIEWS), REVIEWS)


class TestReviewDetail:
    def test_one_review_with_its_explanation(self, queue, api):
        review = queue["item"]
        response = api["wms"].get(f"/api/v1/match-reviews/{review.pk}")
        assert response.status_code == 200
        assert_matches_schema(response, REVIEW)
        body = response.json()
        assert body["id"] == review.pk
        assert body["domain"] == "item"
        assert body["explanation"]["reason"] == "excluded"
        gtin = next(c for c in body["explanation"]["comparisons"] if c["comparison"] == "GTIN")
        assert gtin["left"] != gtin["right"]
        assert gtin["contribution"] < 0
        assert body["probability"] == pytest.approx(review.probability)
        assert body["decided_at"] is None and body["decided_by"] == ""

    def test_unknown_review_is_404(self, reader):
        response = reader.get("/api/v1/match-reviews/999999")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "review_not_found"
        assert_matches_schema(response, REVIEW)


# -- deciding --------------------------------------------------------------------------------------


class TestDecide:
    def test_a_token_cannot_decide(self, queue, api, reader):
        for client in (api["erp"], api["crm"], reader):
            response = decide(client, queue["munich"].pk, {"decision": "merge"})
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "steward_required"
            assert_matches_schema(response, DECISION, "post")
        queue["munich"].refresh_from_db()
        assert queue["munich"].status == ReviewStatus.OPEN
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 3

    def test_a_user_without_a_role_cannot_decide(self, queue):
        response = decide(session("nobody"), queue["munich"].pk, {"decision": "reject"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_required"
        assert_matches_schema(response, DECISION, "post")
        assert not NeverMatch.objects.exists()

    def test_a_viewer_cannot_decide(self, queue):
        response = decide(session("vic", "viewer"), queue["munich"].pk, {"decision": "reject"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "steward_required"
        assert not NeverMatch.objects.exists()
        assert not StewardDecision.objects.exists()

    def test_the_model_permission_alone_does_not_decide(self, queue):
        """The role authorises, not ``change_matchreview``: the same rule as the steward UI."""
        user = get_user_model().objects.create_user("perm-only")
        permission = Permission.objects.get(
            content_type__app_label="matching", codename="change_matchreview"
        )
        user.user_permissions.add(permission)
        client = APIClient()
        client.force_login(user)
        response = decide(client, queue["munich"].pk, {"decision": "reject"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "role_required"

    def test_steward_merges(self, queue, steward_client):
        review = queue["munich"]
        berlin = SourceRecord.objects.get(source_id="100045").golden_id
        munich = SourceRecord.objects.get(source_id="A-77").golden_id

        response = decide(
            steward_client, review.pk, {"decision": "merge", "note": "Munich branch office"}
        )

        assert response.status_code == 200
        assert_matches_schema(response, DECISION, "post")
        body = response.json()
        assert body["id"] == review.pk
        assert body["status"] == "merged"
        assert body["decided_by"] == "steward:stew"
        assert body["decided_at"] is not None
        assert body["note"] == "Munich branch office"
        assert body["source_record"]["golden_id"] == str(berlin)
        assert SourceRecord.objects.get(source_id="A-77").golden_id == berlin
        assert resolve_golden_id("customer", munich) == berlin
        retired = Customer.objects.get(pk=munich)
        assert retired.record_status == GoldenStatus.MERGED
        row = retired.history.first()
        assert (row.actor_type, row.actor, row.channel) == ("steward", "stew", "api")
        audit = StewardDecision.objects.get(review=review)
        assert (audit.action, audit.actor.username, audit.actor_name, audit.channel) == (
            "merge",
            "stew",
            "stew",
            "api",
        )
        assert audit.note == "Munich branch office"
        assert audit.golden_id == berlin and audit.related_golden_id == munich
        assert audit.after["survivor"] == str(berlin)
        assert audit.after["merged"] == [str(munich)]

    def test_steward_rejects_then_the_review_is_not_open(self, queue, steward_client):
        review = queue["item"]
        response = decide(steward_client, review.pk, {"decision": "reject"})
        assert response.status_code == 200
        assert_matches_schema(response, DECISION, "post")
        assert response.json()["status"] == "rejected"
        assert NeverMatch.objects.filter(domain="item").count() == 1
        audit = StewardDecision.objects.get(review=review)
        assert (audit.action, audit.channel, audit.actor_name) == ("reject", "api", "stew")
        assert audit.after == {"status": "rejected", "never_match_pairs": 1}
        assert GOLDEN_MODELS["item"].objects.filter(record_status="active").count() == 2

        again = decide(steward_client, review.pk, {"decision": "reject"})
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "review_not_open"
        assert_matches_schema(again, DECISION, "post")
        merge_now = decide(steward_client, review.pk, {"decision": "merge"})
        assert merge_now.status_code == 409
        assert merge_now.json()["error"]["code"] == "review_not_open"
        assert GOLDEN_MODELS["item"].objects.filter(record_status="active").count() == 2
        assert StewardDecision.objects.filter(review=review).count() == 1

    def test_unknown_review_is_404(self, steward_client):
        response = decide(steward_client, 424242, {"decision": "merge"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "review_not_found"
        assert_matches_schema(response, DECISION, "post")

    def test_invalid_body_is_400(self, queue, steward_client):
        for body in [
            {},
            {"decision": "maybe"},
            {"decision": None},
            {"decision": "merge", "note": "x" * 501},
        ]:
            response = decide(steward_client, queue["munich"].pk, body)
            assert response.status_code == 400, body
            assert response.json()["error"]["code"] == "validation_error"
            assert_matches_schema(response, DECISION, "post")
        queue["munich"].refresh_from_db()
        assert queue["munich"].status == ReviewStatus.OPEN
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 3

    def test_superuser_may_decide(self, queue):
        client = APIClient()
        client.force_login(get_user_model().objects.create_superuser("root", password=None))
        response = decide(client, queue["tax"].pk, {"decision": "reject"})
        assert response.status_code == 200
        assert response.json()["decided_by"] == "steward:root"


# -- match decisions -------------------------------------------------------------------------------


class TestMatchDecisions:
    def test_returns_the_explanation_of_a_link(self, api, reader):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        linked = put(api["crm"], "crm", "customer", "0015g00000ABC", NORTHWIND_CRM).json()
        assert linked["action"] == "linked"

        response = reader.get(
            DECISIONS, {"system": "crm", "domain": "customer", "source_id": "0015g00000ABC"}
        )

        assert response.status_code == 200
        assert_matches_schema(response, DECISIONS)
        body = response.json()
        assert body["count"] == 1
        decision = body["results"][0]
        stored = MatchDecision.objects.get()
        assert decision["id"] == stored.pk
        assert decision["outcome"] == "linked"
        assert decision["golden_id"] == linked["golden_id"]
        assert decision["rule"].startswith("match:")
        assert decision["rule_version"] == stored.rule_version
        assert decision["source_record"]["system"] == "crm"
        assert decision["source_record"]["source_id"] == "0015g00000ABC"
        assert decision["candidates"] == [
            {"golden_id": linked["golden_id"], "probability": pytest.approx(stored.probability)}
        ]
        explanation = decision["explanation"]
        assert explanation == json.loads(json.dumps(stored.explanation))
        name = next(c for c in explanation["comparisons"] if c["comparison"] == "name")
        assert name["left"] == name["right"] == "northwind traders"
        assert {"left", "right", "comparator", "similarity", "contribution"} <= set(name)

    def test_only_the_asked_record(self, api, reader):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        put(api["crm"], "crm", "customer", "A-1", NORTHWIND_CRM)
        put(api["ecom"], "ecom", "customer", "A-1", NORTHWIND_CRM)
        assert MatchDecision.objects.count() == 2
        body = reader.get(DECISIONS, {"system": "ecom", "domain": "customer", "source_id": "A-1"})
        assert [r["source_record"]["system"] for r in body.json()["results"]] == ["ecom"]
        wrong_domain = reader.get(
            DECISIONS, {"system": "ecom", "domain": "item", "source_id": "A-1"}
        ).json()
        assert wrong_domain["count"] == 0
        # A record without candidates has no decision, an unknown one neither.
        for system, source_id in [("erp", "100045"), ("erp", "nope")]:
            none = reader.get(
                DECISIONS, {"system": system, "domain": "customer", "source_id": source_id}
            )
            assert none.status_code == 200
            assert none.json() == {"count": 0, "next": None, "previous": None, "results": []}

    def test_pagination(self, reader):
        erp = make_system("erp")
        ingest_batch(
            erp,
            "customer",
            [{"source_id": "100045", **NORTHWIND_ERP}],
            "reject_all",
            ChangeOrigin.command("test"),
        )
        record = SourceRecord.objects.get()
        decisions = [
            MatchDecision.objects.create(
                source_record=record,
                domain="customer",
                outcome="new",
                golden_id=record.golden_id,
                probability=0.1 * i,
                rule="new",
                rule_version=1,
                explanation={
                    "probability": 0.1 * i,
                    "weight": -3.0,
                    "reason": "weights",
                    "rule_version": 1,
                    "comparisons": [],
                },
                candidates=[],
                decided_by="test",
                created_at=record.created_at.replace(microsecond=i),
            )
            for i in range(3)
        ]
        params = {"system": "erp", "domain": "customer", "source_id": "100045"}
        page = reader.get(DECISIONS, {**params, "limit": 2})
        assert_matches_schema(page, DECISIONS)
        body = page.json()
        assert body["count"] == 3
        # Newest first.
        assert [r["id"] for r in body["results"]] == [decisions[2].pk, decisions[1].pk]
        rest = reader.get(DECISIONS, {**params, "limit": 2, "offset": 2}).json()
        assert [r["id"] for r in rest["results"]] == [decisions[0].pk]

    @pytest.mark.parametrize(
        "params, code, missing",
        [
            ({}, "missing_parameter", ["system", "domain", "source_id"]),
            ({"system": "crm", "domain": "customer"}, "missing_parameter", ["source_id"]),
            ({"system": "crm", "source_id": "A-1"}, "missing_parameter", ["domain"]),
            ({"domain": "customer", "source_id": "A-1"}, "missing_parameter", ["system"]),
            ({"system": "crm", "domain": "invoice", "source_id": "A-1"}, "invalid_domain", []),
        ],
    )
    def test_parameter_errors(self, reader, params, code, missing):
        response = reader.get(DECISIONS, params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == code
        for name in missing:
            assert name in error["message"]
        assert_matches_schema(response, DECISIONS)


def test_the_match_endpoints_are_in_the_published_schema(client):
    paths = _schema()["paths"]
    assert {REVIEWS, REVIEW, DECISION, DECISIONS} <= set(paths)
    decision = paths[DECISION]["post"]
    assert {"200", "403", "404", "409"} <= set(decision["responses"])
    served = client.get("/api/schema/")
    assert served.status_code == 200
    assert b"/api/v1/match-reviews/{review_id}/decision" in served.content
