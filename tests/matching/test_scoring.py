"""Fellegi-Sunter scoring: explanation, missing values, scalar/vector parity, identifiers."""

import math

import numpy as np
import pytest

from matching.features import extract
from matching.frequencies import TermFrequencies
from matching.rules import default_rules, rule_set_from_json
from matching.scoring import DECIDED, identifier_verdict, score_pair, score_pairs


def two_levels(name, feature, comparator="exact", m=0.9, u=0.1, threshold=1.0):
    return {
        "name": name,
        "feature": feature,
        "comparator": comparator,
        "levels": [
            {"label": "same", "min_similarity": threshold, "m": m, "u": u},
            {"label": "different", "min_similarity": 0.0, "m": 1 - m, "u": 1 - u},
        ],
    }


def item_rules(**overrides):
    data = {
        "domain": "item",
        "version": 7,
        "attributes": {
            "gtin": "gtin",
            "name": "text",
            "sku": "code",
            "tax_id": "tax_id",
            "duns": "duns",
        },
        "blocking": [["name"]],
        "comparisons": [
            two_levels("GTIN", "gtin", m=0.6, u=0.4),  # weak on purpose: the verdict decides
            {
                "name": "name",
                "feature": "name",
                "comparator": "name",
                "levels": [
                    {"label": "exact", "min_similarity": 1.0, "m": 0.5, "u": 0.01},
                    {"label": "similar", "min_similarity": 0.85, "m": 0.3, "u": 0.09},
                    {"label": "different", "min_similarity": 0.0, "m": 0.2, "u": 0.9},
                ],
            },
            two_levels("SKU", "sku", comparator="levenshtein", threshold=0.8),
            two_levels("tax id", "tax_id", m=0.95, u=0.001),
            two_levels("DUNS", "duns", m=0.95, u=0.001),
        ],
        "prior": 0.1,
        "thresholds": {"auto_match": 0.95, "review": 0.5, "cluster_guard": 0.5},
        "decisive": ["gtin"],
        "exclusive": ["tax_id", "duns"],
    }
    data.update(overrides)
    return rule_set_from_json(data)


def features_of(rules, *records):
    return [extract(rules.attributes, r) for r in records]


# --- explanation -----------------------------------------------------------------------------


def test_explanation_lists_every_comparison():
    rules = item_rules()
    a, b = features_of(
        rules,
        {"gtin": "036000291452", "name": "Blue Widget", "sku": "W-100"},
        {"name": "blue widget", "sku": "W100", "tax_id": "DE123456789"},
    )
    score = score_pair(rules, a, b)
    assert [e["comparison"] for e in score.explanation] == [c.name for c in rules.comparisons]
    for entry, comparison in zip(score.explanation, rules.comparisons, strict=True):
        assert set(entry) >= {
            "comparison",
            "feature",
            "left",
            "right",
            "comparator",
            "similarity",
            "level",
            "contribution",
        }
        assert entry["comparator"] == comparison.comparator
        assert entry["feature"] == comparison.feature
        assert entry["left"] == a.get(comparison.feature)
        assert entry["right"] == b.get(comparison.feature)
    by_name = {e["comparison"]: e for e in score.explanation}
    assert by_name["name"]["similarity"] == 1.0
    assert by_name["name"]["level"] == "exact"
    assert by_name["name"]["contribution"] == pytest.approx(math.log2(0.5 / 0.01), abs=1e-3)
    assert by_name["SKU"]["left"] == "W100" and by_name["SKU"]["level"] == "same"
    assert score.rule_version == 7
    as_dict = score.as_dict()
    assert as_dict["rule_version"] == 7
    assert as_dict["comparisons"] == score.explanation
    assert as_dict["reason"] == score.reason == "weights"


def test_missing_values_contribute_nothing():
    rules = item_rules()
    a, b = features_of(
        rules, {"gtin": "036000291452", "name": "Blue Widget"}, {"name": "Blue Widget"}
    )
    score = score_pair(rules, a, b)
    by_name = {e["comparison"]: e for e in score.explanation}
    for missing in ("GTIN", "SKU", "tax id", "DUNS"):
        assert by_name[missing]["level"] == "missing"
        assert by_name[missing]["contribution"] == 0.0
        assert by_name[missing]["similarity"] is None
    expected_weight = rules.prior_weight + math.log2(0.5 / 0.01)
    assert score.weight == pytest.approx(expected_weight)
    assert score.probability == pytest.approx(1 / (1 + 2**-expected_weight))


