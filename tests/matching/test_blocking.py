"""Blocking: which records become candidate pairs."""

import numpy as np
import pytest

from matching.blocking import blocking_keys, candidate_pairs
from matching.features import extract
from matching.rules import default_rules, rule_set_from_json


def small_rules(max_block_size=200, blocking=(("postal_code",), ("name.first", "city"))):
    return rule_set_from_json(
        {
            "domain": "customer",
            "attributes": {"name": "company_name", "city": "text", "postal_code": "postal_code"},
            "blocking": [list(b) for b in blocking],
            "comparisons": [
                {
                    "name": "name",
                    "feature": "name",
                    "comparator": "name",
                    "levels": [
                        {"label": "same", "min_similarity": 0.9, "m": 0.9, "u": 0.1},
                        {"label": "different", "min_similarity": 0.0, "m": 0.1, "u": 0.9},
                    ],
                }
            ],
            "prior": 0.1,
            "max_block_size": max_block_size,
        }
    )


def pairs_of(left, right):
    return list(zip(left.tolist(), right.tolist(), strict=True))


def test_blocking_keys_need_every_feature_of_a_rule():
    rules = small_rules()
    full = extract(rules.attributes, {"name": "Acme Corp", "city": "Reno", "postal_code": "89501"})
    assert blocking_keys(rules, full) == [
        ("postal_code", "89501"),
        ("name.first+city", "acme|reno"),
    ]
    partial = extract(rules.attributes, {"name": "Acme Corp", "postal_code": "89501"})
    assert blocking_keys(rules, partial) == [("postal_code", "89501")]
    assert blocking_keys(rules, {}) == []


def test_pairs_are_unique_and_ordered():
    rules = small_rules()
    records = [
        {"name": "Acme", "city": "Reno", "postal_code": "89501"},
        {"name": "Acme Corp", "city": "Reno", "postal_code": "89501"},  # shares both keys with 0
        {"name": "Zeta", "city": "Reno", "postal_code": "89501"},
        {"name": "Acme", "city": "Reno"},
        {"name": "Other", "city": "Boise", "postal_code": "83702"},
    ]
    features = [extract(rules.attributes, r) for r in records]
    left, right = candidate_pairs(rules, features)
    pairs = pairs_of(left, right)
    assert len(pairs) == len(set(pairs))
    assert all(a < b for a, b in pairs)
    assert pairs == sorted(pairs)
    assert set(pairs) == {(0, 1), (0, 2), (1, 2), (0, 3), (1, 3)}
    assert left.dtype.kind == right.dtype.kind == "i"


def test_blocks_above_max_block_size_are_skipped():
    rules = small_rules(max_block_size=3, blocking=(("postal_code",), ("name",)))
    records = [{"name": f"Company {i}", "postal_code": "00000"} for i in range(5)]
    records += [{"name": "Acme", "postal_code": "11111"}, {"name": "Acme", "postal_code": "22222"}]
    records += [
        {"name": "Zeta", "postal_code": "33333"},
        {"name": "Zeta Two", "postal_code": "33333"},
    ]
    features = [extract(rules.attributes, r) for r in records]
    pairs = pairs_of(*candidate_pairs(rules, features))
    # The five records sharing postal code 00000 make a block of 5 > 3: no pair from it.
    assert not any(a < 5 and b < 5 for a, b in pairs)
    assert set(pairs) == {(5, 6), (7, 8)}
    roomy = small_rules(max_block_size=5, blocking=(("postal_code",), ("name",)))
    assert len(pairs_of(*candidate_pairs(roomy, features))) == 10 + 2


def test_no_candidates():
    rules = small_rules()
    features = [extract(rules.attributes, {"name": n}) for n in ("a", "b")]
    left, right = candidate_pairs(rules, features)
    assert left.shape == right.shape == (0,)
    left, right = candidate_pairs(rules, [])
    assert left.shape == (0,)


DUPLICATES = [
    (
        {
            "name": "ACME Corp.",
            "address_line1": "123 Main Street",
            "city": "Springfield",
            "postal_code": "62701",
            "country": "US",
            "phone": "+1 (217) 555-0100",
        },
        {
            "name": "Acme Corporaton",
            "address_line1": "123 Mian St",
            "city": "Sprinfield",
            "postal_code": "62701",
            "country": "USA",
            "phone": "217.555.0100",
        },
    ),
    (
        {
            "name": "Brightwater Logistics LLC",
            "address_line1": "77 Harbor Blvd",
            "city": "Tacoma",
            "postal_code": "98402",
            "country": "US",
        },
        {
            "name": "Brigthwater Logistics",
            "address_line1": "77 Harbour Boulevard",
            "city": "Tacoma",
            "postal_code": "98402-1234",
            "country": "US",
        },
    ),
    (
        {
            "name": "Müller GmbH",
            "address_line1": "Hauptstrasse 5",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
            "phone": "030 12345678",
        },
        {
            "name": "Mueller GmbH",
            "address_line1": "Hauptstr. 5",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "Germany",
            "phone": "+49 30 12345678",
        },
    ),
    (
        {
            "name": "Northwind Traders",
            "email": "orders@northwind.example",
            "city": "Boston",
            "postal_code": "2134",
            "country": "US",
        },
        {
            "name": "Northwind Trading",
            "email": "Orders@Northwind.example",
            "city": "Boston",
            "postal_code": "02134",
            "country": "US",
        },
    ),
    (
        {
            "name": "Globex",
            "website": "https://www.globex.example/",
            "country": "US",
            "address_line1": "1 Globex Way",
        },
        {
            "name": "Globex Corporation",
            "website": "globex.example",
            "country": "US",
            "address_line1": "1 Globex Wy",
        },
    ),
    (
        {"name": "Initech", "tax_id": "US12-3456789", "city": "Austin", "country": "US"},
        {"name": "Initech Inc", "tax_id": "12-3456789", "city": "Austin", "country": "US"},
    ),
]

