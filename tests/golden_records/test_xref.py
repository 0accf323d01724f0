"""The cross-reference lookup API: single and target lookups, batches, merges, unmerges, as_of,
404 reasons, ETags, token scopes, query counts, and every answer checked against the schema."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from golden_records import xref
from golden_records.history import ChangeOrigin
from golden_records.models import ApiToken, SourceRecord
from golden_records.services import merge_golden, unmerge
from tests.conftest import client_for, make_system, make_token
from tests.helpers import put
from tests.matching.test_match_api import assert_matches_schema

pytestmark = pytest.mark.django_db

XREF = "/api/v1/xref/{domain}/{system}/{source_id}"
TARGET = "/api/v1/xref/{domain}/{system}/{source_id}/{target_system}"
LOOKUP = "/api/v1/xref/{domain}/lookup"
STEWARD = ChangeOrigin.command("test")

ACME = {"name": "Acme Industrial Supply, Inc.", "tax_id": "DE136695976", "country": "DE"}
GLOBEX = {"name": "Globex Logistics GmbH", "tax_id": "DE811907980", "country": "DE"}


def get(client: APIClient, path: str, **params):
    return client.get(path, params or None)


def lookup(client: APIClient, body, domain: str = "customer", **params):
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return client.post(
        LOOKUP.format(domain=domain) + query, data=json.dumps(body), content_type="application/json"
    )


def golden_id(system: str, source_id: str) -> uuid.UUID:
    return SourceRecord.objects.get(system__code=system, source_id=source_id).golden_id


def record_pk(system: str, source_id: str) -> int:
    return SourceRecord.objects.get(system__code=system, source_id=source_id).pk


@pytest.fixture
def reader(systems) -> APIClient:
    return client_for(make_token(None, ApiToken.Scope.READ))


@pytest.fixture
def linked(api) -> dict[str, uuid.UUID]:
    """Acme in ERP, CRM and eCommerce (linked by tax id; the eCommerce id has slashes), Globex in
    ERP and CRM."""
    assert put(api["erp"], "erp", "customer", "C100234", ACME).status_code == 201
    assert put(api["crm"], "crm", "customer", "0015g00000XyZ", ACME).json()["action"] == "linked"
    assert put(api["ecom"], "ecom", "customer", "shop/de/881", ACME).json()["action"] == "linked"
    assert put(api["erp"], "erp", "customer", "C200777", GLOBEX).status_code == 201
    assert put(api["crm"], "crm", "customer", "0015g00000AbC", GLOBEX).json()["action"] == "linked"
    return {"acme": golden_id("erp", "C100234"), "globex": golden_id("erp", "C200777")}


class TestSingleLookup:
    def test_every_systems_id_with_when_it_was_linked(self, linked, reader):
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        response = get(reader, path)
        assert response.status_code == 200
        assert_matches_schema(response, XREF)
        body = response.json()
        assert body["golden_id"] == str(linked["acme"])
        assert body["status"] == "active"
        assert body["resolved_from"] is None and body["as_of"] is None
        assert [(x["system"], x["source_id"]) for x in body["xrefs"]] == [
            ("erp", "C100234"),
            ("crm", "0015g00000XyZ"),
            ("ecom", "shop/de/881"),
        ]
        erp = body["xrefs"][0]
        record = SourceRecord.objects.get(source_id="C100234")
        assert erp["linked_at"] == record.linked_at.isoformat()
        assert erp["link_rule"] == record.link_rule

    def test_source_id_with_slashes(self, linked, reader):
        path = XREF.format(domain="customer", system="ecom", source_id="shop/de/881")
        response = get(reader, path)
        assert response.status_code == 200
        assert response.json()["golden_id"] == str(linked["acme"])

    def test_by_golden_id(self, linked, reader):
        response = get(
            reader, XREF.format(domain="customer", system="golden", source_id=linked["globex"])
        )
        assert response.status_code == 200
        assert_matches_schema(response, XREF)
        assert {x["source_id"] for x in response.json()["xrefs"]} == {"C200777", "0015g00000AbC"}

    def test_one_query(self, linked):
        with CaptureQueriesContext(connection) as queries:
            answer = xref.lookup("customer", "crm", "0015g00000XyZ")
        assert len(queries) == 1
        assert answer.golden_id == linked["acme"] and len(answer.xrefs) == 3

    def test_indexes_the_lookup_relies_on_exist(self):
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(
                cursor, SourceRecord._meta.db_table
            )
            history = connection.introspection.get_constraints(
                cursor, SourceRecord.history.model._meta.db_table
            )
        columns = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
        assert ("system_id", "domain", "source_id") in columns
        assert ("domain", "golden_id") in columns
        assert history["hist_source_by_golden"]["columns"] == ["golden_id", "history_date"]


class TestTargetLookup:
    def test_the_target_systems_ids(self, linked, reader):
        path = TARGET.format(
            domain="customer", system="crm", source_id="0015g00000XyZ", target_system="erp"
        )
        response = get(reader, path)
        assert response.status_code == 200
        assert_matches_schema(response, TARGET)
        body = response.json()
        assert body["target_system"] == "erp"
        assert [i["source_id"] for i in body["ids"]] == ["C100234"]
        assert body["golden_id"] == str(linked["acme"])

    def test_slashed_source_id_then_target(self, linked, reader):
        path = "/api/v1/xref/customer/ecom/shop/de/881/crm"
        response = get(reader, path)
        assert response.status_code == 200
        assert [i["source_id"] for i in response.json()["ids"]] == ["0015g00000XyZ"]

    def test_slashed_target_id(self, linked, reader):
        response = get(reader, "/api/v1/xref/customer/erp/C100234/ecom")
        assert [i["source_id"] for i in response.json()["ids"]] == ["shop/de/881"]

    def test_last_segment_that_is_no_system_is_part_of_the_id(self, api, reader):
        put(api["erp"], "erp", "customer", "C1/nosuch", GLOBEX)
        response = get(reader, "/api/v1/xref/customer/erp/C1/nosuch")
        assert response.status_code == 200
        assert response.json()["source_id"] == "C1/nosuch"

    def test_no_id_in_target_system(self, linked, reader):
        path = TARGET.format(
            domain="customer", system="erp", source_id="C200777", target_system="ecom"
        )
        response = get(reader, path)
        assert response.status_code == 404
        assert_matches_schema(response, TARGET)
        error = response.json()["error"]
        assert error["code"] == "no_id_in_target_system"
        assert "no id in target system" in error["message"]

    def test_golden_id_to_target(self, linked, reader):
        path = TARGET.format(
            domain="customer", system="golden", source_id=linked["acme"], target_system="crm"
        )
        assert [i["source_id"] for i in get(reader, path).json()["ids"]] == ["0015g00000XyZ"]


class TestNotFound:
    @pytest.mark.parametrize(
        ("path", "code"),
        [
            ("/api/v1/xref/customer/crm/nope", "source_record_not_found"),
            ("/api/v1/xref/customer/sap/C100234", "unknown_system"),
            ("/api/v1/xref/item/erp/C100234", "source_record_not_found"),
            (f"/api/v1/xref/customer/golden/{uuid.uuid4()}", "golden_record_not_found"),
            ("/api/v1/xref/customer/golden/not-a-uuid", "golden_record_not_found"),
            ("/api/v1/xref/customer/crm/nope/erp", "source_record_not_found"),
        ],
    )
    def test_404_with_a_reason(self, linked, reader, path, code):
        response = get(reader, path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]
        template = TARGET if path.endswith("/erp") else XREF
        assert_matches_schema(response, template)

    def test_unknown_domain(self, linked, reader):
        response = get(reader, "/api/v1/xref/invoice/crm/0015g00000XyZ")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_domain"
        assert_matches_schema(response, XREF)

    @pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", ""])
    def test_invalid_as_of(self, linked, reader, value):
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        response = get(reader, path, as_of=value)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_as_of"
        assert_matches_schema(response, XREF)


class TestMergeAndUnmerge:
    def test_merged_golden_id_resolves_to_the_survivor_and_says_so(self, linked, reader):
        merge_golden("customer", linked["acme"], [linked["globex"]], STEWARD)
        response = get(
            reader, XREF.format(domain="customer", system="golden", source_id=linked["globex"])
        )
        assert response.status_code == 200
        assert_matches_schema(response, XREF)
        body = response.json()
        assert body["golden_id"] == str(linked["acme"])
        assert body["resolved_from"] == str(linked["globex"])
        assert body["status"] == "active"
        assert {x["source_id"] for x in body["xrefs"]} == {
            "C100234",
            "0015g00000XyZ",
            "shop/de/881",
            "C200777",
            "0015g00000AbC",
        }
        moved = next(x for x in body["xrefs"] if x["source_id"] == "C200777")
        assert moved["link_rule"] == "merge"

    def test_source_ids_of_merged_records_follow(self, linked, reader):
        merge_golden("customer", linked["acme"], [linked["globex"]], STEWARD)
        body = get(reader, XREF.format(domain="customer", system="crm", source_id="0015g00000AbC"))
        assert body.json()["golden_id"] == str(linked["acme"])
        assert body.json()["resolved_from"] is None

    def test_merge_chains_resolve_to_the_last_survivor(self, linked, api, reader):
        put(api["erp"], "erp", "customer", "C300", {**GLOBEX, "tax_id": "DE129273398"})
        third = golden_id("erp", "C300")
        merge_golden("customer", linked["globex"], [third], STEWARD)
        merge_golden("customer", linked["acme"], [linked["globex"]], STEWARD)
        results = lookup(
            reader, {"lookups": [{"system": "golden", "source_id": str(third)}]}
        ).json()["results"]
        assert results[0]["golden_id"] == str(linked["acme"])
        assert results[0]["resolved_from"] == str(third)

    def test_unmerged_ids_resolve_to_their_new_golden_record(self, linked, reader):
        new_id = unmerge(
            "customer",
            linked["acme"],
            [record_pk("crm", "0015g00000XyZ"), record_pk("ecom", "shop/de/881")],
            STEWARD,
        )
        crm = get(reader, XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ"))
        assert crm.json()["golden_id"] == str(new_id)
        assert {x["source_id"] for x in crm.json()["xrefs"]} == {"0015g00000XyZ", "shop/de/881"}
        erp = get(reader, XREF.format(domain="customer", system="erp", source_id="C100234"))
        assert erp.json()["golden_id"] == str(linked["acme"])
        assert [x["source_id"] for x in erp.json()["xrefs"]] == ["C100234"]
        none = get(
            reader,
            TARGET.format(
                domain="customer", system="erp", source_id="C100234", target_system="crm"
            ),
        )
        assert none.status_code == 404
        assert none.json()["error"]["code"] == "no_id_in_target_system"


class TestAsOf:
    def test_answers_as_of_each_moment(self, api, reader):
        before = timezone.now()
        put(api["erp"], "erp", "customer", "C100234", ACME)
        put(api["crm"], "crm", "customer", "0015g00000XyZ", ACME)
        put(api["erp"], "erp", "customer", "C200777", GLOBEX)
        acme, globex = golden_id("erp", "C100234"), golden_id("erp", "C200777")
        linked = timezone.now()
        merge_golden("customer", acme, [globex], STEWARD)
        merged = timezone.now()
        new_id = unmerge("customer", acme, [record_pk("crm", "0015g00000XyZ")], STEWARD)
        after = timezone.now()

        def xrefs(system, source_id, when):
            response = get(
                reader,
                XREF.format(domain="customer", system=system, source_id=source_id),
                as_of=when.isoformat(),
            )
            if response.status_code == 200:
                assert_matches_schema(response, XREF)
            return response

        early = xrefs("crm", "0015g00000XyZ", before)
        assert early.status_code == 404
        assert early.json()["error"]["code"] == "not_found_as_of"
        assert_matches_schema(early, XREF)

        then = xrefs("crm", "0015g00000XyZ", linked).json()
        assert then["golden_id"] == str(acme)
        assert then["as_of"] == linked.isoformat()
        assert {x["source_id"] for x in then["xrefs"]} == {"C100234", "0015g00000XyZ"}

        globex_then = xrefs("golden", str(globex), linked).json()
        assert (globex_then["golden_id"], globex_then["status"]) == (str(globex), "active")
        assert globex_then["resolved_from"] is None
        assert [x["source_id"] for x in globex_then["xrefs"]] == ["C200777"]

        globex_merged = xrefs("golden", str(globex), merged).json()
        assert globex_merged["golden_id"] == str(acme)
        assert globex_merged["resolved_from"] == str(globex)
        assert len(globex_merged["xrefs"]) == 3

        crm_merged = xrefs("crm", "0015g00000XyZ", merged).json()
        assert crm_merged["golden_id"] == str(acme)
        crm_after = xrefs("crm", "0015g00000XyZ", after).json()
        assert crm_after["golden_id"] == str(new_id)
        assert [x["source_id"] for x in crm_after["xrefs"]] == ["0015g00000XyZ"]
        erp_after = xrefs("erp", "C200777", after).json()
        assert {x["source_id"] for x in erp_after["xrefs"]} == {"C100234", "C200777"}

        new_before = xrefs("golden", str(new_id), merged)
        assert new_before.status_code == 404
        assert new_before.json()["error"]["code"] == "not_found_as_of"

        # Batch as_of: the same answers, in order.
        batch = lookup(
            reader,
            {
                "lookups": [
                    {"system": "crm", "source_id": "0015g00000XyZ"},
                    {"system": "golden", "source_id": str(globex)},
                    {"system": "crm", "source_id": "nope"},
                ]
            },
            as_of=merged.isoformat().replace("+", "%2B"),
        )
        assert batch.status_code == 200
        assert_matches_schema(batch, LOOKUP, "post")
        results = batch.json()["results"]
        assert [r["golden_id"] for r in results] == [str(acme), str(acme), None]
        assert results[1]["resolved_from"] == str(globex)
        assert results[2]["error"]["code"] == "source_record_not_found"

    def test_as_of_without_offset_is_utc(self, linked, reader):
        when = timezone.now().astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        response = get(
            reader,
            XREF.format(domain="customer", system="erp", source_id="C100234"),
            as_of=when,
        )
        assert response.status_code == 200
        assert response.json()["as_of"].endswith("+00:00")


class TestBatch:
    def test_results_in_order_with_unknowns_marked(self, linked, api, reader):
        keys = [
            {"system": "crm", "source_id": "0015g00000AbC"},
            {"system": "crm", "source_id": "missing"},
            {"system": "erp", "source_id": "C100234"},
            {"system": "sap", "source_id": "C100234"},
            {"system": "golden", "source_id": str(linked["globex"])},
            {"system": "golden", "source_id": "not-a-uuid"},
            {"system": "crm", "source_id": "0015g00000AbC"},
            {"system": "ecom", "source_id": "shop/de/881"},
        ]
        response = lookup(api["wms"], {"lookups": keys})
        assert response.status_code == 200
        assert_matches_schema(response, LOOKUP, "post")
        body = response.json()
        results = body["results"]
        assert [(r["system"], r["source_id"]) for r in results] == [
            (k["system"], k["source_id"]) for k in keys
        ]
        g = {k: str(v) for k, v in linked.items()}
        assert [r["golden_id"] for r in results] == [
            g["globex"],
            None,
            g["acme"],
            None,
            g["globex"],
            None,
            g["globex"],
            g["acme"],
        ]
        assert [r["error"]["code"] if r["error"] else None for r in results] == [
            None,
            "source_record_not_found",
            None,
            "unknown_system",
            None,
            "golden_record_not_found",
            None,
            None,
        ]
        assert [r["found"] for r in results] == [True, False, True, False, True, False, True, True]
        assert body["summary"] == {"found": 5, "not_found": 3, "no_id_in_target_system": 0}
        assert len(results[2]["xrefs"]) == 3

    def test_target_system(self, linked, reader):
        response = lookup(
            reader,
            {
                "lookups": [
                    {"system": "crm", "source_id": "0015g00000XyZ"},
                    {"system": "crm", "source_id": "0015g00000AbC"},
                ],
                "target_system": "ecom",
            },
        )
        assert_matches_schema(response, LOOKUP, "post")
        body = response.json()
        assert body["target_system"] == "ecom"
        first, second = body["results"]
        assert [x["source_id"] for x in first["xrefs"]] == ["shop/de/881"]
        assert second["found"] and second["xrefs"] == []
        assert second["error"]["code"] == "no_id_in_target_system"
        assert body["summary"] == {"found": 1, "not_found": 0, "no_id_in_target_system": 1}

    def test_a_fixed_number_of_queries(self, linked, api):
        for i in range(30):
            put(api["wms"], "wms", "customer", f"W{i}", {"name": f"Wholesale {i}", "country": "DE"})
        keys = [("wms", f"W{i}") for i in range(30)] + [("crm", "0015g00000XyZ")]
        with CaptureQueriesContext(connection) as queries:
            answers = xref.lookup_many("customer", keys)
        assert len(queries) == 2
        assert all(isinstance(a, xref.XrefAnswer) for a in answers)

    def test_thousand_keys(self, linked, reader):
        keys = [{"system": "crm", "source_id": f"X{i}"} for i in range(999)]
        keys.append({"system": "erp", "source_id": "C100234"})
        response = lookup(reader, {"lookups": keys})
        assert response.status_code == 200
        body = response.json()
        assert body["summary"]["not_found"] == 999
        assert body["results"][-1]["golden_id"] == str(linked["acme"])

    @pytest.mark.parametrize(
        ("body", "field", "code"),
        [
            ({"lookups": []}, "lookups", "min_length"),
            ({"lookups": [{"system": "crm", "source_id": "x"}] * 1001}, "lookups", "max_length"),
            ({}, "lookups", "required"),
            ({"lookups": [{"system": "crm"}]}, "lookups[0].source_id", "required"),
            ({"lookups": [{"system": 1, "source_id": "x"}]}, "lookups[0].system", "invalid_type"),
            ({"lookups": ["crm:x"]}, "lookups[0]", "invalid_type"),
            (
                {"lookups": [{"system": "crm", "source_id": "x", "x": 1}]},
                "lookups[0].x",
                "unknown_field",
            ),
            ({"lookups": [{"system": "crm", "source_id": "x"}], "target": "erp"}, "target", None),
        ],
    )
    def test_invalid_bodies(self, linked, reader, body, field, code):
        response = lookup(reader, body)
        assert response.status_code == 400
        assert_matches_schema(response, LOOKUP, "post")
        error = response.json()["error"]
        assert error["code"] == "invalid_batch"
        fields = {f["field"]: f["code"] for f in error["fields"]}
        assert field in fields
        if code:
            assert fields[field] == code

    def test_unknown_target_system(self, linked, reader):
        response = lookup(
            reader,
            {"lookups": [{"system": "crm", "source_id": "x"}], "target_system": "sap"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_system"
        assert_matches_schema(response, LOOKUP, "post")

    def test_body_not_an_object(self, linked, reader):
        response = lookup(reader, [1, 2])
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_batch"


class TestEtag:
    def test_not_modified_until_the_answer_changes(self, linked, api, reader):
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        first = get(reader, path)
        etag = first["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = reader.get(path, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == etag
        assert reader.get(path, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
        put(api["wms"], "wms", "customer", "W-9", ACME)
        changed = reader.get(path, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200
        assert changed["ETag"] != etag
        assert changed.json()["xrefs"][-1]["source_id"] == "W-9"

    def test_as_of_answers_have_their_own_etag(self, linked, reader):
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        now = get(reader, path)["ETag"]
        then = get(reader, path, as_of=timezone.now().isoformat())
        assert then.status_code == 200 and then["ETag"] != now


class TestTokens:
    def test_read_only_and_write_tokens_of_any_system_read(self, linked, api, reader):
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        for client in (reader, api["erp"], api["crm"], api["edi"]):
            assert get(client, path).status_code == 200
            assert (
                lookup(client, {"lookups": [{"system": "erp", "source_id": "C1"}]}).status_code
                == 200
            )

    def test_read_only_tokens_write_nothing(self, linked, reader):
        response = put(reader, "erp", "customer", "C999", GLOBEX)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "system_forbidden"
        assert not SourceRecord.objects.filter(source_id="C999").exists()

    def test_a_write_token_writes_only_its_system(self, linked, api):
        response = put(api["erp"], "crm", "customer", "C999", GLOBEX)
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("header", "code"),
        [(None, "not_authenticated"), ("Bearer mdm_nope", "invalid_token")],
    )
    def test_needs_a_valid_token(self, linked, header, code):
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        response = get(client, path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        assert_matches_schema(response, XREF)
        assert lookup(client, {"lookups": []}).status_code == 401

    def test_revoked_token(self, linked):
        token = make_token(make_system("tms"))
        ApiToken.objects.filter(hint=token[:12]).update(revoked_at=timezone.now())
        path = XREF.format(domain="customer", system="crm", source_id="0015g00000XyZ")
        response = get(client_for(token), path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_revoked"


def test_new_system_codes_are_seen_as_targets(linked, reader, monkeypatch):
    assert xref.is_system_code("erp")  # the cache is warm
    monkeypatch.setattr(xref, "SYSTEM_CODES_MAX_AGE", 0.0)  # a second later
    make_system("tms")
    path = "/api/v1/xref/customer/erp/C100234/tms"
    response = get(reader, path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_id_in_target_system"


def test_schema_documents_the_routes():
    from tests.matching.test_match_api import _schema

    paths = _schema()["paths"]
    assert {XREF, TARGET, LOOKUP} <= set(paths)
    assert "304" in paths[XREF]["get"]["responses"]