def test_nothing_in_common_scores_the_prior():
    rules = item_rules()
    a, b = features_of(rules, {"gtin": "036000291452"}, {"name": "Blue Widget"})
    assert score_pair(rules, a, b).probability == pytest.approx(rules.prior)


def test_evidence_group_caps_positive_weight():
    rules = item_rules(groups=[{"name": "ids", "comparisons": ["tax id", "DUNS"], "max_weight": 5}])
    a, b = features_of(
        rules,
        {"tax_id": "DE123456789", "duns": "150483782"},
        {"tax_id": "DE 123 456 789", "duns": "15-048-3782"},
    )
    score = score_pair(rules, a, b)
    capped = [e for e in score.explanation if e["comparator"] == "evidence cap"]
    assert len(capped) == 1 and capped[0]["contribution"] < 0
    assert score.weight == pytest.approx(rules.prior_weight + 5, abs=0.01)
    probability, _ = score_pairs(rules, [a, b], np.array([0]), np.array([1]))
    assert probability[0] == pytest.approx(score.probability, abs=1e-3)


def test_evidence_group_cap_is_exact_in_both_forms():
    rules = item_rules(groups=[{"name": "ids", "comparisons": ["tax id", "DUNS"], "max_weight": 5}])
    a, b = features_of(
        rules,
        {"tax_id": "DE123456789", "duns": "150483782"},
        {"tax_id": "DE 123 456 789", "duns": "15-048-3782"},
    )
    expected = 1 / (1 + 2 ** -(rules.prior_weight + 5))
    probability, _ = score_pairs(rules, [a, b], np.array([0]), np.array([1]))
    assert probability[0] == pytest.approx(expected, rel=1e-12)
    score = score_pair(rules, a, b)
    assert score.weight == pytest.approx(rules.prior_weight + 5, rel=1e-12)
    assert score.probability == pytest.approx(expected, rel=1e-12)


# --- scalar and vector agree -----------------------------------------------------------------

SAMPLE = [
    {"gtin": "036000291452", "name": "Blue Widget", "sku": "W-100"},
    {"gtin": "00036000291452", "name": "blue widget large", "sku": "W-100"},
    {"gtin": "4006381333931", "name": "Blue Widget", "sku": "W-101", "tax_id": "DE1"},
    {"name": "Red Gadget", "sku": "G-9", "tax_id": "DE2"},
    {"name": "red gadget", "sku": "G9", "duns": "150483782"},
    {"sku": "W100"},
    {"gtin": "036000291453", "name": "Blue Widgets"},
    {"gtin": "036000291453", "name": "Gadget"},
    {},
]


def test_score_pair_and_score_pairs_agree():
    rules = item_rules(
        groups=[{"name": "ids", "comparisons": ["tax id", "DUNS", "GTIN"], "max_weight": 3}]
    )
    features = features_of(rules, *SAMPLE)
    left, right = np.triu_indices(len(features), k=1)
    probability, levels = score_pairs(rules, features, left, right)
    assert levels.shape == (len(rules.comparisons), len(left))
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        score = score_pair(rules, features[a], features[b])
        assert probability[i] == pytest.approx(score.probability, rel=1e-9, abs=1e-12), (a, b)
        for c, entry in enumerate(score.explanation[: len(rules.comparisons)]):
            expected = (
                -1
                if entry["level"] == "missing"
                else [lv.label for lv in rules.comparisons[c].levels].index(entry["level"])
            )
            assert levels[c, i] == expected, (a, b, entry)


