"""The ingest API: actions, versions, idempotency, stale updates, tokens, batch failure policies."""

import json

import pytest
from django.test import override_settings

from golden_records.api.authentication import clear_token_cache
from golden_records.models import (
    GOLDEN_MODELS,
    ApiToken,
    Customer,
    IdempotencyRecord,
    SourceRecord,
)
from golden_records.pipeline import payload_hash
from tests.conftest import client_for, make_token
from tests.helpers import batch, error_codes, golden_of, put

pytestmark = pytest.mark.django_db


def test_create_then_unchanged_then_updated(api):
    body = {"name": "Acme", "tax_id": "DE136695976", "city": "Berlin"}
    first = put(api["erp"], "erp", "customer", "C-1", body)
    assert first.status_code == 201
    assert first.json()["action"] == "created"
    assert first.json()["version"] == 1

    again = put(api["erp"], "erp", "customer", "C-1", body)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "action": "unchanged"}
    golden = golden_of("erp", "customer", "C-1")
    assert golden.version == 1
    assert golden.history.count() == 1
    assert SourceRecord.objects.get().history.count() == 1

    changed = put(api["erp"], "erp", "customer", "C-1", {**body, "city": "Hamburg"})
    assert changed.json()["action"] == "updated"
    assert changed.json()["version"] == 2
    golden.refresh_from_db()
    assert golden.city == "Hamburg"
    assert golden.history.count() == 2
    assert golden.history.first().changed_fields == ["city"]


def test_exact_identifier_links_across_systems(api):
    put(api["erp"], "erp", "customer", "C-1", {"name": "Acme Corp", "duns": "150483782"})
    response = put(api["crm"], "crm", "customer", "0015g", {"name": "ACME", "duns": "15-048-3782"})
    assert response.json()["action"] == "linked"
    assert golden_of("crm", "customer", "0015g").pk == golden_of("erp", "customer", "C-1").pk
    record = SourceRecord.objects.get(source_id="0015g")
    assert record.link_rule == "match:weights"
    # The decision says why: the DUNS agreed and outweighed the shortened name.
    decision = record.match_decisions.get()
    duns = next(c for c in decision.explanation["comparisons"] if c["comparison"] == "DUNS")
    assert (duns["left"], duns["right"], duns["level"]) == ("150483782", "150483782", "equal")
    assert decision.outcome == "linked" and decision.probability >= 0.95


def test_different_tax_ids_never_link(api):
    put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "A", "tax_id": "DE136695976", "email": "a@x.example"},
    )
    response = put(
        api["crm"],
        "crm",
        "customer",
        "K-1",
        {"name": "B", "tax_id": "DE811907980", "email": "a@x.example"},
    )
    assert response.json()["action"] == "created"
    assert Customer.objects.count() == 2


def test_same_identifier_twice_in_one_batch_makes_one_golden(api):
    response = batch(
        api["erp"],
        "erp",
        "item",
        {
            "records": [
                {"source_id": "1", "gtin": "036000291452"},
                {"source_id": "2", "gtin": "00036000291452"},
            ]
        },
    )
    actions = [r["action"] for r in response.json()["results"]]
    assert actions == ["created", "linked"]
    assert GOLDEN_MODELS["item"].objects.count() == 1


def test_stale_update_changes_nothing(api):
    put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "New", "source_updated_at": "2026-05-01T10:00:00Z"},
    )
    response = put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "Old", "source_updated_at": "2026-04-01T10:00:00Z"},
    )
    assert response.status_code == 200
    assert response.json()["action"] == "stale"
    assert response.json()["version"] == 1
    assert golden_of("erp", "customer", "C-1").name == "New"
    newer = put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "Newer", "source_updated_at": "2026-06-01T10:00:00+02:00"},
    )
    assert newer.json()["action"] == "updated"


