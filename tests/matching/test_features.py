"""features.extract: flat string features per the rule set's attribute map."""

import pytest

from matching.features import KINDS, extract

CUSTOMER = {
    "name": "company_name",
    "phone": "phone",
    "address_line1": "street",
    "postal_code": "postal_code",
    "country": "country",
    "email": "email",
    "sku": "code",
    "gtin": "gtin",
    "kind": "location_kind",
}


@pytest.mark.parametrize("missing", [None, "", "   ", "\t"])
def test_missing_values_give_no_feature(missing):
    features = extract(CUSTOMER, {"name": missing, "phone": missing, "sku": missing})
    assert features == {}


def test_absent_attributes_and_unknown_columns_give_nothing():
    features = extract({"name": "company_name"}, {"city": "Springfield", "extra": "x"})
    assert features == {}


def test_no_feature_is_empty():
    features = extract(CUSTOMER, {"name": "&", "phone": "garbage", "address_line1": "Main Street"})
    assert all(value for value in features.values())
    assert "phone" not in features
    assert "address_line1.number" not in features
    assert features["address_line1"] == "main st"


@pytest.mark.parametrize(
    "raw", ["+1 (540) 555-0173", "540.555.0173", "1-540-555-0173", "(540) 5550173", "540 555 0173"]
)
def test_phone_digits_equal_for_regrouped_numbers(raw):
    features = extract({"phone": "phone"}, {"phone": raw})
    assert features["phone"] == "+15405550173"
    assert features["phone.digits"] == "5405550173"


def test_phone_uses_the_records_country():
    german = extract(
        {"phone": "phone", "country": "country"}, {"phone": "030 12345678", "country": "Germany"}
    )
    assert german["phone"] == "+493012345678"
    assert german["country"] == "DE"


def test_phone_extension_feature():
    features = extract({"phone": "phone"}, {"phone": "+1 (540) 555-0173 ext 0558"})
    assert features["phone"] == "+15405550173"
    assert features["phone.ext"] == "558"
    assert "phone.ext" not in extract({"phone": "phone"}, {"phone": "540 555 0173"})


def test_code_head_and_tail_keep_one_half_through_a_typo():
    features = extract({"sku": "code"}, {"sku": "ab-12/34"})
    assert features["sku"] == "AB1234"
    assert features["sku.head"] == "AB12"
    assert features["sku.tail"] == "234"
    assert features["sku.ends"] == "AB34"
    typo_at_end = extract({"sku": "code"}, {"sku": "AB1235"})
    typo_at_start = extract({"sku": "code"}, {"sku": "XB1234"})
    assert typo_at_end["sku.head"] == features["sku.head"]
    assert typo_at_start["sku.tail"] == features["sku.tail"]


def test_short_codes_have_no_head_or_tail():
    features = extract({"sku": "code"}, {"sku": "abc"})
    assert features == {"sku": "ABC"}


def test_company_name_word_features():
    features = extract({"name": "company_name"}, {"name": "The National Consulting Group, Inc."})
    assert features["name"] == "national consulting group"
    assert features["name.initials"] == "ncg"
    assert features["name.first"] == "national"
    assert features["name.prefix"] == "nat"
    assert features["name.sorted"] == "consulting group national"
    assert features["name.phonetic"]


def test_street_features():
    features = extract({"address_line1": "street"}, {"address_line1": "24 Daisy Place, Suite 4"})
    assert features["address_line1"] == "24 daisy pl ste 4"
    assert features["address_line1.number"] == "24"
    assert features["address_line1.first"] == "daisy"
    assert features["address_line1.key"] == "daisy"


def test_postal_code_trimmed_and_us_padding_from_the_record_country():
    us = extract(
        {"postal_code": "postal_code", "country": "country"},
        {"postal_code": "2134", "country": "USA"},
    )
    assert us["postal_code"] == "02134"
    assert us["postal_code.trimmed"] == "2134"


def test_gtin_validity_feature():
    valid = extract({"gtin": "gtin"}, {"gtin": "036000291452"})
    invalid = extract({"gtin": "gtin"}, {"gtin": "036000291453"})
    assert valid == {"gtin": "00036000291452", "gtin.valid": "1"}
    assert invalid == {"gtin": "00036000291453"}


def test_email_domain_feature():
    features = extract({"email": "email"}, {"email": "Info@Acme.Example"})
    assert features == {"email": "info@acme.example", "email.domain": "acme.example"}


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("warehouse", "warehouse"),
        ("DC", "warehouse"),
        ("Distribution Center", "warehouse"),
        ("Shipping Address", "ship_to"),
        ("ship_to", "ship_to"),
    ],
)
def test_location_kind_synonyms(raw, kind):
    assert extract({"kind": "location_kind"}, {"kind": raw}) == {"kind": kind}


def test_location_kind_unknown_label_falls_back_to_label():
    assert extract({"kind": "location_kind"}, {"kind": "Cold_Store & Dock"}) == {
        "kind": "cold store dock"
    }


