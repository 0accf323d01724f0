"""Numbers are identity, not typos: sizes, gauges, model, house and code numbers that differ
make two different things; the same number written another way is the same thing."""

import numpy as np
import pytest

from matching import comparators
from matching import standardise as std
from matching.features import extract
from matching.rules import default_rules
from matching.scoring import score_pair, score_pairs


def text_score(a: str, b: str) -> float:
    return comparators.text({"f": std.text(a)}, {"f": std.text(b)}, "f")


def street_score(a: str, b: str) -> float:
    return comparators.street({"f": std.street(a)}, {"f": std.street(b)}, "f")


def code_score(a: str, b: str) -> float:
    return comparators.code({"f": std.code(a)}, {"f": std.code(b)}, "f")


@pytest.mark.parametrize(
    ("raw", "standard", "numbers"),
    [
        ("Self-Drilling Screw, #10 x 1/2 in", "self drilling screw 10 x 0.5 in", ("10", "0.5")),
        ("Brass Ball Valve, 1-1/2 in", "brass ball valve 1.5 in", ("1.5",)),
        ('Pipe 1 1/2"', "pipe 1.5", ("1.5",)),
        ("Hose ½ in", "hose 0.5 in", ("0.5",)),
        ("LED Panel, 30,000 lm", "led panel 30000 lm", ("30000",)),
        ("Rohr 2,5 mm", "rohr 2.5 mm", ("2.5",)),
        ("Circuit Breaker, 120/240V", "circuit breaker 120 240v", ("120", "240")),
        ("Bit No. 05", "bit no 05", ("5",)),
        ("Spacer 2.50 mm", "spacer 2.50 mm", ("2.5",)),
        ("Dated 3/4/2024", "dated 3 4 2024", ("3", "4", "2024")),
    ],
)
def test_text_keeps_numbers(raw, standard, numbers):
    assert std.text(raw) == standard
    assert std.numbers(std.text(raw)) == numbers


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Nitrile Disposable Gloves, 6 mil, Size 2XL",
            "Nitrile Disposable Gloves, 4 mil, Size 2XL",
        ),
        ("Brass Ball Valve, 1 in, Press", "Brass Ball Valve, 2 in, Press"),
        ("Socket Head Cap Screw M4x50", "Socket Head Cap Screw M8x40"),
        ("Socket Head Cap Screw M12 x 50", "Socket Head Cap Screw M12 x 40"),
        ("Deep Groove Ball Bearing 6202-2RS", "Deep Groove Ball Bearing 6203-2RS"),
        ("LED High Bay Fixture, 100W, 4000K", "LED High Bay Fixture, 150W, 4000K"),
        ("Self-Drilling Screw, #10 x 1/2 in", "Self-Drilling Screw, #10 x 3/4 in"),
    ],
)
def test_variants_differing_in_a_number_are_different(a, b):
    assert text_score(a, b) <= comparators.NUMBERS_DIFFER
    assert comparators.name({"f": std.text(a)}, {"f": std.text(b)}, "f") > 0.9  # looks alike


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nitrile Disposable Gloves, 6 mil", "NITRILE DISPOSABLE GLOVES 6MIL"),
        ("Ball Valve 1/2 in", "Ball Valve 0.5 in"),
        ("Ball Valve ½ in", "Ball Valve 1/2 in"),
        ("Ball Valve 1-1/2 in", "Ball Valve 1.5 in"),
        ("Drill Bit No. 5", "Drill Bit #5"),
        ("Drill Bit #05", "Drill Bit #5"),
        ("LED Panel 30,000 lm", "LED Panel 30000 lm"),
        # Cut off by a system's field length, and with the manufacturer in front.
        ("LED HIGH BAY FIXTURE, 200W, 50", "LED High Bay Fixture, 200W, 5000K, 30000 lm"),
        ("DEEP GROOVE BALL BEARING, 6202", "Deep Groove Ball Bearing, 6202-Open"),
        ("3M Safety Glasses Clear", "Safety Glasses, Clear"),
        ("Circuit Breaker, 2-Pole, 60A", "Circuit Breaker, 60A, 2-Pole"),
    ],
)
def test_same_product_written_differently_keeps_its_score(a, b):
    left, right = std.text(a), std.text(b)
    assert comparators.numbers_agree(left, right)
    assert text_score(a, b) == comparators.name({"f": left}, {"f": right}, "f")