class TestTokens:
    def test_no_token_is_401(self, systems):
        response = put(client_for(None), "erp", "customer", "C-1", {"name": "A"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

    def test_bad_token_is_401(self, systems):
        response = put(client_for("mdm_nope"), "erp", "customer", "C-1", {"name": "A"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"

    def test_revoked_token_is_401(self, systems):
        token = make_token(systems["erp"])
        ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
        assert put(client_for(token), "erp", "customer", "C-1", {"name": "A"}).status_code == 401

    def test_token_of_another_system_is_403(self, api):
        response = put(api["crm"], "erp", "customer", "C-1", {"name": "A"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "system_forbidden"
        assert (
            batch(
                api["crm"], "erp", "customer", {"records": [{"source_id": "1", "name": "A"}]}
            ).status_code
            == 403
        )
        assert SourceRecord.objects.count() == 0

    def test_read_only_token_cannot_write(self, systems):
        token = make_token(None, ApiToken.Scope.READ)
        assert put(client_for(token), "erp", "customer", "C-1", {"name": "A"}).status_code == 403

    def test_tokens_are_stored_hashed(self, systems):
        token = make_token(systems["erp"])
        stored = ApiToken.objects.get()
        assert token not in (stored.digest, stored.hint)
        assert len(stored.digest) == 64


class TestBadRequests:
    def test_unknown_domain(self, api):
        response = put(api["erp"], "erp", "invoice", "1", {"name": "A"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_domain"

    def test_malformed_json(self, api):
        response = put(api["erp"], "erp", "customer", "1", '{"name": ')
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "malformed_json"

    def test_nan_is_not_json(self, api):
        response = put(api["erp"], "erp", "customer", "1", '{"name": "A", "credit_limit": NaN}')
        assert response.json()["error"]["code"] == "malformed_json"

    def test_body_must_be_an_object(self, api):
        response = put(api["erp"], "erp", "customer", "1", "[1, 2]")
        assert response.status_code == 400
        assert "invalid_type" in error_codes(response)["non_field"]

    @override_settings(MDM_MAX_BODY_BYTES=100)
    def test_body_over_the_limit(self, api):
        response = put(api["erp"], "erp", "customer", "1", {"name": "A" * 200})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "body_too_large"

    def test_batch_shape(self, api):
        for body, field in [
            ({}, "records"),
            ({"records": []}, "records"),
            ({"records": "x"}, "records"),
            ({"records": [{"source_id": "1", "name": "A"}], "on_error": "shrug"}, "on_error"),
            ({"records": [{"source_id": str(i), "name": "A"} for i in range(1001)]}, "records"),
        ]:
            response = batch(api["erp"], "erp", "customer", body)
            assert response.status_code == 400, body
            assert response.json()["error"]["code"] == "invalid_batch"
            assert field in error_codes(response)
        assert SourceRecord.objects.count() == 0


class TestBatchPolicies:
    records = [
        {"source_id": "1", "name": "Good One"},
        {"source_id": "2", "name": "Bad", "country": "Atlantis"},
        {"source_id": "3", "name": "Good Two"},
        {"name": "No id"},
        {"source_id": "1", "name": "Duplicate id"},
    ]

    def test_reject_failed_writes_the_valid_ones(self, api):
        response = batch(
            api["erp"], "erp", "customer", {"records": self.records, "on_error": "reject_failed"}
        )
        assert response.status_code == 200
        results = response.json()["results"]
        assert [r["action"] for r in results] == [
            "created",
            "rejected",
            "created",
            "rejected",
            "rejected",
        ]
        assert results[1]["errors"][0]["code"] == "invalid_country"
        assert results[3]["errors"][0]["code"] == "required"
        assert results[4]["errors"][0]["code"] == "duplicate_source_id"
        assert response.json()["summary"]["created"] == 2
        assert response.json()["summary"]["rejected"] == 3
        assert sorted(SourceRecord.objects.values_list("source_id", flat=True)) == ["1", "3"]

    def test_reject_all_writes_nothing(self, api):
        response = batch(
            api["erp"], "erp", "customer", {"records": self.records, "on_error": "reject_all"}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"]["code"] == "batch_rejected"
        assert {"field": "records[1].country", "code": "invalid_country"}.items() <= body["error"][
            "fields"
        ][0].items()
        assert all(r["action"] == "rejected" for r in body["results"])
        assert body["results"][0]["errors"][0]["code"] == "batch_rejected"
        assert SourceRecord.objects.count() == 0
        assert Customer.objects.count() == 0

    def test_reject_all_with_overlap_found_in_the_database_writes_nothing(self, api):
        put(api["erp"], "erp", "item", "I-1", {"sku": "A"})
        base = {"item": "I-1", "price_list": "L", "currency": "USD", "unit_price": "1"}
        put(api["erp"], "erp", "price", "P0", {**base, "valid_from": "2026-01-01"})
        records = [
            {"source_id": "P1", **base, "valid_from": "2025-01-01", "valid_to": "2025-12-31"},
            {"source_id": "P2", **base, "valid_from": "2026-03-01"},
        ]
        response = batch(api["erp"], "erp", "price", {"records": records, "on_error": "reject_all"})
        assert response.status_code == 400
        assert SourceRecord.objects.filter(domain="price").count() == 1


class TestIdempotencyKey:
    body = {"records": [{"source_id": "1", "name": "A"}]}

    def test_same_key_and_body_replays(self, api):
        first = batch(api["erp"], "erp", "customer", self.body, HTTP_IDEMPOTENCY_KEY="k1")
        second = batch(api["erp"], "erp", "customer", self.body, HTTP_IDEMPOTENCY_KEY="k1")
        assert first.status_code == second.status_code == 200
        assert second.json() == first.json()
        assert second.json()["results"][0]["action"] == "created"
        assert second.headers["Idempotent-Replayed"] == "true"
        assert Customer.objects.count() == 1

    def test_same_key_other_body_is_422(self, api):
        batch(api["erp"], "erp", "customer", self.body, HTTP_IDEMPOTENCY_KEY="k1")
        other = {"records": [{"source_id": "1", "name": "B"}]}
        response = batch(api["erp"], "erp", "customer", other, HTTP_IDEMPOTENCY_KEY="k1")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
        assert golden_of("erp", "customer", "1").name == "A"

    def test_keys_are_per_system(self, api):
        batch(api["erp"], "erp", "customer", self.body, HTTP_IDEMPOTENCY_KEY="k1")
        response = batch(api["crm"], "crm", "customer", self.body, HTTP_IDEMPOTENCY_KEY="k1")
        assert response.json()["results"][0]["action"] == "created"

    def test_running_key_is_409(self, api, systems):
        fingerprint_body = json.dumps(self.body)
        response = batch(api["erp"], "erp", "customer", fingerprint_body, HTTP_IDEMPOTENCY_KEY="k2")
        IdempotencyRecord.objects.filter(key="k2").update(state="running")
        again = batch(api["erp"], "erp", "customer", fingerprint_body, HTTP_IDEMPOTENCY_KEY="k2")
        assert response.status_code == 200
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "idempotency_key_in_progress"

    def test_rejected_batch_is_replayed_too(self, api):
        bad = {"records": [{"source_id": "1", "country": "Atlantis"}], "on_error": "reject_all"}
        first = batch(api["erp"], "erp", "customer", bad, HTTP_IDEMPOTENCY_KEY="k3")
        second = batch(api["erp"], "erp", "customer", bad, HTTP_IDEMPOTENCY_KEY="k3")
        assert first.status_code == second.status_code == 400
        assert first.json() == second.json()


def test_source_record_read(api):
    put(api["erp"], "erp", "customer", "C/1", {"name": "Acme", "country": "germany"})
    response = api["erp"].get("/api/v1/sources/erp/customer/C/1")
    assert response.status_code == 200
    body = response.json()
    assert body["payload"] == {"name": "Acme", "country": "germany"}
    assert body["canonical"] == {"name": "Acme", "country": "DE"}
    missing = api["erp"].get("/api/v1/sources/erp/customer/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "source_record_not_found"


def test_tax_id_with_and_without_country_is_one_identifier(api):
    put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "Acme", "tax_id": "12-3456789", "country": "US"},
    )
    response = put(
        api["crm"],
        "crm",
        "customer",
        "A-1",
        {"name": "Acme Inc", "tax_id": "123456789", "country": "United States"},
    )
    assert response.json()["action"] == "linked"
    assert golden_of("erp", "customer", "C-1").tax_id == "US123456789"


def test_a_bare_tax_id_without_any_country_decides_nothing(api):
    """123456789 with no country could be any country's number: the matcher does not take it
    as the US one (two countries' ids can share digits)."""
    put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "Acme", "tax_id": "12-3456789", "country": "US"},
    )
    response = put(
        api["crm"], "crm", "customer", "A-1", {"name": "Zenith Tooling", "tax_id": "123456789"}
    )
    assert response.json()["action"] == "created"


def test_email_links_whatever_its_case(api):
    put(api["erp"], "erp", "customer", "C-1", {"name": "Acme", "email": "AP@Acme.example"})
    response = put(
        api["crm"], "crm", "customer", "A-1", {"name": "Acme", "email": "ap@acme.example"}
    )
    assert response.json()["action"] == "linked"


def test_price_from_a_non_owner_keeps_its_identity_but_not_its_amount(api):
    put(api["ecom"], "ecom", "item", "W-1", {"sku": "A-1"})
    body = {
        "item": "W-1",
        "price_list": "WEB",
        "currency": "USD",
        "unit_price": "7.99",
        "valid_from": "2026-01-01",
    }
    assert put(api["ecom"], "ecom", "price", "WP-1", body).status_code == 201
    price = golden_of("ecom", "price", "WP-1")
    assert price.item_id == golden_of("ecom", "item", "W-1").pk
    assert (price.price_list, price.currency, str(price.valid_from)) == ("WEB", "USD", "2026-01-01")
    assert price.unit_price is None  # the amount needs ERP (or a steward)


class TestTaxIdCountry:
    """A tax id is compared with its country: its own prefix, else the record's country, else
    the sending system's default country. Without any of them it is kept, reported as a warning,
    and not used to match."""

    NORDWIND = {"name": "Nordwind Handel AG", "tax_id": "811907980"}  # DE811907980 is valid

    @staticmethod
    def _set_default_country(systems, country):
        for code in ("erp", "crm"):
            systems[code].default_country = country
            systems[code].save()
        clear_token_cache()  # a token's system is cached for a few seconds, as for deactivation

    def _three_puts(self, api):
        return [
            put(api[code], code, "customer", source_id, self.NORDWIND)
            for code, source_id in (("erp", "N-1"), ("crm", "N-2"), ("erp", "N-3"))
        ]

    def test_bare_tax_id_links_through_the_systems_default_country(self, api, systems):
        """The finding: three sends of one bare tax id, no country, made three golden records."""
        self._set_default_country(systems, "DE")
        answers = self._three_puts(api)
        assert [a.json()["action"] for a in answers] == ["created", "linked", "linked"]
        assert Customer.objects.filter(record_status="active").count() == 1
        assert all(a.json()["warnings"] == [] for a in answers)
        assert golden_of("erp", "customer", "N-1").tax_id == "DE811907980"
        # The default is context only: the payload, its hash and the canonical record's country
        # stay what the system sent.
        source = SourceRecord.objects.get(source_id="N-1")
        assert source.payload == self.NORDWIND
        assert source.payload_hash == payload_hash(self.NORDWIND, None)
        assert source.canonical == {"name": "Nordwind Handel AG", "tax_id": "DE811907980"}
        assert golden_of("erp", "customer", "N-1").country == ""

    def test_without_a_default_country_each_answer_warns_and_nothing_links(self, api):
        answers = self._three_puts(api)
        assert [a.status_code for a in answers] == [201, 201, 201]
        for answer in answers:
            assert answer.json()["errors"] == []
            [warning] = answer.json()["warnings"]
            assert (warning["field"], warning["code"]) == ("tax_id", "tax_id_without_country")
            assert "not used to match" in warning["message"]
        # Documented rule, not a bug: a bare number could be any country's.
        assert [a.json()["action"] for a in answers] == ["created", "created", "created"]
        assert golden_of("erp", "customer", "N-1").tax_id == "811907980"

    def test_a_tax_id_with_a_country_has_no_warning(self, api):
        with_country = put(api["erp"], "erp", "customer", "N-1", {**self.NORDWIND, "country": "DE"})
        prefixed = put(
            api["crm"], "crm", "customer", "N-2", {**self.NORDWIND, "tax_id": "DE 811907980"}
        )
        assert with_country.json()["warnings"] == prefixed.json()["warnings"] == []
        assert prefixed.json()["action"] == "linked"

    def test_the_records_country_wins_over_the_default_and_a_prefix_over_both(self, api, systems):
        self._set_default_country(systems, "DE")
        french = {"name": "Lumière SA", "tax_id": "40303265045", "country": "FR"}
        assert put(api["erp"], "erp", "customer", "F-1", french).status_code == 201
        assert golden_of("erp", "customer", "F-1").tax_id == "FR40303265045"
        # 811907980 is a valid German number but no French one: checked against FR, not DE.
        response = put(api["erp"], "erp", "customer", "F-2", {**self.NORDWIND, "country": "FR"})
        assert response.status_code == 400
        assert "invalid_tax_id" in error_codes(response)["tax_id"]
        austrian = {"name": "Alpen GmbH", "tax_id": "ATU13585627", "country": "FR"}
        assert put(api["erp"], "erp", "customer", "A-1", austrian).status_code == 201
        assert golden_of("erp", "customer", "A-1").tax_id == "ATU13585627"

    def test_wrong_check_digits_for_the_default_country_are_invalid_tax_id(self, api, systems):
        self._set_default_country(systems, "DE")
        response = put(
            api["erp"], "erp", "customer", "N-1", {**self.NORDWIND, "tax_id": "811907981"}
        )
        assert response.status_code == 400
        assert error_codes(response) == {"tax_id": {"invalid_tax_id"}}
        assert "for DE" in response.json()["error"]["fields"][0]["message"]
        # As with the record's own country.
        own = put(
            api["crm"],
            "crm",
            "customer",
            "N-1",
            {**self.NORDWIND, "tax_id": "811907981", "country": "DE"},
        )
        assert error_codes(own) == {"tax_id": {"invalid_tax_id"}}

    def test_a_national_phone_number_takes_the_default_country_too(self, api, systems):
        """A UK number without its international prefix is no possible US number (the region
        without any country); with the system's default GB it is, and the record's own country
        still comes first."""
        body = {"name": "Nordwind Handel AG", "phone": "0161 496 0000"}
        refused = put(api["erp"], "erp", "customer", "N-1", body)
        assert error_codes(refused) == {"phone": {"invalid_phone"}}
        self._set_default_country(systems, "GB")
        assert put(api["erp"], "erp", "customer", "N-1", body).status_code == 201
        assert golden_of("erp", "customer", "N-1").phone == "+441614960000"
        german = {"name": "B", "phone": "030 1234567", "country": "DE"}
        assert put(api["erp"], "erp", "customer", "N-2", german).status_code == 201
        assert golden_of("erp", "customer", "N-2").phone == "+49301234567"

    @pytest.mark.parametrize("on_error", ["reject_failed", "reject_all"])
    def test_batch_answers_carry_the_warnings_under_both_policies(self, api, on_error):
        records = [
            {"source_id": "N-1", **self.NORDWIND},
            {"source_id": "N-2", "name": "Valid Ltd", "tax_id": "GB980780684"},
            {"source_id": "N-3", "name": "Bad", "country": "Narnia", "tax_id": "123"},
        ]
        response = batch(api["erp"], "erp", "customer", {"records": records, "on_error": on_error})
        results = response.json()["results"]
        assert [[w["code"] for w in r["warnings"]] for r in results] == [
            ["tax_id_without_country"],
            [],
            [],  # its country is there (and wrong): an error, not a warning
        ]
        if on_error == "reject_failed":
            assert response.status_code == 200
            assert [r["action"] for r in results] == ["created", "created", "rejected"]
        else:
            assert response.status_code == 400
            assert response.json()["error"]["code"] == "batch_rejected"
            assert [r["action"] for r in results] == ["rejected"] * 3