def test_non_string_values_are_stringified():
    assert extract({"sku": "code"}, {"sku": 12345}) == {
        "sku": "12345",
        "sku.head": "123",
        "sku.tail": "345",
        "sku.ends": "1245",
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_survives_junk(kind):
    for raw in ["🙂", "&&&", "x" * 5000, "\x00", "+", "#"]:
        features = extract({"value": kind}, {"value": raw})
        assert all(isinstance(v, str) and v for v in features.values())


# --- tax ids: the country prefix -------------------------------------------------------------

TAX = {"tax_id": "tax_id", "country": "country"}


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ({"tax_id": "DE 136 695 976"}, {"tax_id": "136695976", "country": "DE"}),
        ({"tax_id": "DE136695976", "country": "US"}, {"tax_id": "136695976", "country": "Germany"}),
        ({"tax_id": "136695976", "country": "Deutschland"}, {"tax_id": "de136695976"}),
        ({"tax_id": "GB 980 7806 84"}, {"tax_id": "980780684", "country": "United Kingdom"}),
        ({"tax_id": "EL094259216"}, {"tax_id": "094259216", "country": "Greece"}),
        ({"tax_id": "12-3456789", "country": "USA"}, {"tax_id": "US123456789"}),
    ],
)
def test_tax_id_with_and_without_prefix_agree(left, right):
    a, b = extract(TAX, left), extract(TAX, right)
    assert a["tax_id"] == b["tax_id"]
    assert a["tax_id.national"] == b["tax_id.national"]


def test_tax_ids_of_two_countries_differ():
    a = extract(TAX, {"tax_id": "GB123456789"})
    b = extract(TAX, {"tax_id": "DE123456789"})
    c = extract(TAX, {"tax_id": "123456789", "country": "FR"})
    assert len({a["tax_id"], b["tax_id"], c["tax_id"]}) == 3
    assert a["tax_id"] == "GB123456789"


def test_tax_id_without_prefix_or_country_is_no_identifier():
    """Nothing says which country's id it is: it neither decides nor excludes (no ``tax_id``),
    and stays available to block on."""
    features = extract(TAX, {"tax_id": "123-456-789"})
    assert "tax_id" not in features
    assert features["tax_id.national"] == "123456789"


# --- phones and postal codes -----------------------------------------------------------------


def test_phone_digits_are_ascii_digits_only():
    features = extract({"phone": "phone"}, {"phone": "+1 540 555 0173 x²"})
    assert features["phone.digits"] == "5405550173"
    arabic = extract({"phone": "phone"}, {"phone": "٥٤٠٥٥٥٠١٧٣"})
    assert arabic["phone"] == "+15405550173"
    assert arabic["phone.digits"] == "5405550173"


@pytest.mark.parametrize(
    ("raw", "ext"),
    [("540-555-0173 ext. 12", "12"), ("540-555-0173 x012", "12"), ("540-555-0173 #12", "12")],
)
def test_phone_extension_variants(raw, ext):
    features = extract({"phone": "phone"}, {"phone": raw})
    assert features["phone"] == "+15405550173"
    assert features["phone.ext"] == ext


def test_phone_of_the_same_raw_value_depends_on_the_records_country():
    us = extract({"phone": "phone", "country": "country"}, {"phone": "0301234567", "country": "US"})
    de = extract({"phone": "phone", "country": "country"}, {"phone": "0301234567", "country": "DE"})
    assert de["phone"] == "+49301234567"
    assert us["phone"] != de["phone"]


@pytest.mark.parametrize(
    ("record", "standard"),
    [
        ({"postal_code": "21341234", "country": "US"}, "02134"),
        ({"postal_code": "02134-1234", "country": "United States"}, "02134"),
        ({"postal_code": "02134-1234"}, "02134"),
        ({"postal_code": "01310-100", "country": "Brasil"}, "01310100"),
    ],
)
def test_postal_code_zip_plus_four(record, standard):
    features = extract({"postal_code": "postal_code", "country": "country"}, record)
    assert features["postal_code"] == standard


# --- names and streets -----------------------------------------------------------------------


def test_company_name_gmbh_and_co_kg_features():
    features = extract({"name": "company_name"}, {"name": "Müller GmbH & Co. KG"})
    assert features["name"] == "muller"
    assert features["name.sorted"] == "muller"


def test_german_street_features():
    a = extract({"address_line1": "street"}, {"address_line1": "Hauptstraße 5"})
    b = extract({"address_line1": "street"}, {"address_line1": "Hauptstr. 5"})
    assert a == b
    assert a["address_line1.number"] == "5"
    assert a["address_line1.key"] == "haupt"


def test_extraction_is_the_same_twice():
    """Cached derivations give equal, independent results."""
    record = {"name": "Acme Corp", "phone": "540-555-0173", "country": "US", "sku": "ab-12"}
    first = extract(CUSTOMER, record)
    first["name"] = "changed"
    assert extract(CUSTOMER, record)["name"] == "acme"
