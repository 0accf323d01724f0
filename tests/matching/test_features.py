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