@pytest.mark.parametrize("domain", ["customer", "item", "location"])
def test_score_pair_and_score_pairs_agree_on_default_rules(domain):
    rules = default_rules(domain)
    records = [
        {
            "name": "ACME Corp.",
            "address_line1": "123 Main Street",
            "city": "Springfield",
            "postal_code": "62701",
            "country": "US",
            "phone": "+1 217 555 0100",
            "sku": "W-100",
            "gtin": "036000291452",
            "kind": "warehouse",
        },
        {
            "name": "Acme Corporation",
            "address_line1": "123 Main St.",
            "city": "Springfeld",
            "postal_code": "62701",
            "country": "USA",
            "phone": "217.555.0100",
            "sku": "W100",
            "gtin": "00036000291452",
            "kind": "DC",
        },
        {
            "name": "Zeta Holdings",
            "address_line1": "9 Oak Road",
            "city": "Portland",
            "postal_code": "97201",
            "country": "US",
            "phone": "503 555 0199",
            "sku": "Z-1",
            "kind": "ship_to",
        },
        {"name": "Acme"},
    ]
    features = features_of(rules, *records)
    left, right = np.triu_indices(len(features), k=1)
    probability, _ = score_pairs(rules, features, left, right)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        assert probability[i] == pytest.approx(
            score_pair(rules, features[a], features[b]).probability, abs=1e-9
        )


def test_score_pairs_of_no_pairs():
    rules = item_rules()
    empty = np.empty(0, dtype=np.int64)
    probability, levels = score_pairs(rules, features_of(rules, *SAMPLE), empty, empty)
    assert probability.shape == (0,)
    assert levels.shape == (len(rules.comparisons), 0)


def test_levels_at_an_exact_boundary_agree():
    """Ten-character SKUs one edit apart are exactly 0.9 similar; with a level at 0.9 both
    forms must put the pair in it."""
    rules = item_rules(
        comparisons=[
            two_levels("SKU", "sku", comparator="levenshtein", m=0.9, u=0.01, threshold=0.9)
        ],
        decisive=[],
        exclusive=[],
    )
    features = features_of(rules, {"sku": "ABCDEFGHIJ"}, {"sku": "ABCDEFGHIX"})
    scalar = score_pair(rules, *features)
    assert scalar.explanation[0]["level"] == "same"
    probability, levels = score_pairs(rules, features, np.array([0]), np.array([1]))
    assert levels[0, 0] == 0
    assert probability[0] == pytest.approx(scalar.probability)


# --- decisive and exclusive identifiers ------------------------------------------------------


def test_equal_valid_gtin_decides():
    rules = item_rules()
    # Names somewhat different, SKU different: the weights alone say no.
    a, b = features_of(
        rules,
        {"gtin": "036000291452", "name": "Blue Widget", "sku": "W-100"},
        {"gtin": "0036000291452", "name": "Widget, blue", "sku": "BW-7"},
    )
    weights_only = score_pair(item_rules(decisive=[]), a, b)
    assert weights_only.probability < rules.thresholds.auto_match
    score = score_pair(rules, a, b)
    assert score.reason == "decided"
    assert score.probability >= DECIDED >= rules.thresholds.auto_match
    assert identifier_verdict(rules, a, b) == "decided"


def test_upc_and_ean_of_the_same_product_decide():
    rules = item_rules()
    a, b = features_of(rules, {"gtin": "036000291452"}, {"gtin": "00036000291452"})
    assert score_pair(rules, a, b).reason == "decided"


def test_invalid_check_digit_gtin_does_not_decide():
    rules = item_rules()
    a, b = features_of(
        rules,
        {"gtin": "036000291453", "name": "Blue Widget", "sku": "W-100"},
        {"gtin": "036000291453", "name": "Widget, blue", "sku": "BW-7"},
    )
    assert a["gtin"] == b["gtin"]
    assert identifier_verdict(rules, a, b) == ""
    score = score_pair(rules, a, b)
    assert score.reason == "weights"
    assert score.probability < rules.thresholds.auto_match
    probability, _ = score_pairs(rules, [a, b], np.array([0]), np.array([1]))
    assert probability[0] == pytest.approx(score.probability)


def test_decisive_identifier_contradicted_by_everything_else_goes_to_review():
    rules = item_rules(
        comparisons=[
            two_levels("GTIN", "gtin", m=0.6, u=0.4),
            two_levels("name", "name", comparator="name", m=0.9, u=0.01, threshold=0.85),
            two_levels("SKU", "sku", comparator="levenshtein", m=0.99, u=0.01, threshold=0.8),
        ]
    )
    a, b = features_of(
        rules,
        {"gtin": "036000291452", "name": "Blue Widget", "sku": "W-100"},
        {"gtin": "036000291452", "name": "Industrial Solvent", "sku": "QQ-889911"},
    )
    score = score_pair(rules, a, b)
    assert score.reason == "identifier contradicted"
    assert rules.thresholds.review <= score.probability < rules.thresholds.auto_match