def test_abbreviation_keeps_its_score_despite_numbers():
    assert text_score("fhvn2p", "Fold Hanger Velvet Non Slip 20 Pack") == pytest.approx(
        comparators.ABBREVIATION_SCORE
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Gutenbergstraße 171", "Gutenbergstr. 141", comparators.NUMBERS_DIFFER),
        ("4663 Lake St", "5630 Lake St", comparators.NUMBERS_DIFFER),
        ("4663 Lake St", "5630 Elm Rd", None),  # not even alike: below the look-alikes
        ("97 High Street", "98 High Street", comparators.NUMBERS_DIFFER),
        ("135 Sunrise St", "1335 Sunrise Street", comparators.NUMBER_DROPPED),
    ],
)
def test_street_numbers_are_identity(a, b, expected):
    score = street_score(a, b)
    if expected is None:
        assert score < comparators.NUMBERS_DIFFER
    else:
        assert score == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Gutenbergstraße 171", "GUTENBERGSTR. 171"),
        ("97 High Street", "97 High St, Suite 4"),
        ("0701 Queen Rd", "701 Queen Road"),
        ("4680 Copper Ave", "4680 Coper Ave"),
        ("2v486 Church Ct", "2486 Church Ct"),  # a garbled number says nothing
        ("12a Mill Lane", "12 Mill Ln"),
    ],
)
def test_same_street_line_is_not_capped(a, b):
    left, right = std.street(a), std.street(b)
    assert street_score(a, b) == comparators.levenshtein({"f": left}, {"f": right}, "f")


def test_house_number_feature_survives_run_together_words():
    assert std.house_number(std.street("4359Church Way")) == "4359"
    assert std.house_number(std.street("12a Mill Lane")) == "12a"
    assert std.house_number(std.street("4z96 Poplar Ln")) == "496"


@pytest.mark.parametrize(
    ("a", "b", "capped"),
    [
        ("SAF-10026", "SAF-10012", True),  # sequential SKUs: two items
        ("SAF-10060", "SAF-10009", True),
        ("C100020-BT", "C100020-01", True),  # bill-to and ship-to codes of one customer
        ("PLS-35657", "PLS35657", False),  # separators do not count: equal
        ("K-32346", "V-32346", False),  # a mistyped letter is a typo
        ("X-05868", "X-5868", False),  # leading zeros
    ],
)
def test_code_numbers(a, b, capped):
    score = code_score(a, b)
    if capped:
        assert score <= comparators.NUMBERS_DIFFER
    else:
        assert score > comparators.NUMBER_MISTYPED


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ELE-10086", "ELE-10026"),  # one digit for another: a slip or the next item
        ("NB-7081-BK", "NB-7031-BK"),
        ("T-83750", "T-83720"),
        ("A-65497", "A-64597"),  # two neighbouring digits swapped
    ],
)
def test_code_with_one_digit_off_has_its_own_level(a, b):
    assert code_score(a, b) == comparators.NUMBER_MISTYPED
    assert comparators.NUMBERS_DIFFER < comparators.NUMBER_MISTYPED < comparators.NUMBERS_CLOSE


@pytest.mark.parametrize(
    ("a", "b", "mistyped"),
    [
        ("83750", "83720", True),
        ("65497", "64597", True),
        ("10060", "10009", False),  # two places apart
        ("12345", "1234", False),  # lengths differ
        ("12345", "12345", False),
        ("12345", "21354", False),  # two swaps
    ],
)
def test_digit_mistyped(a, b, mistyped):
    assert comparators.digit_mistyped(a, b) is mistyped


def test_code_of_agreeing_digits_never_falls_among_the_digit_levels():
    # Digits agree, letters far apart: below every level of differing digits, not "one digit
    # off" by accident of the edit similarity.
    score = code_score("ABCD-1234", "WXY-1234")
    assert (
        comparators.NUMBERS_FAR
        < comparators.levenshtein({"f": std.code("ABCD-1234")}, {"f": std.code("WXY-1234")}, "f")
        < comparators.NUMBERS_CLOSE
    )
    assert score == comparators.NUMBERS_FAR


@pytest.mark.parametrize("name", ["text", "street", "code"])
def test_vector_agrees_with_scalar_on_numbers(name):
    standardise = {"text": std.text, "street": std.street, "code": std.code}[name]
    raw = [
        ("Nitrile Gloves 6 mil Size L", "Nitrile Gloves 4 mil Size L"),
        ("Nitrile Gloves 6 mil", "Nitrile Gloves 6mil"),
        ("171 Gutenberg St", "141 Gutenberg St"),
        ("135 Sunrise St", "1335 Sunrise St"),
        ("SAF-10026", "SAF-10012"),
        ("U90923", "L90826"),
        ("X-05868", "X-5868"),
        ("fhvn2p", "fold hanger velvet non slip 20 pack"),
        ("LED 200W 50", "LED 200W 5000K 30000 lm"),
        ("", "abc 1"),
    ]
    left = [standardise(a) if a else "" for a, _ in raw]
    right = [standardise(b) if b else "" for _, b in raw]
    vector = comparators.vector(name, left, right)
    for a, b, value in zip(left, right, vector.tolist(), strict=True):
        scalar = comparators.SCALAR[name]({"f": a}, {"f": b}, "f")
        if scalar is None:
            assert np.isnan(value)
        else:
            assert value == pytest.approx(scalar, abs=1e-12), (a, b)


