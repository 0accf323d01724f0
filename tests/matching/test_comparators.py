"""Comparators: scalar and vector forms agree, missing values are None / NaN, abbreviations."""

import math

import numpy as np
import pytest

from matching import comparators
from matching.features import extract

PAIRS = {
    "exact": [("acme", "acme"), ("acme", "acne"), ("AB123", "AB124"), ("x", "x")],
    "jaro_winkler": [
        ("springfield", "springfeild"),
        ("springfield", "portland"),
        ("martha", "marhta"),
        ("reno", "reno"),
    ],
    "levenshtein": [
        ("123 main st", "123 main st"),
        ("123 main st", "132 main st"),
        ("AB1234", "AB1235"),
        ("kitchen", "sitting"),
    ],
    "token_set": [
        ("home garden", "garden home"),
        ("home garden", "home garden tools"),
        ("manufacturing", "retail"),
        ("food service", "food services"),
    ],
    "name": [
        ("acme", "acme"),
        ("nat", "national consulting"),
        ("ibm", "international business machines"),
        ("acme holdings", "acme"),
        ("acme", "zeta industries"),
        ("home depot", "depot home"),
    ],
    "text": [
        ("nitrile disposable gloves 6 mil size 2xl", "nitrile disposable gloves 4 mil size 2xl"),
        ("nitrile disposable gloves 6 mil size 2xl", "nitrile disposable gloves 6mil size 2xl"),
        ("led high bay fixture 200w 50", "led high bay fixture 200w 5000k 30000 lm"),
        ("fhvn2p", "fold hanger velvet non slip 20 pack"),
        ("acme", "zeta industries"),
    ],
    "street": [
        ("171 gutenberg st", "141 gutenberg st"),
        ("135 sunrise st", "1335 sunrise st"),
        ("4680 copper ave", "4680 coper ave"),
        ("97 high st", "97 high st ste 4"),
        ("1 main st", "99 elm rd"),
    ],
    "code": [
        ("SAF10026", "SAF10012"),
        ("X05868", "X5868"),
        ("K32346", "V32346"),
        ("WH12", "FAC0012"),
        ("ABC", "ABD"),
    ],
    "phone": [
        ("+15405550173", "+15405550173"),
        ("+15405550173", "+15405550174"),
        ("+15405550173", "+493012345678"),
    ],
    "numeric": [("10", "10"), ("10", "12.5"), ("0", "0"), ("-3", "3"), ("abc", "3")],
    "geo": [
        ("39.5296,-119.8138", "39.5296,-119.8138"),
        ("39.5296,-119.8138", "39.5300,-119.8100"),
        ("39.5296,-119.8138", "40.0,-119.0"),
        ("39.5296,-119.8138", "n/a"),
        ("39.5296;-119.8138", "39.5296,-119.8138"),
    ],
}


def test_every_comparator_has_sample_pairs():
    assert set(PAIRS) == set(comparators.SCALAR)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_scalar_and_vector_agree(name):
    pairs = PAIRS[name]
    left, right = [p[0] for p in pairs], [p[1] for p in pairs]
    vector = comparators.vector(name, left, right)
    assert vector.shape == (len(pairs),)
    for (a, b), value in zip(pairs, vector.tolist(), strict=True):
        scalar = comparators.SCALAR[name]({"f": a}, {"f": b}, "f")
        if scalar is None:
            assert math.isnan(value), (a, b)
        else:
            assert 0.0 <= scalar <= 1.0
            # Double precision: float32 would put 0.9 at 0.8999999762.
            assert value == pytest.approx(scalar, rel=1e-12, abs=1e-12), (a, b)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_missing_is_none_and_nan(name):
    sample = PAIRS[name][0][0]
    scalar = comparators.SCALAR[name]
    assert scalar({"f": sample}, {}, "f") is None
    assert scalar({}, {"f": sample}, "f") is None
    assert scalar({"f": ""}, {"f": sample}, "f") is None
    vector = comparators.vector(name, ["", sample, ""], [sample, "", ""])
    assert np.isnan(vector).all()


def test_vector_of_nothing():
    assert comparators.vector("exact", [], []).shape == (0,)


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("nat", "national consulting"),
        ("ibm", "international business machines"),
        ("nc", "national consulting"),
        ("natcon", "national consulting"),
        ("aju", "adjustable wrench"),
        ("itc", "independent trading co"),
    ],
)
def test_abbreviation_detected(short, long):
    assert comparators.abbreviation(short, long.split())
    assert comparators.name({"f": short}, {"f": long}, "f") >= comparators.ABBREVIATION_SCORE
    # Symmetric in the order of the records.
    assert comparators.name({"f": long}, {"f": short}, "f") >= comparators.ABBREVIATION_SCORE


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("n", "national consulting"),
        ("xyz", "national consulting"),
        ("two words", "two wonderful words"),
        ("ab", ""),
    ],
)
def test_not_an_abbreviation(short, long):
    assert not comparators.abbreviation(short, long.split())