@pytest.mark.parametrize(
    ("field", "left", "right"),
    [("tax_id", "DE123456789", "DE987654321"), ("duns", "150483782", "04-832-1234")],
)
def test_different_exclusive_identifiers_cap_below_auto_match(field, left, right):
    rules = item_rules()
    same = {"gtin": "036000291452", "name": "Blue Widget", "sku": "W-100"}
    a, b = features_of(rules, {**same, field: left}, {**same, field: right})
    score = score_pair(rules, a, b)
    assert score.reason == "excluded"
    assert score.probability < rules.thresholds.auto_match
    # Everything else agreeing would otherwise be a match.
    c, d = features_of(rules, {**same, field: left}, {**same})
    assert score_pair(rules, c, d).probability >= rules.thresholds.auto_match
    probability, _ = score_pairs(rules, [a, b], np.array([0]), np.array([1]))
    assert probability[0] < rules.thresholds.auto_match


def test_exclusive_identifier_in_standard_form_is_not_different():
    rules = item_rules()
    a, b = features_of(
        rules, {"name": "Acme", "tax_id": "DE 123 456 789"}, {"name": "Acme", "tax_id": "123456789"}
    )
    assert identifier_verdict(rules, a, b) != "excluded"


def test_default_customer_rules_exclusive_identifiers():
    rules = default_rules("customer")
    base = {
        "name": "ACME Corp.",
        "address_line1": "123 Main Street, Suite 4",
        "city": "Springfield",
        "region": "Illinois",
        "postal_code": "62701",
        "country": "US",
        "phone": "+1 (217) 555-0100",
        "email": "info@acme.example",
        "website": "https://www.acme.example",
    }
    a, b = features_of(rules, base, {**base, "name": "Acme Corporation, Inc.", "region": "IL"})
    assert score_pair(rules, a, b).probability >= rules.thresholds.auto_match
    for field, left, right in [
        ("tax_id", "12-3456789", "98-7654321"),
        ("duns", "150483782", "048321234"),
    ]:
        if field not in rules.exclusive:
            continue
        a, b = features_of(rules, {**base, field: left}, {**base, field: right})
        score = score_pair(rules, a, b)
        assert score.reason == "excluded"
        assert score.probability < rules.thresholds.auto_match


def test_tax_ids_of_different_countries_do_not_decide():
    rules = item_rules(decisive=["tax_id"], exclusive=["tax_id"])
    a, b = features_of(
        rules,
        {"name": "Alpha Trading", "tax_id": "GB123456789"},
        {"name": "Alpha Trading", "tax_id": "DE123456789"},
    )
    score = score_pair(rules, a, b)
    assert score.reason != "decided"
    assert score.probability < rules.thresholds.auto_match


def test_default_item_rules_gtin_decides_and_excludes():
    rules = default_rules("item")
    same = {
        "name": "Cordless Drill 18V",
        "sku": "CD-18",
        "manufacturer": "Acme Tools",
        "category": "Power Tools",
    }
    a, b = features_of(rules, {**same, "gtin": "036000291452"}, {**same, "gtin": "0036000291452"})
    if "gtin" in rules.decisive:
        assert score_pair(rules, a, b).reason == "decided"
    assert score_pair(rules, a, b).probability >= rules.thresholds.auto_match
    if "gtin" in rules.exclusive:
        c, d = features_of(
            rules, {**same, "gtin": "036000291452"}, {**same, "gtin": "4006381333931"}
        )
        assert score_pair(rules, c, d).probability < rules.thresholds.auto_match


# --- never together --------------------------------------------------------------------------


def location_rules():
    return rule_set_from_json(
        {
            "domain": "location",
            "attributes": {
                "kind": "location_kind",
                "address_line1": "street",
                "postal_code": "postal_code",
            },
            "blocking": [["postal_code"]],
            "comparisons": [
                two_levels("kind", "kind", m=0.8, u=0.3),
                two_levels(
                    "street",
                    "address_line1",
                    comparator="levenshtein",
                    m=0.9,
                    u=0.001,
                    threshold=0.85,
                ),
                two_levels("postal code", "postal_code", m=0.95, u=0.01),
            ],
            "prior": 0.3,
            "thresholds": {"auto_match": 0.95, "review": 0.5, "cluster_guard": 0.5},
            "never_together": [["kind", ["warehouse"]]],
        }
    )