OTHERS = [
    {
        "name": "Zeta Holdings",
        "address_line1": "9 Oak Road",
        "city": "Portland",
        "postal_code": "97201",
        "country": "US",
    },
    {
        "name": "Umbrella Pharma",
        "address_line1": "400 Pine St",
        "city": "Raccoon City",
        "postal_code": "30301",
        "country": "US",
    },
    {"name": "Stark Industries", "city": "Malibu", "postal_code": "90265", "country": "US"},
]


def test_blocking_recall_on_true_duplicates_with_typos():
    rules = default_rules("customer")
    records = [r for pair in DUPLICATES for r in pair] + OTHERS
    features = [extract(rules.attributes, r) for r in records]
    pairs = set(pairs_of(*candidate_pairs(rules, features)))
    missed = [i for i in range(len(DUPLICATES)) if (2 * i, 2 * i + 1) not in pairs]
    assert missed == []


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (
            {"sku": "AB-12345", "name": "Cordless Drill"},
            {"sku": "AB12346", "name": "Cordless Drill 18V"},
        ),
        ({"sku": "XB-12345", "name": "Hammer"}, {"sku": "AB-12345", "name": "Claw Hammer"}),
        ({"gtin": "036000291452", "name": "Widget"}, {"gtin": "0036000291452", "name": "Gadget"}),
    ],
)
def test_item_blocking_recall_with_sku_typos(left, right):
    rules = default_rules("item")
    features = [
        extract(rules.attributes, r) for r in (left, right, {"sku": "ZZ-999", "name": "Other"})
    ]
    assert (0, 1) in set(pairs_of(*candidate_pairs(rules, features)))


def test_default_rules_block_on_features_that_exist():
    """Every blocking rule names features the attribute map can produce (a typo in the JSON
    would silently block nothing)."""
    suffixes = {
        "company_name": {"", "initials", "first", "phonetic", "prefix", "sorted"},
        "text": {"", "initials", "first", "phonetic", "prefix"},
        "street": {"", "number", "first", "phonetic", "key"},
        "phone": {"", "ext", "digits"},
        "postal_code": {"", "trimmed"},
        "gtin": {"", "valid"},
        "email": {"", "domain"},
        "code": {"", "head", "tail", "ends"},
    }
    for domain in ("customer", "item", "location"):
        rules = default_rules(domain)
        features = [f for rule in rules.blocking for f in rule]
        features += [c.feature for c in rules.comparisons]
        for feature in features:
            attribute, _, suffix = feature.partition(".")
            assert attribute in rules.attributes, (domain, feature)
            assert suffix in suffixes.get(rules.attributes[attribute], {""}), (domain, feature)


def test_many_records_give_ordered_unique_pairs():
    rules = small_rules(max_block_size=50)
    rng = np.random.default_rng(1)
    records = [
        {
            "name": f"Company {i}",
            "city": f"City {i % 40}",
            "postal_code": f"{rng.integers(100, 400)}",
        }
        for i in range(3000)
    ]
    features = [extract(rules.attributes, r) for r in records]
    left, right = candidate_pairs(rules, features)
    assert (left < right).all()
    codes = left * len(features) + right
    assert len(np.unique(codes)) == len(codes)


def brute_force_pairs(rules, features):
    """The pairs blocking must give, record by record: the reference for the column-wise form."""
    pairs = set()
    for rule in rules.blocking:
        blocks = {}
        for index, record in enumerate(features):
            values = [record.get(f, "") for f in rule]
            if all(values):
                blocks.setdefault("|".join(values), []).append(index)
        for members in blocks.values():
            if 1 < len(members) <= rules.max_block_size:
                pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return sorted(pairs)


def test_column_wise_blocking_equals_record_by_record():
    rules = small_rules(max_block_size=6)
    rng = np.random.default_rng(7)
    records = [
        {
            "name": f"{rng.choice(['Acme', 'Zeta', 'Umbrella', ''])} {i % 3}",
            "city": str(rng.choice(["Springfield", "Shelbyville", ""])),
            "postal_code": str(rng.choice(["62701", "62702", "62703", ""])),
        }
        for i in range(200)
    ]
    features = [extract(rules.attributes, r) for r in records]
    pairs = pairs_of(*candidate_pairs(rules, features))
    assert pairs == brute_force_pairs(rules, features)
    assert pairs  # some blocks are small enough


def test_default_customer_rules_block_a_name_and_its_country_alone():
    """Records sharing only a name (in one country) are compared: no street or town needed."""
    rules = default_rules("customer")
    features = [
        extract(rules.attributes, r)
        for r in (
            {"name": "Zenith Plumbing Supply Inc.", "country": "US", "city": "Springfield"},
            {"name": "ZENITH PLUMBING SUPPLY", "country": "USA", "postal_code": "10001"},
        )
    ]
    assert pairs_of(*candidate_pairs(rules, features)) == [(0, 1)]


def test_records_sharing_only_a_locality_are_not_candidates():
    rules = default_rules("customer")
    place = {"city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"}
    features = [
        extract(rules.attributes, r)
        for r in (
            {"name": "Kaplan Paper", "address_line1": "4980 Elm Way", **place},
            {"name": "Alvarez Hardware", "address_line1": "12 Orchard Dr", **place},
        )
    ]
    assert pairs_of(*candidate_pairs(rules, features)) == []
