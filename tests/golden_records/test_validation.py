"""Each domain's normalisation and its bad inputs: a clear 400 with per-field codes, nothing
written."""

from decimal import Decimal

import pytest

from golden_records.attributes import DEFAULT_COUNTRY
from golden_records.domains import get_domain
from golden_records.models import GOLDEN_MODELS, SourceRecord
from golden_records.pipeline import prepare_record
from tests.helpers import error_codes, golden_of, put

pytestmark = pytest.mark.django_db


def assert_rejected(response, field, code):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert code in error_codes(response).get(field, set()), body
    assert SourceRecord.objects.count() == 0
    assert all(model.objects.count() == 0 for model in GOLDEN_MODELS.values())


class TestCustomer:
    def test_values_are_normalised(self, api):
        response = put(
            api["erp"],
            "erp",
            "customer",
            "C-1",
            {
                "name": "  Acme   Corp ",
                "country": "Germany",
                "tax_id": "de 136 695 976",
                "duns": "15-048-3782",
                "phone": "030 1234567",
                "email": "Sales@ACME.Example",
                "website": "WWW.Acme.example",
                "credit_limit": "1234.50",
                "credit_currency": "eur",
                "credit_hold": "no",
                "status": "Active",
            },
        )
        assert response.status_code == 201, response.content
        golden = golden_of("erp", "customer", "C-1")
        assert golden.name == "Acme Corp"
        assert golden.country == "DE"
        assert golden.tax_id == "DE136695976"
        assert golden.duns == "150483782"
        assert golden.phone == "+49301234567"
        assert golden.email == "Sales@acme.example"
        assert golden.website == "https://www.acme.example"
        assert golden.credit_limit == Decimal("1234.50")
        assert golden.credit_currency == "EUR"
        assert golden.credit_hold is False
        assert golden.status == "active"

    def test_json_decimals_are_exact(self, api):
        body = '{"name": "Exact Ltd", "credit_limit": 0.1}'
        assert put(api["erp"], "erp", "customer", "C-2", body).status_code == 201
        assert golden_of("erp", "customer", "C-2").credit_limit == Decimal("0.1")

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("country", "Narnia", "invalid_country"),
            ("email", "not-an-email", "invalid_email"),
            ("credit_limit", "-5", "negative_value"),
            ("credit_limit", "lots", "invalid_number"),
            ("credit_limit", "1.234", "too_many_decimals"),
            ("credit_currency", "EUROS", "invalid_currency"),
            ("duns", "12345", "invalid_duns"),
            ("phone", "call me", "invalid_phone"),
            ("tax_id", "DE136695977", "invalid_tax_id"),
            ("credit_hold", "maybe", "invalid_boolean"),
            ("status", "sleeping", "invalid_choice"),
            ("name", ["a", "list"], "invalid_type"),
            ("name", "x" * 201, "too_long"),
            ("website", "http://", "invalid_url"),
            ("favourite_colour", "blue", "unknown_attribute"),
        ],
    )
    def test_bad_values(self, api, field, value, code):
        response = put(api["erp"], "erp", "customer", "C-1", {"name": "Acme", field: value})
        assert_rejected(response, field, code)

    def test_name_is_required(self, api):
        assert_rejected(
            put(api["erp"], "erp", "customer", "C-1", {"city": "Berlin"}), "name", "required"
        )

    def test_bad_source_timestamp(self, api):
        response = put(
            api["erp"], "erp", "customer", "C-1", {"name": "A", "source_updated_at": "yesterday"}
        )
        assert_rejected(response, "source_updated_at", "invalid_datetime")


class TestItem:
    @pytest.mark.parametrize(
        ("sent", "stored"),
        [
            ("036000291452", "00036000291452"),  # UPC-A
            ("4006381333931", "04006381333931"),  # EAN-13
            ("96385074", "00000096385074"),  # EAN-8
            ("10036000291459", "10036000291459"),  # GTIN-14
            ("0 36000-29145 2", "00036000291452"),
        ],
    )
    def test_gtin_is_stored_as_gtin14(self, api, sent, stored):
        assert (
            put(api["erp"], "erp", "item", "I-1", {"sku": "a-1", "gtin": sent}).status_code == 201
        )
        item = golden_of("erp", "item", "I-1")
        assert item.gtin == stored
        assert item.sku == "A-1"

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("gtin", "036000291453", "invalid_gtin"),
            ("gtin", "12345", "invalid_gtin"),
            ("weight_kg", "-1", "negative_value"),
            ("lifecycle_status", "zombie", "invalid_choice"),
        ],
    )
    def test_bad_values(self, api, field, value, code):
        assert_rejected(
            put(api["erp"], "erp", "item", "I-1", {"sku": "A-1", field: value}), field, code
        )

    def test_needs_sku_or_gtin(self, api):
        assert_rejected(
            put(api["erp"], "erp", "item", "I-1", {"name": "Bolt"}), "sku", "required_one_of"
        )

    def test_lifecycle_synonyms(self, api):
        put(api["erp"], "erp", "item", "I-1", {"sku": "A-1", "lifecycle_status": "End of Life"})
        assert golden_of("erp", "item", "I-1").lifecycle_status == "phase_out"