@pytest.mark.parametrize("rules_factory", [location_rules, lambda: default_rules("location")])
def test_warehouse_and_ship_to_are_never_together(rules_factory):
    rules = rules_factory()
    place = {
        "name": "Main DC",
        "address_line1": "1 Dock Road",
        "city": "Reno",
        "postal_code": "89501",
        "country": "US",
    }
    warehouse, ship_to, dc, bill_to = features_of(
        rules,
        {**place, "kind": "Warehouse"},
        {**place, "kind": "Shipping Address"},
        {**place, "kind": "DC"},
        {**place, "kind": "bill_to"},
    )
    excluded = score_pair(rules, warehouse, ship_to)
    assert excluded.reason == "excluded"
    assert excluded.probability < rules.thresholds.auto_match
    assert score_pair(rules, warehouse, dc).probability >= rules.thresholds.auto_match
    # Both outside the warehouse set: not excluded by the warehouse rule. The shipped rules
    # also keep a bill-to apart from every other kind (an invoicing address is its own record).
    bill_to_apart = any("bill_to" in values for _, values in rules.never_together)
    assert (identifier_verdict(rules, ship_to, bill_to) == "excluded") == bill_to_apart
    probability, _ = score_pairs(
        rules, [warehouse, ship_to, dc, bill_to], np.array([0, 0, 1]), np.array([1, 2, 3])
    )
    assert probability[0] < rules.thresholds.auto_match
    assert probability[1] >= rules.thresholds.auto_match


# --- default customer rules: locality is weak, key evidence decides ---------------------------

SPRINGFIELD = {"city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"}


def customer_pair(left, right):
    rules = default_rules("customer")
    return rules, features_of(rules, left, right)


def both_forms(rules, a, b, frequencies=None):
    score = score_pair(rules, a, b, frequencies)
    probability, _ = score_pairs(rules, [a, b], np.array([0]), np.array([1]), frequencies)
    assert probability[0] == pytest.approx(score.probability, abs=1e-9)
    return score


@pytest.mark.parametrize(
    "left, right",
    [
        # Different companies on different streets of one town and postal code.
        (
            {"name": "Kaplan Paper", "address_line1": "4980 Elm Way", **SPRINGFIELD},
            {"name": "Alvarez Hardware Co.", "address_line1": "40 Orchard Dr", **SPRINGFIELD},
        ),
        # The same, one without a street, both in the same industry.
        (
            {"name": "Patel Plumbing", "industry": "Construction", **SPRINGFIELD},
            {
                "name": "Abbott & Thornton",
                "address_line1": "4872 Summit Pkwy",
                "industry": "Construction",
                **SPRINGFIELD,
            },
        ),
        # Names sharing a first word only, in one town.
        (
            {"name": "Brennan Janitorial Supply", "industry": "Retail", **SPRINGFIELD},
            {"name": "Brennan Fasteners LLC", "industry": "Retail", **SPRINGFIELD},
        ),
    ],
)
def test_different_companies_in_one_town_do_not_auto_match(left, right):
    rules, (a, b) = customer_pair(left, right)
    score = both_forms(rules, a, b)
    assert score.probability < rules.thresholds.auto_match
    capped = {e["comparison"] for e in score.explanation if e["comparator"] == "evidence cap"}
    by_name = {e["comparison"]: e for e in score.explanation}
    if by_name["city"]["contribution"] + by_name["postal code"]["contribution"] > 5:
        assert "locality (capped)" in capped  # the explanation shows the cap


def test_locality_alone_never_auto_matches():
    """However rare the town, a shared locality alone is no key evidence; with frequencies a
    common town weighs less than a rare one."""
    rules, (a, b) = customer_pair(SPRINGFIELD, SPRINGFIELD)
    features = ("city", "region", "postal_code.trimmed", "country")
    common = TermFrequencies(
        {
            "city": {"springfield": 300},
            "region": {"IL": 2000},
            "postal_code.trimmed": {"62701": 100},
        }
        | {"country": {"US": 9000}},
        dict.fromkeys(features, 10_000),
    )
    rare = TermFrequencies({}, dict.fromkeys(features, 10_000))
    weights = []
    for frequencies in (None, common, rare):
        score = both_forms(rules, a, b, frequencies)
        assert score.probability < rules.thresholds.auto_match
        assert score.reason == "key evidence missing"
        weights.append(score.weight)
    assert weights[1] < weights[2]