def test_name_orders_similarity():
    def score(a, b):
        return comparators.name({"f": a}, {"f": b}, "f")

    assert score("acme", "acme") == 1.0
    assert score("acme corp", "acme") == 1.0  # token set: one name contains the other
    assert score("acme", "acmee") > score("acme", "zeta industries")
    assert score("acme", "zeta industries") < 0.6


def test_phone_comparator_reads_digits_beside_e164():
    a = extract({"phone": "phone"}, {"phone": "+1 (540) 555-0173"})
    b = extract({"phone": "phone"}, {"phone": "540.555.0173"})
    typo = extract({"phone": "phone"}, {"phone": "540.555.0174"})
    other = extract({"phone": "phone"}, {"phone": "+49 30 12345678"})
    assert comparators.phone(a, b, "phone") == 1.0
    assert 0.85 <= comparators.phone(a, typo, "phone") < 1.0
    assert comparators.phone(a, other, "phone") < comparators.phone(a, typo, "phone")


def test_vector_with_features_agrees_with_scalar_phone():
    records = [
        {"phone": "+1 (540) 555-0173"},
        {"phone": "540.555.0173 x558"},
        {"phone": "540.555.0174"},
        {},
        {"phone": "030 12345678", "country": "DE"},
    ]
    features = [extract({"phone": "phone", "country": "country"}, r) for r in records]
    left = np.array([0, 0, 0, 1, 2, 3])
    right = np.array([1, 2, 4, 2, 4, 4])
    vector = comparators.vector_with_features("phone", "phone", features, left, right)
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        scalar = comparators.phone(features[a], features[b], "phone")
        if scalar is None:
            assert np.isnan(vector[i])
        else:
            assert vector[i] == pytest.approx(scalar)


def test_geo_distance_scale():
    assert comparators.geo({"f": "0,0"}, {"f": "0,0"}, "f") == 1.0
    assert comparators.geo({"f": "0,0"}, {"f": "1,0"}, "f") == 0.0  # ~111 km
    assert 0.4 < comparators.geo({"f": "0,0"}, {"f": "0.045,0"}, "f") < 0.6  # ~5 km


@pytest.mark.parametrize("name", ["levenshtein", "token_set"])
def test_vector_is_exact_at_level_boundaries(name):
    """One edit in ten characters is exactly 0.9 either way; a level starting at 0.9 must take
    the pair in both forms."""
    left, right = ["abcdefghij"], ["abcdefghix"]
    scalar = comparators.SCALAR[name]({"f": left[0]}, {"f": right[0]}, "f")
    assert scalar == 0.9
    vector = comparators.vector(name, left, right)
    assert vector[0] >= 0.9
    assert vector[0] == scalar


@pytest.mark.parametrize("name", ["jaro_winkler", "levenshtein", "token_set", "name"])
def test_scalar_and_vector_agree_exactly_on_many_pairs(name):
    words = ["acme", "acme corp", "acne", "national consulting", "nat", "ibm", "zeta", "a b"]
    words += ["international business machines", "home depot", "depot home", "ab", "abcdefghij"]
    left = [a for a in words for _ in words]
    right = [b for _ in words for b in words]
    vector = comparators.vector(name, left, right)
    pairs = zip(left, right, strict=True)
    scalar = [comparators.SCALAR[name]({"f": a}, {"f": b}, "f") for a, b in pairs]
    # Double precision both ways (rapidfuzz's SIMD Jaro-Winkler may differ in the last bit).
    assert vector.tolist() == pytest.approx(scalar, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "raw", ["n/a", "1,2,3", "abc,def", "", ",", "91,0", "0,181", "nan,0", "inf,0", "1;2"]
)
def test_geo_unparsable_or_impossible_point_is_missing(raw):
    assert comparators.geo({"f": raw}, {"f": "0,0"}, "f") is None
    assert comparators.geo({"f": "0,0"}, {"f": raw}, "f") is None
    assert np.isnan(comparators.vector("geo", [raw], ["0,0"])).all()


def test_geo_antipodes_do_not_raise():
    assert comparators.geo({"f": "0,0"}, {"f": "0,180"}, "f") == 0.0
    assert comparators.geo({"f": "90,0"}, {"f": "-90,0"}, "f") == 0.0


def test_vector_with_features_phone_on_many_records():
    raws = [
        "+1 (540) 555-0173",
        "540.555.0173",
        "540-555-0173 x558",
        "+1 540 555 0173 ext 558",
        "540.555.0174",
        "+49 30 12345678",
        "030 12345678",
        "garbage",
        "1",
        "",
        "+44 20 7946 0958",
        "(13) 505-5501882258",
        "+1-350-555-0188 x2258",
    ]
    records = [{"phone": raw} for raw in raws] + [{"phone": "030 12345678", "country": "DE"}]
    features = [extract({"phone": "phone", "country": "country"}, r) for r in records]
    left, right = np.triu_indices(len(features), k=0)
    vector = comparators.vector_with_features("phone", "phone", features, left, right)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        scalar = comparators.phone(features[a], features[b], "phone")
        if scalar is None:
            assert np.isnan(vector[i]), (raws[a % len(raws)], b)
        else:
            assert vector[i] == scalar, (a, b)