class TestLocation:
    def test_kind_labels_and_coordinates(self, api):
        body = {
            "code": "wh-01",
            "kind": "Distribution Center",
            "latitude": "52.52",
            "longitude": 13.405,
        }
        assert put(api["wms"], "wms", "location", "W1", body).status_code == 201
        location = golden_of("wms", "location", "W1")
        assert location.kind == "warehouse"
        assert location.code == "WH-01"
        assert location.latitude == Decimal("52.52")

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("latitude", "91", "max_value"),
            ("longitude", "-181", "min_value"),
            ("kind", "spaceport", "invalid_choice"),
            ("country", "ZZ", "invalid_country"),
        ],
    )
    def test_bad_values(self, api, field, value, code):
        assert_rejected(
            put(api["erp"], "erp", "location", "L1", {"code": "X", field: value}), field, code
        )

    def test_warehouse_has_no_customer(self, api):
        body = {"code": "WH", "kind": "warehouse", "customer": "C-1"}
        assert_rejected(
            put(api["erp"], "erp", "location", "L1", body), "customer", "customer_not_allowed"
        )


class TestPrice:
    base = {
        "item": "I-1",
        "price_list": "list-usd",
        "currency": "usd",
        "unit_price": "12.50",
        "valid_from": "2026-01-01",
    }

    def test_valid_price(self, api):
        assert put(api["erp"], "erp", "price", "P1", self.base).status_code == 201
        price = golden_of("erp", "price", "P1")
        assert price.unit_price == Decimal("12.50")
        assert price.currency == "USD"
        assert price.price_list == "LIST-USD"

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("unit_price", "-0.01", "negative_value"),
            ("currency", "XYZ", "invalid_currency"),
            ("valid_from", "2026-13-01", "invalid_date"),
            ("min_quantity", "0", "min_value"),
            ("min_quantity", "1.5", "invalid_integer"),
            ("unit_price", True, "invalid_type"),
        ],
    )
    def test_bad_values(self, api, field, value, code):
        assert_rejected(
            put(api["erp"], "erp", "price", "P1", {**self.base, field: value}), field, code
        )

    def test_valid_to_before_valid_from(self, api):
        body = {**self.base, "valid_to": "2025-12-31"}
        assert_rejected(
            put(api["erp"], "erp", "price", "P1", body), "valid_to", "valid_to_before_valid_from"
        )

    @pytest.mark.parametrize(
        "missing", ["item", "price_list", "currency", "unit_price", "valid_from"]
    )
    def test_required(self, api, missing):
        body = {k: v for k, v in self.base.items() if k != missing}
        assert_rejected(put(api["erp"], "erp", "price", "P1", body), missing, "required")

    def test_overlapping_validity_is_rejected(self, api):
        put(api["erp"], "erp", "item", "I-1", {"sku": "A-1"})
        first = {**self.base, "valid_to": "2026-06-30"}
        assert put(api["erp"], "erp", "price", "P1", first).status_code == 201
        overlapping = {**self.base, "valid_from": "2026-06-01", "unit_price": "13"}
        response = put(api["erp"], "erp", "price", "P2", overlapping)
        assert response.status_code == 400
        assert "overlapping_validity" in error_codes(response)["valid_from"]
        following = {**self.base, "valid_from": "2026-07-01", "unit_price": "13"}
        assert put(api["erp"], "erp", "price", "P3", following).status_code == 201
        other_quantity = {**overlapping, "min_quantity": 10}
        assert put(api["erp"], "erp", "price", "P4", other_quantity).status_code == 201


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("1,234.50", Decimal("1234.50")), ("1,234,567", Decimal("1234567")), ("-12.5", None)],
)
def test_thousands_separators(api, sent, stored):
    response = put(api["erp"], "erp", "customer", "C-1", {"name": "A", "credit_limit": sent})
    if stored is None:
        assert_rejected(response, "credit_limit", "negative_value")
    else:
        assert golden_of("erp", "customer", "C-1").credit_limit == stored


@pytest.mark.parametrize("sent", ["12,50", "1234,56", "1,2345"])
def test_decimal_comma_is_refused(api, sent):
    response = put(api["erp"], "erp", "customer", "C-1", {"name": "A", "credit_limit": sent})
    assert_rejected(response, "credit_limit", "invalid_number")