def test_same_company_abbreviated_on_the_same_street_auto_matches():
    rules, (a, b) = customer_pair(
        {"name": "International Business Machines Corp.", "address_line1": "1 New Orchard Road"},
        {"name": "IBM", "address_line1": "1 New Orchard Rd", **SPRINGFIELD},
    )
    score = both_forms(rules, a, b)
    assert score.probability >= rules.thresholds.auto_match
    assert score.reason == "weights"


def test_same_company_with_typos_in_one_town_auto_matches():
    rules, (a, b) = customer_pair(
        {
            "name": "Summit Health Systems Inc.",
            "address_line1": "422 Washington Cir",
            **SPRINGFIELD,
        },
        {"name": "SUMMIT HEALTH SYSTMES", "address_line1": "422 Washington Circle", **SPRINGFIELD},
    )
    assert both_forms(rules, a, b).probability >= rules.thresholds.auto_match


def test_a_name_alone_does_not_outweigh_a_different_address_and_phone():
    rules, (a, b) = customer_pair(
        {"name": "Acme Corp.", "address_line1": "12 Main St", "phone": "+1 217 555 0100"},
        {"name": "ACME", "address_line1": "900 Lake Ave", "phone": "+1 217 555 0199"},
    )
    assert both_forms(rules, a, b).probability < rules.thresholds.auto_match


def test_auto_match_requires_key_evidence():
    """However much weak evidence adds up, without a key comparison at 4 bits or more the pair
    stays below auto-match, and the explanation says why."""
    rules = item_rules(
        comparisons=[two_levels("category", "name", m=0.99, u=0.001)],
        decisive=[],
        exclusive=[],
        meta={"auto_match_requires": {"comparisons": ["SKU"], "min_weight": 4}},
    )
    a, b = features_of(rules, {"name": "Widget"}, {"name": "Widget"})
    score = both_forms(rules, a, b)
    assert score.probability == rules.thresholds.auto_match - 1e-6
    assert f"{score.probability:.6f}" < f"{rules.thresholds.auto_match:.6f}"
    assert score.reason == "key evidence missing"
    assert score.explanation[-1]["comparison"] == "auto-match requirement"


def test_nested_groups_count_the_inner_group_at_its_capped_value():
    rules = item_rules(
        comparisons=[
            two_levels("a", "name", m=0.9, u=0.9 / 2**6),
            two_levels("b", "sku", comparator="levenshtein", m=0.9, u=0.9 / 2**6),
            two_levels("c", "gtin", m=0.9, u=0.9 / 2**6),
        ],
        decisive=[],
        exclusive=[],
        groups=[
            {"name": "inner", "comparisons": ["a", "b"], "max_weight": 4},
            {"name": "outer", "comparisons": ["a", "b", "c"], "max_weight": 8},
        ],
    )
    a, b = features_of(
        rules,
        {"name": "x", "sku": "W-1", "gtin": "036000291452"},
        {"name": "x", "sku": "W-1", "gtin": "036000291452"},
    )
    score = both_forms(rules, a, b)
    # 6 + 6 → 4 (inner), then 4 + 6 → 8 (outer).
    assert score.weight - rules.prior_weight == pytest.approx(8, abs=1e-9)
    caps = [e["contribution"] for e in score.explanation if e["comparator"] == "evidence cap"]
    assert caps == [pytest.approx(-8, abs=1e-3), pytest.approx(-2, abs=1e-3)]


def test_score_pairs_in_chunks_gives_the_same(monkeypatch):
    from matching import scoring

    rules = item_rules()
    features = features_of(rules, *SAMPLE)
    left, right = np.triu_indices(len(features), k=1)
    whole, whole_levels = score_pairs(rules, features, left, right)
    monkeypatch.setattr(scoring, "CHUNK", 7)
    chunked, chunked_levels = score_pairs(rules, features, left, right)
    assert np.array_equal(whole, chunked) and np.array_equal(whole_levels, chunked_levels)


# --- term frequencies --------------------------------------------------------------------------


def tf_rules(**tf):
    comparison = two_levels("name", "name", m=0.9, u=0.01)
    comparison["tf"] = {"minimum_u": 0.001, "min_records": 10, **tf}
    return item_rules(comparisons=[comparison, two_levels("SKU", "sku")], decisive=[], exclusive=[])