def test_vector_with_features_of_no_pairs():
    empty = np.empty(0, dtype=np.int64)
    assert comparators.vector_with_features("phone", "phone", [], empty, empty).shape == (0,)


def test_phone_extension_and_regrouped_digits_agree():
    a = extract({"phone": "phone"}, {"phone": "+1 (13) 505-5501882258"})
    b = extract({"phone": "phone"}, {"phone": "+1-350-555-0188 x2258"})
    assert comparators.phone(a, b, "phone") == 1.0


def test_name_abbreviation_in_vector_form():
    left = [
        "nat",
        "national consulting",
        "ibm",
        "acme",
        "two words",
        "n",
        "itc",
        "adjustable wrench",
    ]
    right = ["national consulting", "nat", "international business machines", "zeta", "x", "nx"]
    right += ["independent trading co", "aju"]
    vector = comparators.vector("name", left, right)
    # Similarity alone is below the abbreviation score for these two: the abbreviation decides.
    assert vector[6] == vector[7] == comparators.ABBREVIATION_SCORE
    assert vector[0] == vector[1] >= comparators.ABBREVIATION_SCORE
    assert vector[2] >= comparators.ABBREVIATION_SCORE
    assert vector[3] < comparators.ABBREVIATION_SCORE
    assert vector.tolist() == [
        comparators.name({"f": a}, {"f": b}, "f") for a, b in zip(left, right, strict=True)
    ]


PHONE_ATTRIBUTES = {"phone": "phone", "country": "country"}


def test_phone_with_and_without_its_country_code_is_one_number():
    # A US number typed without "+1" read in Czechia gets +420 in front of its own 1.
    home = extract(PHONE_ATTRIBUTES, {"phone": "+1-380-555-0181 x1234", "country": "US"})
    abroad = extract(PHONE_ATTRIBUTES, {"phone": "1-380-555-0181", "country": "CZ"})
    assert abroad["phone"].startswith("+420")
    assert comparators.phone(home, abroad, "phone") == 1.0
    other = extract(PHONE_ATTRIBUTES, {"phone": "1-380-555-0182", "country": "CZ"})
    assert comparators.phone(home, other, "phone") < 1.0


def test_phone_with_its_extension_run_into_it_is_one_number():
    plain = extract(PHONE_ATTRIBUTES, {"phone": "(411) 555-0182"})
    run_together = extract(PHONE_ATTRIBUTES, {"phone": "+1 411 555 0182 5658"})
    assert comparators.phone(plain, run_together, "phone") == 1.0


def test_same_number_needs_a_whole_national_number():
    assert comparators.same_number("+13805550181", "3805550181", "+42013805550181", "3805550181")
    # A short run of digits inside another number says nothing.
    assert not comparators.same_number("+15550181", "5550181", "+4930555018", "4930555018")
    assert not comparators.same_number("+123456", "23456", "+49123456", "49123456")


def test_phone_country_code_in_vector_form_agrees_with_scalar():
    records = [
        {"phone": "+1-380-555-0181", "country": "US"},
        {"phone": "1-380-555-0181", "country": "CZ"},
        {"phone": "(411) 555-0182"},
        {"phone": "+1 411 555 0182 5658"},
        {"phone": "1-380-555-0182", "country": "CZ"},
    ]
    features = [extract(PHONE_ATTRIBUTES, r) for r in records]
    left = np.array([0, 2, 0, 1, 3])
    right = np.array([1, 3, 4, 4, 0])
    vector = comparators.vector_with_features("phone", "phone", features, left, right)
    pairs = zip(left.tolist(), right.tolist(), strict=True)
    scalar = [comparators.phone(features[a], features[b], "phone") for a, b in pairs]
    assert vector.tolist() == pytest.approx(scalar)
    assert vector[:2].tolist() == [1.0, 1.0]
    assert vector[2] < 1.0


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("bswt", "banana republic wool topcoat"),
        ("hwnkm", "hush white noise machine"),
        ("cw", "cyptovaultwallet"),
    ],
)
def test_text_short_form_scores_its_own_level(short, long):
    a, b = {"f": short}, {"f": long}
    assert comparators.name(a, b, "f") < comparators.SHORT_FORM_SCORE
    assert comparators.text(a, b, "f") == comparators.SHORT_FORM_SCORE
    assert comparators.vector("text", [short], [long])[0] == comparators.SHORT_FORM_SCORE


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("bsc", "steam steamer clothes handheld"),  # another first letter
        ("bolt", "bracket"),  # two short words, neither a short form of the other
        ("steam rice cooker", "stand mixer kitchen aid"),  # not one word
        ("stainlessx", "stainless steel straws set"),  # longer than a short form
    ],
)
def test_text_short_form_needs_its_shape(a, b):
    assert comparators.text({"f": a}, {"f": b}, "f") != comparators.SHORT_FORM_SCORE
