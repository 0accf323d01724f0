"""The golden-record read API: per-domain list with filters and cursor pages, detail with lineage,
cross-references and discrepancies, merged ids, as_of, ETags, the per-domain schema, and the
token cache. Every answer is checked against the published schema."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from golden_records.api import authentication
from golden_records.api.golden import decode_cursor, encode_cursor
from golden_records.domains import DOMAINS
from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, ApiToken, SourceRecord
from golden_records.services import merge_golden, set_override, unmerge
from tests.conftest import client_for, make_token
from tests.helpers import put
from tests.matching.test_match_api import _schema, assert_matches_schema

pytestmark = pytest.mark.django_db

LIST = "/api/v1/golden/{domain}"
DETAIL = "/api/v1/golden/{domain}/{golden_id}"
STEWARD = ChangeOrigin.command("test")
Customer = GOLDEN_MODELS["customer"]

ACME = {
    "name": "Acme Industrial Supply, Inc.",
    "tax_id": "DE136695976",
    "country": "DE",
    "city": "Berlin",
    "credit_limit": "25000.00",
    "credit_currency": "EUR",
    "credit_hold": False,
}
GLOBEX = {"name": "Globex Logistics GmbH", "tax_id": "DE811907980", "country": "Germany"}
INITECH = {"name": "Initech Corp", "country": "US", "city": "Austin", "credit_limit": "500"}


def golden_id(system: str, source_id: str, domain: str = "customer") -> uuid.UUID:
    return SourceRecord.objects.get(
        system__code=system, domain=domain, source_id=source_id
    ).golden_id


def listing(client: APIClient, domain: str = "customer", **params):
    response = client.get(LIST.format(domain=domain), params)
    if response.status_code != 304:
        assert_matches_schema(response, LIST.format(domain=domain))
    return response


def detail(client: APIClient, gid, domain: str = "customer", **params):
    response = client.get(DETAIL.format(domain=domain, golden_id=gid), params)
    if response.status_code != 304:
        assert_matches_schema(response, DETAIL.format(domain=domain, golden_id="{golden_id}"))
    return response


# Unlike each other, so the matcher keeps them apart.
COMPANIES = [
    "Northwind Traders",
    "Contoso Pharmaceuticals",
    "Fabrikam Residences",
    "Tailspin Toys",
    "Wingtip Aviation",
    "Litware Software",
]


def company(i: int, **extra) -> dict:
    return {"name": COMPANIES[i], **extra}


def names(response) -> list[str]:
    return [r["attributes"]["name"] for r in response.json()["results"]]


@pytest.fixture
def reader(systems) -> APIClient:
    return client_for(make_token(None, ApiToken.Scope.READ))


@pytest.fixture
def customers(api) -> dict[str, uuid.UUID]:
    """Acme from ERP and CRM (CRM sends another city: a discrepancy), Globex, Initech."""
    assert put(api["erp"], "erp", "customer", "C100234", ACME).status_code == 201
    crm = {**ACME, "city": "Potsdam", "credit_limit": "99.00"}
    assert put(api["crm"], "crm", "customer", "0015g", crm).json()["action"] == "linked"
    assert put(api["erp"], "erp", "customer", "C200777", GLOBEX).status_code == 201
    assert put(api["erp"], "erp", "customer", "C300001", INITECH).status_code == 201
    return {
        "acme": golden_id("erp", "C100234"),
        "globex": golden_id("erp", "C200777"),
        "initech": golden_id("erp", "C300001"),
    }


class TestList:
    def test_lists_a_domains_golden_records_oldest_change_first(self, customers, reader):
        response = listing(reader)
        assert response.status_code == 200
        body = response.json()
        assert body["domain"] == "customer"
        assert body["next_cursor"] is None and body["next"] is None
        assert {r["golden_id"] for r in body["results"]} == {str(g) for g in customers.values()}
        stamps = [(r["updated_at"], r["golden_id"]) for r in body["results"]]
        assert stamps == sorted(stamps)
        acme = next(r for r in body["results"] if r["golden_id"] == str(customers["acme"]))
        assert acme["status"] == "active" and acme["merged_into"] is None
        assert acme["attributes"]["credit_limit"] == "25000"
        assert acme["attributes"]["credit_hold"] is False
        assert acme["attributes"]["country"] == "DE"
        assert acme["attributes"]["parent"] is None
        assert set(acme["attributes"]) == set(DOMAINS["customer"].attribute_names)

    def test_other_domains_have_their_own_route(self, customers, api, reader):
        put(api["erp"], "erp", "item", "MAT-1", {"sku": "ab-1", "name": "Hex bolt M8"})
        items = listing(reader, "item").json()["results"]
        assert [i["attributes"]["sku"] for i in items] == ["AB-1"]
        assert listing(reader, "location").json()["results"] == []
        assert listing(reader, "price").json()["results"] == []

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"country": "DE"}, {"Acme Industrial Supply, Inc.", "Globex Logistics GmbH"}),
            ({"country": "Germany"}, {"Acme Industrial Supply, Inc.", "Globex Logistics GmbH"}),
            ({"country__in": "US,FR"}, {"Initech Corp"}),
            ({"name__icontains": "GLOBEX"}, {"Globex Logistics GmbH"}),
            ({"name__istartswith": "ini"}, {"Initech Corp"}),
            ({"name": "  Initech   Corp "}, {"Initech Corp"}),
            ({"credit_limit__gte": "1000"}, {"Acme Industrial Supply, Inc."}),
            ({"credit_limit__lt": "1000.5"}, {"Initech Corp"}),
            ({"credit_limit": "500.00"}, {"Initech Corp"}),
            ({"credit_limit__isnull": "true"}, {"Globex Logistics GmbH"}),
            ({"city__isnull": "true"}, {"Globex Logistics GmbH"}),
            ({"city__isnull": "false", "country": "DE"}, {"Acme Industrial Supply, Inc."}),
            ({"credit_hold": "false"}, {"Acme Industrial Supply, Inc."}),
            ({"tax_id": "DE 136 695 976"}, {"Acme Industrial Supply, Inc."}),
            (
                {"record_status": "active"},
                {"Acme Industrial Supply, Inc.", "Globex Logistics GmbH", "Initech Corp"},
            ),
            ({"record_status": "merged,retired"}, set()),
            ({"parent__isnull": "true", "city": "austin"}, set()),  # equality is exact
            ({"city__icontains": "austin"}, {"Initech Corp"}),
        ],
    )
    def test_filters(self, customers, reader, params, expected):
        response = listing(reader, **params)
        assert response.status_code == 200, response.json()
        assert set(names(response)) == expected

    def test_updated_since(self, customers, api, reader):
        since = timezone.now()
        assert names(listing(reader, updated_since=since.isoformat())) == []
        put(api["erp"], "erp", "customer", "C200777", {**GLOBEX, "city": "Hamburg"})
        assert names(listing(reader, updated_since=since.isoformat())) == ["Globex Logistics GmbH"]
        # An unencoded "+" arrives as a space; a time without offset is UTC.
        assert listing(reader, updated_since="2020-01-01T00:00:00 00:00").status_code == 200
        assert len(names(listing(reader, updated_since="2020-01-01T00:00:00"))) == 3

    def test_reference_filter_takes_golden_ids(self, customers, api, reader):
        put(api["crm"], "crm", "customer", "SUB-1", {"name": "Acme Sub", "parent": "0015g"})
        response = listing(reader, parent=str(customers["acme"]))
        assert names(response) == ["Acme Sub"]
        assert names(listing(reader, parent__in=f"{uuid.uuid4()},{customers['acme']}")) == [
            "Acme Sub"
        ]

    @pytest.mark.parametrize(
        ("params", "field", "code"),
        [
            ({"nosuch": "1"}, "nosuch", "unknown_filter"),
            ({"name__gt": "A"}, "name__gt", "unknown_filter"),
            ({"as_of": "last week"}, "as_of", "invalid_datetime"),
            ({"country": "Narnia"}, "country", "invalid_country"),
            ({"credit_limit__gt": "lots"}, "credit_limit__gt", "invalid_number"),
            ({"credit_limit__gt": "1e40"}, "credit_limit__gt", "too_large"),
            ({"credit_limit": "1.001"}, "credit_limit", "too_many_decimals"),
            ({"credit_hold": "maybe"}, "credit_hold", "invalid_boolean"),
            ({"city__isnull": "perhaps"}, "city__isnull", "invalid_boolean"),
            ({"parent": "C100234"}, "parent", "invalid_uuid"),
            ({"name__icontains": "a\x00b"}, "name__icontains", "invalid_character"),
            ({"status": "sleeping"}, "status", "invalid_choice"),
            ({"record_status": "deleted"}, "record_status", "invalid_choice"),
            ({"updated_since": "yesterday"}, "updated_since", "invalid_datetime"),
            ({"limit": "0"}, "limit", "invalid_limit"),
            ({"limit": "1001"}, "limit", "invalid_limit"),
            ({"country__in": ","}, "country__in", "required"),
        ],
    )
    def test_invalid_filters_are_400_naming_the_parameter(
        self, customers, reader, params, field, code
    ):
        response = listing(reader, **params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_filter"
        assert error["fields"] == [
            {"field": field, "code": code, "message": error["fields"][0]["message"]}
        ]

    def test_a_parameter_given_twice_is_400(self, customers, reader):
        response = reader.get(LIST.format(domain="customer") + "?country=DE&country=US")
        assert response.status_code == 400
        assert response.json()["error"]["fields"][0]["code"] == "repeated"

    def test_integer_and_date_filters(self, api, reader):
        put(api["erp"], "erp", "item", "I-1", {"sku": "I-1"})
        base = {"item": "I-1", "price_list": "LIST", "currency": "EUR", "unit_price": "1.5"}
        put(
            api["erp"],
            "erp",
            "price",
            "P-1",
            {**base, "min_quantity": 1, "valid_from": "2026-01-01"},
        )
        put(
            api["erp"],
            "erp",
            "price",
            "P-2",
            {**base, "min_quantity": 100, "valid_from": "2026-01-01"},
        )
        found = listing(reader, "price", min_quantity__gte="10").json()["results"]
        assert [p["attributes"]["min_quantity"] for p in found] == [100]
        assert listing(reader, "price", valid_from="2026-01-01").json()["results"]
        assert not listing(reader, "price", valid_from__gt="2026-01-01").json()["results"]
        too_big = listing(reader, "price", min_quantity=str(2**64))
        assert too_big.json()["error"]["fields"][0]["code"] == "invalid_integer"
        assert listing(reader, "price", valid_from="2026-02-30").status_code == 400

    def test_one_query_per_page(self, customers, reader):
        listing(reader)  # the token is cached now
        with CaptureQueriesContext(connection) as queries:
            assert listing(reader, country="DE").status_code == 200
        assert len(queries) == 1


class TestCursorPages:
    def pages(self, client, **params) -> list[list[str]]:
        out, cursor = [], None
        while True:
            query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
            body = listing(client, **query).json()
            out.append([r["attributes"]["name"] for r in body["results"]])
            cursor = body["next_cursor"]
            if cursor is None:
                return out
            assert body["next"].startswith("/api/v1/golden/customer?")
            assert f"cursor={cursor}" in body["next"]

    def test_pages_walk_every_record_once(self, api, reader):
        for i in range(5):
            put(api["erp"], "erp", "customer", f"C{i}", company(i, country="DE"))
        pages = self.pages(reader, country="DE")
        assert pages == [COMPANIES[0:2], COMPANIES[2:4], COMPANIES[4:5]]

    def test_next_link_keeps_the_filters(self, api, reader):
        for i in range(3):
            put(api["erp"], "erp", "customer", f"C{i}", company(i, country="DE"))
        first = listing(reader, country="DE", limit="2").json()
        second = reader.get(first["next"])
        assert second.status_code == 200
        assert names(second) == [COMPANIES[2]]

    def test_stable_under_inserts_and_changes(self, api, reader):
        for i in range(4):
            put(api["erp"], "erp", "customer", f"C{i}", company(i))
        first = listing(reader, limit="2").json()
        assert [r["attributes"]["name"] for r in first["results"]] == COMPANIES[0:2]
        # While the client pages: a new record, and a change to one it has already read.
        put(api["erp"], "erp", "customer", "C9", company(5))
        put(api["erp"], "erp", "customer", "C0", company(0, city="Kiel"))
        rest, cursor = [], first["next_cursor"]
        while cursor:
            body = listing(reader, limit="2", cursor=cursor).json()
            rest += [r["attributes"]["name"] for r in body["results"]]
            cursor = body["next_cursor"]
        # Nothing skipped or repeated; the changed record comes again, at the end, as it is now.
        assert rest == [COMPANIES[2], COMPANIES[3], COMPANIES[5], COMPANIES[0]]

    def test_ties_on_updated_at_are_broken_by_golden_id(self, api, reader):
        for i in range(3):
            put(api["erp"], "erp", "customer", f"C{i}", company(i))
        Customer.objects.update(updated_at=timezone.now())  # one timestamp for all
        ids = sorted(str(g) for g in Customer.objects.values_list("golden_id", flat=True))
        seen, cursor = [], None
        while True:
            body = listing(reader, limit="1", **({"cursor": cursor} if cursor else {})).json()
            seen += [r["golden_id"] for r in body["results"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert seen == ids

    def test_cursor_round_trip_and_garbage(self, customers, reader):
        now, gid = timezone.now(), uuid.uuid4()
        assert decode_cursor(encode_cursor(now, gid)) == (now, gid)
        for garbage in ["nope", "W10", encode_cursor(now, gid)[:-3], "eyJhIjoxfQ"]:
            response = listing(reader, cursor=garbage)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "invalid_cursor"


class TestDetail:
    def test_lineage_xrefs_overrides_and_discrepancies(self, customers, reader, django_user_model):
        user = django_user_model.objects.create_user("stew")
        set_override("customer", customers["acme"], "segment", "Key account", user, "QBR")
        response = detail(reader, customers["acme"])
        assert response.status_code == 200
        body = response.json()
        assert body["golden_id"] == str(customers["acme"]) and body["domain"] == "customer"
        assert body["resolved_from"] is None and body["as_of"] is None
        assert body["attributes"]["city"] == "Berlin"
        assert body["attributes"]["segment"] == "Key account"
        assert body["lineage"]["city"]["system"] == "erp"
        assert body["lineage"]["city"]["source_id"] == "C100234"
        assert body["lineage"]["segment"]["rule"] == "override"
        assert [(x["system"], x["source_id"]) for x in body["xrefs"]] == [
            ("erp", "C100234"),
            ("crm", "0015g"),
        ]
        assert body["overrides"] == [
            {
                "attribute": "segment",
                "value": "Key account",
                "reason": "QBR",
                "set_by": "stew",
                "set_at": body["overrides"][0]["set_at"],
            }
        ]
        found = {(d["attribute"], d["system"], d["value"]) for d in body["discrepancies"]}
        assert ("city", "crm", "Potsdam") in found
        assert ("credit_limit", "crm", "99") in found

    def test_every_domain(self, api, reader):
        put(api["erp"], "erp", "item", "I-1", {"sku": "I-1", "weight_kg": "0.25"})
        put(api["erp"], "erp", "location", "L-1", {"code": "WH1", "kind": "wh", "latitude": "52.5"})
        put(api["erp"], "erp", "price", "P-1", {
            "item": "I-1", "price_list": "LIST", "currency": "EUR", "unit_price": "1.5",
            "valid_from": "2026-01-01"})  # fmt: skip
        item = detail(reader, golden_id("erp", "I-1", "item"), "item").json()
        assert item["attributes"]["weight_kg"] == "0.25"
        location = detail(reader, golden_id("erp", "L-1", "location"), "location").json()
        assert location["attributes"]["kind"] == "warehouse"
        price = detail(reader, golden_id("erp", "P-1", "price"), "price").json()
        assert price["attributes"]["item"] == item["golden_id"]
        assert price["attributes"]["valid_from"] == "2026-01-01"

    def test_not_found_and_unknown_domain(self, customers, reader):
        missing = detail(reader, uuid.uuid4())
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "golden_record_not_found"
        # An id of another domain is not found in this one.
        assert detail(reader, customers["acme"], "item").status_code == 404
        not_a_uuid = reader.get("/api/v1/golden/customer/C100234")
        assert not_a_uuid.status_code == 404
        assert not_a_uuid.json()["error"]["code"] == "golden_record_not_found"
        for path in ["/api/v1/golden/invoice", f"/api/v1/golden/invoice/{customers['acme']}"]:
            response = reader.get(path)
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "unknown_domain"

    def test_a_merged_id_reads_as_its_survivor(self, customers, reader):
        merge_golden("customer", customers["acme"], [customers["globex"]], STEWARD)
        body = detail(reader, customers["globex"]).json()
        assert body["golden_id"] == str(customers["acme"])
        assert body["resolved_from"] == str(customers["globex"])
        assert body["status"] == "active"
        assert {x["source_id"] for x in body["xrefs"]} == {"C100234", "0015g", "C200777"}
        merged = listing(reader, record_status="merged").json()["results"]
        assert [(m["golden_id"], m["merged_into"]) for m in merged] == [
            (str(customers["globex"]), str(customers["acme"]))
        ]

    def test_tokens(self, customers, api):
        path = DETAIL.format(domain="customer", golden_id=customers["acme"])
        assert api["wms"].get(path).status_code == 200  # any system's write token reads
        anonymous = client_for(None).get(path)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "not_authenticated"
        assert client_for("mdm_nope").get(LIST.format(domain="customer")).status_code == 401


class TestAsOf:
    def test_the_record_as_it_was(self, api, reader):
        before = timezone.now()
        put(api["erp"], "erp", "customer", "C100234", ACME)
        acme = golden_id("erp", "C100234")
        created = timezone.now()
        put(api["crm"], "crm", "customer", "0015g", {**ACME, "city": "Potsdam"})
        put(api["erp"], "erp", "customer", "C100234", {**ACME, "city": "Hamburg"})
        changed = timezone.now()

        early = detail(reader, acme, as_of=before.isoformat())
        assert early.status_code == 404
        assert early.json()["error"]["code"] == "not_found_as_of"

        then = detail(reader, acme, as_of=created.isoformat()).json()
        assert then["as_of"] == created.isoformat()
        assert (then["version"], then["attributes"]["city"]) == (1, "Berlin")
        assert [x["source_id"] for x in then["xrefs"]] == ["C100234"]
        assert then["discrepancies"] == []
        assert then["lineage"]["city"]["source_id"] == "C100234"

        now = detail(reader, acme, as_of=changed.isoformat()).json()
        current = detail(reader, acme).json()
        assert now["attributes"] == current["attributes"]
        assert now["version"] == current["version"] > 1
        assert now["attributes"]["city"] == "Hamburg"
        assert [x["source_id"] for x in now["xrefs"]] == ["C100234", "0015g"]
        assert {(d["attribute"], d["value"]) for d in now["discrepancies"]} == {("city", "Potsdam")}

    def test_the_list_as_it_was(self, api, reader):
        before = timezone.now()
        put(api["erp"], "erp", "customer", "C100234", ACME)
        created = timezone.now()
        put(api["erp"], "erp", "customer", "C100234", {**ACME, "city": "Hamburg"})
        put(api["erp"], "erp", "customer", "C200777", {**ACME, "name": "Globex", "duns": ""})
        assert names(listing(reader, as_of=before.isoformat())) == []
        then = listing(reader, as_of=created.isoformat()).json()["results"]
        assert [(r["version"], r["attributes"]["city"]) for r in then] == [(1, "Berlin")]
        assert names(listing(reader, as_of=created.isoformat(), city="Hamburg")) == []
        now = listing(reader, as_of=timezone.now().isoformat(), limit=1).json()
        assert now["results"][0]["attributes"]["city"] == "Hamburg"
        follow = listing(reader, as_of=timezone.now().isoformat(), cursor=now["next_cursor"])
        assert names(follow) == ["Globex"]

    def test_merges_and_unmerges_as_they_were(self, customers, reader):
        linked = timezone.now()
        merge_golden("customer", customers["acme"], [customers["globex"]], STEWARD)
        merged = timezone.now()
        crm = SourceRecord.objects.get(source_id="0015g").pk
        new_id = unmerge("customer", customers["acme"], [crm], STEWARD)
        after = timezone.now()

        globex_then = detail(reader, customers["globex"], as_of=linked.isoformat()).json()
        assert globex_then["golden_id"] == str(customers["globex"])
        assert globex_then["resolved_from"] is None and globex_then["status"] == "active"
        assert [x["source_id"] for x in globex_then["xrefs"]] == ["C200777"]

        globex_merged = detail(reader, customers["globex"], as_of=merged.isoformat()).json()
        assert globex_merged["golden_id"] == str(customers["acme"])
        assert globex_merged["resolved_from"] == str(customers["globex"])
        assert {x["source_id"] for x in globex_merged["xrefs"]} == {"C100234", "0015g", "C200777"}

        acme_after = detail(reader, customers["acme"], as_of=after.isoformat()).json()
        assert {x["source_id"] for x in acme_after["xrefs"]} == {"C100234", "C200777"}
        new_before = detail(reader, new_id, as_of=merged.isoformat())
        assert new_before.json()["error"]["code"] == "not_found_as_of"
        assert detail(reader, new_id, as_of=after.isoformat()).json()["xrefs"][0]["source_id"] == (
            "0015g"
        )

    def test_overrides_as_they_were(self, customers, reader, django_user_model):
        user = django_user_model.objects.create_user("stew")
        before = timezone.now()
        set_override("customer", customers["acme"], "segment", "Key account", user, "QBR")
        after = timezone.now()
        assert detail(reader, customers["acme"], as_of=before.isoformat()).json()["overrides"] == []
        then = detail(reader, customers["acme"], as_of=after.isoformat()).json()
        assert [(o["attribute"], o["set_by"]) for o in then["overrides"]] == [("segment", "stew")]
        assert then["attributes"]["segment"] == "Key account"

    @pytest.mark.parametrize("value", ["yesterday", "2026-02-30T00:00:00Z", ""])
    def test_invalid_as_of(self, customers, reader, value):
        response = detail(reader, customers["acme"], as_of=value)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_as_of"

    def test_unknown_id_as_of(self, customers, reader):
        response = detail(reader, uuid.uuid4(), as_of=timezone.now().isoformat())
        assert response.json()["error"]["code"] == "golden_record_not_found"


class TestETags:
    def test_detail_304_until_it_changes(self, customers, api, reader):
        first = detail(reader, customers["acme"])
        etag = first["ETag"]
        again = reader.get(
            DETAIL.format(domain="customer", golden_id=customers["acme"]), HTTP_IF_NONE_MATCH=etag
        )
        assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
        put(api["erp"], "erp", "customer", "C100234", {**ACME, "city": "Hamburg"})
        changed = reader.get(
            DETAIL.format(domain="customer", golden_id=customers["acme"]), HTTP_IF_NONE_MATCH=etag
        )
        assert changed.status_code == 200 and changed["ETag"] != etag

    def test_list_304_until_it_changes(self, customers, api, reader):
        path = LIST.format(domain="customer") + "?country=DE"
        etag = reader.get(path)["ETag"]
        assert reader.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert reader.get(path, HTTP_IF_NONE_MATCH=f'"nope", W/{etag}').status_code == 304
        put(api["crm"], "crm", "customer", "NEW", {"name": "Umbrella", "country": "DE"})
        assert reader.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 200


class TestSchema:
    def test_each_domain_has_its_own_documented_fields(self):
        schema = _schema()
        components = schema["components"]["schemas"]
        for name, spec in DOMAINS.items():
            attributes = components[f"{spec.model_name}Attributes"]["properties"]
            assert list(attributes) == list(spec.attribute_names)
            assert f"/api/v1/golden/{name}" in schema["paths"]
            params = {
                p["name"] for p in schema["paths"][f"/api/v1/golden/{name}"]["get"]["parameters"]
            }
            assert {"record_status", "updated_since", "cursor", "limit"} <= params
            assert set(spec.attribute_names) <= params
        customer = components["CustomerAttributes"]["properties"]
        assert customer["credit_limit"]["format"] == "decimal"
        assert customer["credit_hold"]["type"] == "boolean"
        assert customer["parent"]["format"] == "uuid"
        price = components["PriceAttributes"]["properties"]
        assert price["min_quantity"]["type"] == "integer"
        assert price["valid_from"]["format"] == "date"
        detail_fields = components["CustomerGoldenDetail"]["properties"]
        assert {"lineage", "xrefs", "overrides", "discrepancies", "as_of"} <= set(detail_fields)


class TestTokenCache:
    def test_a_revoked_token_is_refused_within_the_cache_time(self, customers, monkeypatch):
        clock = [1000.0]
        monkeypatch.setattr(authentication.time, "monotonic", lambda: clock[0])
        token = make_token(None, ApiToken.Scope.READ)
        client = client_for(token)
        path = LIST.format(domain="customer")
        assert client.get(path).status_code == 200
        ApiToken.objects.filter(hint=token[:12]).update(revoked_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200  # cached: not seen yet
        assert not any("apitoken" in q["sql"] for q in queries)
        clock[0] += authentication.TOKEN_CACHE_SECONDS + 0.01
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "token_revoked"

    def test_refused_tokens_are_not_cached(self, customers):
        token = make_token(None, ApiToken.Scope.READ)
        ApiToken.objects.filter(hint=token[:12]).update(revoked_at=timezone.now())
        client = client_for(token)
        assert client.get(LIST.format(domain="customer")).status_code == 401
        ApiToken.objects.filter(hint=token[:12]).update(revoked_at=None)
        assert client.get(LIST.format(domain="customer")).status_code == 200

    def test_clear(self, customers):
        token = make_token(None, ApiToken.Scope.READ)
        assert client_for(token).get(LIST.format(domain="customer")).status_code == 200
        ApiToken.objects.filter(hint=token[:12]).update(revoked_at=timezone.now())
        authentication.clear_token_cache()
        assert client_for(token).get(LIST.format(domain="customer")).status_code == 401