def _item(**values):
    rules = default_rules("item")
    return rules, extract(rules.attributes, values)


def test_item_variants_of_one_family_do_not_auto_match():
    rules, vest_l = _item(
        sku="SAF-10060",
        mpn="SEC-46817-100",
        manufacturer="Sécurité Plus",
        name="HI-VIS SAFETY VEST ANSI CLASS 2 ORANGE S",
        category="Safety > High Visibility",
    )
    _, vest_2xl = _item(
        sku="SAF-10009",
        mpn="SEC-87561",
        manufacturer="Sécurité Plus",
        name="Hi-Vis Safety Vest, ANSI Class 2, Lime, Size 2XL",
        category="Safety > High Visibility",
    )
    _, gloves_6 = _item(
        sku="SAF-10026",
        manufacturer="Sécurité Plus",
        name="Nitrile Disposable Gloves, 6 mil, Size 2XL",
        category="Safety > Gloves",
    )
    _, gloves_4 = _item(
        sku="SAF-10012",
        manufacturer="Sécurité Plus",
        name="Nitrile Disposable Gloves, 4 mil, Size 2XL",
        category="Safety > Gloves",
    )
    for a, b in [(vest_l, vest_2xl), (gloves_6, gloves_4)]:
        assert score_pair(rules, a, b).probability < rules.thresholds.auto_match
    probability, _ = score_pairs(
        rules, [vest_l, vest_2xl, gloves_6, gloves_4], np.array([0, 2]), np.array([1, 3])
    )
    assert (probability < rules.thresholds.auto_match).all()


def test_item_same_product_from_two_systems_matches():
    rules, erp = _item(
        sku="FAS-10335",
        mpn="BF-47001",
        manufacturer="Bolton Fixings Ltd",
        name="Self-Drilling Screw, #10 x 1/2 in, Hex Washer Head, Box of 100",
    )
    _, shop = _item(
        sku="FAS10335",
        mpn="BF47001",
        manufacturer="Bolton Fixings Ltd",
        name="Bolton Fixings Ltd Self-Drilling Screw, #10 x 0.5 in, Hex Washer Head, Box of 100",
    )
    assert score_pair(rules, erp, shop).probability >= rules.thresholds.auto_match


def _location(**values):
    rules = default_rules("location")
    return rules, extract(rules.attributes, values)


def test_locations_of_other_companies_in_one_town_do_not_auto_match():
    town = {"city": "Mannheim", "region": "BW", "postal_code": "68199", "country": "DE"}
    rules, a = _location(
        code="C100020-01", name="Ostsee Feinkost", address_line1="Gutenbergstraße 171", **town
    )
    _, b = _location(
        code="C100410-01", name="Rhein Logistik", address_line1="Gutenbergstraße 141", **town
    )
    _, c = _location(
        code="C100555-01", name="Weber Metallbau", address_line1="Hafenstraße 3", **town
    )
    for x, y in [(a, b), (a, c)]:
        assert score_pair(rules, x, y).probability < rules.thresholds.auto_match


def test_bill_to_and_ship_to_at_one_address_stay_apart():
    place = {
        "address_line1": "9754 Hastings St",
        "city": "Toronto",
        "postal_code": "M4W 5E1",
        "country": "CA",
    }
    rules, ship_to = _location(
        code="C100006-01", name="McAllister Builders - Main Site", kind="ship_to", **place
    )
    _, bill_to = _location(
        code="C100006-BT", name="McAllister Builders Ltd. (Bill-To)", kind="bill_to", **place
    )
    _, crm_ship_to = _location(
        code="C100006-01", name="McAllister Builders - Main Site", kind="Shipping", **place
    )
    assert score_pair(rules, ship_to, bill_to).probability < rules.thresholds.auto_match
    assert score_pair(rules, ship_to, crm_ship_to).probability >= rules.thresholds.auto_match


def test_postal_address_role_labels_are_sites():
    rules = default_rules("location")
    kinds = {
        extract(rules.attributes, {"kind": k})["kind"]
        for k in ("home", "Residential", "business", "Postal")
    }
    assert kinds == {"site"}