def test_more_digits_than_every_database_keeps_exactly(api):
    response = put(
        api["erp"], "erp", "customer", "C-1", {"name": "A", "credit_limit": "1234567890123456.78"}
    )
    assert_rejected(response, "credit_limit", "too_large")


@pytest.mark.parametrize(
    ("domain", "body", "field"),
    [
        ("customer", {"name": "A", "credit_limit": "1e30"}, "credit_limit"),
        ("customer", {"name": "A", "credit_limit": 1e300}, "credit_limit"),
        (
            "price",
            {**TestPrice.base, "min_quantity": "1e20"},
            "min_quantity",
        ),
    ],
)
def test_huge_numbers_are_too_large(api, domain, body, field):
    assert_rejected(put(api["erp"], "erp", domain, "X-1", body), field, "too_large")


class TestCountryContext:
    """``prepare_record``'s ``default_country`` (the sending system's): the country the attributes
    that read the record's country use when it has none; never part of what is stored."""

    CUSTOMER = get_domain("customer")

    def prepare(self, payload, default=""):
        return prepare_record(self.CUSTOMER, payload, source_id="x", default_country=default)

    def test_payload_hash_and_canonical_stay_what_was_sent(self):
        payload = {"name": "Nordwind Handel AG", "tax_id": "811907980"}
        with_default = self.prepare(payload, "DE")
        without = self.prepare(payload)
        assert with_default.payload == without.payload == payload
        assert with_default.payload_hash == without.payload_hash
        assert with_default.canonical == {"name": "Nordwind Handel AG", "tax_id": "DE811907980"}
        assert "country" not in with_default.canonical
        assert (with_default.warnings, without.warnings_as_list()[0]["code"]) == (
            {},
            "tax_id_without_country",
        )

    @pytest.mark.parametrize(
        ("tax_id", "country", "default", "stored", "warned"),
        [
            ("811907980", None, "DE", "DE811907980", False),
            ("811907980", "DE", "", "DE811907980", False),
            ("811907980", None, "", "811907980", True),
            ("DE811907980", None, "", "DE811907980", False),
            ("40303265045", "FR", "DE", "FR40303265045", False),  # the record's country first
            ("ATU13585627", "FR", "DE", "ATU13585627", False),  # the id's own prefix first
            ("EL094259216", None, "", "GR094259216", False),  # Greece's VAT prefix
            # A country python-stdnum has no format for: no check, the default still travels
            # with the value, as a prefix the matcher reads.
            ("100123456700003", None, "AE", "AE100123456700003", False),
            ("100123456700003", "AE", "", "100123456700003", False),  # the matcher reads country
            # Letters first: "AE" in front could not be told from the id's own letters.
            ("ABC123", None, "AE", "ABC123", True),
        ],
    )
    def test_tax_id_country(self, tax_id, country, default, stored, warned):
        payload = {"name": "A", "tax_id": tax_id, **({"country": country} if country else {})}
        record = self.prepare(payload, default)
        assert record.ok, record.errors_as_list()
        assert record.canonical["tax_id"] == stored
        codes = [w["code"] for w in record.warnings_as_list()]
        assert codes == (["tax_id_without_country"] if warned else [])

    def test_the_warning_says_why(self):
        [bare] = self.prepare({"name": "A", "tax_id": "811907980"}).warnings_as_list()
        assert bare["field"] == "tax_id"
        assert "no default country of the sending system" in bare["message"]
        assert "kept, but not used to match" in bare["message"]
        [lettered] = self.prepare({"name": "A", "tax_id": "ABC123"}, "AE").warnings_as_list()
        assert "default country AE has no known tax id format" in lettered["message"]

    def test_wrong_check_digits_for_the_default_country(self):
        record = self.prepare({"name": "A", "tax_id": "811907981"}, "DE")
        assert record.errors_as_list() == [
            {
                "field": "tax_id",
                "code": "invalid_tax_id",
                "message": "'811907981' is not a valid tax id for DE.",
            }
        ]

    def test_a_senders_own_context_key_is_refused_and_not_used(self):
        record = self.prepare({"name": "A", "tax_id": "811907980", DEFAULT_COUNTRY: "DE"})
        assert {(e["field"], e["code"]) for e in record.errors_as_list()} == {
            (DEFAULT_COUNTRY, "unknown_attribute")
        }
        assert record.canonical["tax_id"] == "811907980"

    def test_phone_region(self):
        record = self.prepare({"name": "A", "phone": "0161 496 0000"}, "GB")
        assert record.canonical["phone"] == "+441614960000"
        german = self.prepare({"name": "A", "phone": "030 1234567", "country": "DE"}, "GB")
        assert german.canonical["phone"] == "+49301234567"