NAMES = TermFrequencies({"name": {"blue widget": 40, "red gadget": 2}}, {"name": 100})


def test_tf_weighs_an_agreement_by_how_common_the_value_is():
    rules = tf_rules()
    common = features_of(rules, {"name": "Blue Widget"}, {"name": "blue widget"})
    rare = features_of(rules, {"name": "Red Gadget"}, {"name": "red gadget"})
    unseen = features_of(rules, {"name": "Green Thing"}, {"name": "green thing"})
    contribution = {}
    for label, (a, b) in (("common", common), ("rare", rare), ("unseen", unseen)):
        score = both_forms(rules, a, b, NAMES)
        contribution[label] = score.weight - rules.prior_weight
    assert contribution["common"] == pytest.approx(math.log2(0.9 / 0.4))
    assert contribution["rare"] == pytest.approx(math.log2(0.9 / 0.02))
    assert contribution["unseen"] == pytest.approx(math.log2(0.9 / 0.01))  # one record of 100
    # The floor: a value rarer than minimum_u weighs as if it had that share.
    floor = tf_rules(minimum_u=0.05)
    a, b = rare
    assert both_forms(floor, a, b, NAMES).weight - floor.prior_weight == pytest.approx(
        math.log2(0.9 / 0.05)
    )


def test_tf_leaves_other_levels_alone():
    rules = tf_rules()
    a, b = features_of(
        rules, {"name": "Blue Widget", "sku": "A"}, {"name": "Red Gadget", "sku": "B"}
    )
    assert both_forms(rules, a, b, NAMES).weight == pytest.approx(score_pair(rules, a, b).weight)


def test_without_frequencies_scores_are_those_of_the_levels():
    """No frequencies, too few records with a value, or a rule set without tf: the level's u."""
    rules = tf_rules()
    plain = item_rules(
        comparisons=[two_levels("name", "name", m=0.9, u=0.01), two_levels("SKU", "sku")],
        decisive=[],
        exclusive=[],
    )
    few = TermFrequencies(NAMES.counts, {"name": 9})
    a, b = features_of(rules, {"name": "Blue Widget"}, {"name": "blue widget"})
    expected = score_pair(plain, a, b)
    for r, frequencies in ((rules, None), (rules, few), (plain, NAMES)):
        score = both_forms(r, a, b, frequencies)
        assert score.weight == expected.weight
        assert score.explanation == expected.explanation


def test_explanation_shows_the_adjusted_weight():
    rules = tf_rules()
    a, b = features_of(rules, {"name": "Blue Widget"}, {"name": "blue widget"})
    entry = score_pair(rules, a, b, NAMES).explanation[0]
    assert set(entry) >= {
        "comparison",
        "feature",
        "left",
        "right",
        "comparator",
        "similarity",
        "level",
        "contribution",
    }
    assert entry["level"] == "same"  # the level's label, unchanged
    assert entry["u"] == pytest.approx(0.4)
    assert entry["contribution"] == pytest.approx(math.log2(0.9 / 0.4), abs=1e-3)
    assert entry["term_frequency"] == "value held by 40 of 100 records (40.00%)"
    # A name that reaches the exact level without being equal counts the commoner value.
    a, b = features_of(rules, {"name": "Blue Widget"}, {"name": "Blue Widget Blue"})
    entry = score_pair(rules, a, b, NAMES).explanation[0]
    if entry["level"] == "same":
        assert entry["u"] == pytest.approx(0.4)


@pytest.mark.parametrize("domain", ["customer", "item", "location"])
def test_score_pair_and_score_pairs_agree_with_frequencies(domain):
    rules = default_rules(domain)
    records = [
        {"name": "ACME Corp.", "city": "Springfield", "postal_code": "62701", "country": "US"},
        {"name": "Acme Corporation", "city": "Springfield", "postal_code": "62701"},
        {"name": "acme", "city": "Springfeld", "region": "IL", "country": "USA"},
        {"name": "Zeta Holdings", "city": "Portland", "postal_code": "97201", "country": "US"},
        {"name": "Zeta Holdings", "city": "Portland", "region": "OR", "country": "US"},
        {"name": "Acme", "address_line1": "1 Main St", "phone": "217 555 0100"},
        {"name": "Acme", "address_line1": "1 Main St", "phone": "+1 217 555 0100"},
    ]
    features = features_of(rules, *records)
    counted = TermFrequencies.from_features(features, rules.tf_features)
    frequencies = TermFrequencies(counted.counts, dict.fromkeys(counted.totals, 1000))
    left, right = np.triu_indices(len(features), k=1)
    probability, _ = score_pairs(rules, features, left, right, frequencies)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        score = score_pair(rules, features[a], features[b], frequencies)
        assert probability[i] == pytest.approx(score.probability, abs=1e-9), (a, b)


EXPLAINED_RECORDS = [
    {
        "name": "ACME Corp.",
        "address_line1": "123 Main Street",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
        "phone": "+1 217 555 0100",
        "tax_id": "DE136695976",
        "sku": "W-100",
        "gtin": "036000291452",
        "kind": "warehouse",
    },
    {
        "name": "Acme Corporation",
        "address_line1": "123 Main St.",
        "city": "Springfeld",
        "postal_code": "62701",
        "country": "USA",
        "phone": "217.555.0100",
        "tax_id": "DE136695976",
        "sku": "W100",
        "gtin": "00036000291452",
        "kind": "DC",
    },
    {
        "name": "Zeta Holdings",
        "address_line1": "9 Oak Road",
        "city": "Portland",
        "postal_code": "97201",
        "country": "US",
        "phone": "503 555 0199",
        "sku": "Z-1",
        "tax_id": "DE136695976",
        "kind": "ship_to",
    },
    {
        "name": "Zeta Holdings",
        "city": "Portland",
        "region": "OR",
        "country": "US",
        "duns": "150483782",
        "email": "ap@zeta.example",
    },
    {
        "name": "Zeta Holding",
        "city": "Portland",
        "region": "OR",
        "country": "US",
        "duns": "804735132",
        "email": "ap@zeta.example",
        "website": "zeta.example",
    },
    {"name": "Acme", "address_line1": "1 Main St", "phone": "217 555 0100", "industry": "Foods"},
    {"name": "Acme", "address_line1": "1 Main St", "phone": "+1 217 555 0100", "industry": "food"},
    {
        "name": "acme",
        "city": "Springfield",
        "region": "IL",
        "country": "US",
        "sku": "W-101",
        "gtin": "036000291453",
    },
    {"city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US"},
    {},
]


@pytest.mark.parametrize("domain", ["customer", "item", "location"])
@pytest.mark.parametrize("with_frequencies", [False, True])
def test_score_pairs_explained_gives_the_explanations_of_score_pair(domain, with_frequencies):
    from matching.scoring import score_pairs_explained

    rules = default_rules(domain)
    features = features_of(rules, *EXPLAINED_RECORDS)
    frequencies = None
    if with_frequencies:
        counted = TermFrequencies.from_features(features, rules.tf_features)
        frequencies = TermFrequencies(counted.counts, dict.fromkeys(counted.totals, 50))
    left, right = np.nonzero(~np.eye(len(features), dtype=bool))  # both orders
    probability, details = score_pairs_explained(rules, features, left, right, frequencies)
    plain, _ = score_pairs(rules, features, left, right, frequencies)
    assert np.array_equal(probability, plain)
    reasons = set()
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        expected = score_pair(rules, features[a], features[b], frequencies)
        got = details.explain(i)
        assert got.as_dict() == expected.as_dict(), (a, b)
        assert got.probability == pytest.approx(expected.probability, abs=1e-9)
        reasons.add(got.reason)
    assert "weights" in reasons
    if domain == "customer":  # every verdict's wording, the caps and the requirement
        assert reasons == {
            "weights",
            "decided",
            "excluded",
            "identifier contradicted",
            "key evidence missing",
        }


def test_score_pairs_explained_in_chunks_gives_the_same(monkeypatch):
    from matching import scoring
    from matching.scoring import score_pairs_explained

    rules = default_rules("customer")
    features = features_of(rules, *EXPLAINED_RECORDS)
    left, right = np.triu_indices(len(features), k=1)
    monkeypatch.setattr(scoring, "CHUNK", 7)
    _, details = score_pairs_explained(rules, features, left, right)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        assert details.explain(i).as_dict() == score_pair(rules, features[a], features[b]).as_dict()
