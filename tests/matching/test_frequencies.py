"""Term frequencies: counted from features (file mode) or from the stored match profiles
(online and dedupe, cached per process), and how the rules declare them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from golden_records.history import ChangeOrigin
from golden_records.services import ingest_batch
from matching import frequencies, online
from matching.frequencies import TermFrequencies, count_profiles, domain_frequencies
from matching.models import MatchProfile
from matching.online import OnlineMatcher
from matching.rules import Requirement, TermFrequency, default_rules, rule_set_from_json
from matching.scoring import score_pair, score_pairs
from tests.conftest import make_system

ORIGIN = ChangeOrigin.command("test")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache is per process: keep one test's counts out of the next."""
    frequencies.clear_cache()
    online._saturated.clear()
    yield
    frequencies.clear_cache()
    online._saturated.clear()


# --- TermFrequencies -----------------------------------------------------------------------------


def test_counts_from_features():
    table = TermFrequencies.from_features(
        [{"city": "springfield"}, {"city": "springfield"}, {"city": "salem"}, {"city": ""}, {}],
        ["city", "postal_code"],
    )
    assert table.counts["city"] == {"springfield": 2, "salem": 1}
    assert table.totals == {"city": 3, "postal_code": 0}
    assert table.share("city", "springfield") == pytest.approx(2 / 3)
    # A value the table does not hold is rare: one record.
    assert table.count("city", "elsewhere") == 1
    assert table.share("city", "elsewhere") == pytest.approx(1 / 3)
    assert table.covers("city", 3) and not table.covers("city", 4)
    assert not table.covers("postal_code", 0)  # no values at all
    assert not table.covers("region", 0)  # not counted


# --- rules ---------------------------------------------------------------------------------------


def _comparison(tf=None, first_level=1.0):
    data = {
        "name": "city",
        "feature": "city",
        "comparator": "exact",
        "levels": [
            {"label": "equal", "min_similarity": first_level, "m": 0.9, "u": 0.01},
            {"label": "different", "min_similarity": 0.0, "m": 0.1, "u": 0.99},
        ],
    }
    if tf is not None:
        data["tf"] = tf
    return data


def _rules(*comparisons, **extra):
    return rule_set_from_json(
        {
            "domain": "customer",
            "attributes": {"city": "text"},
            "blocking": [["city"]],
            "comparisons": list(comparisons),
            "prior": 0.1,
            **extra,
        }
    )


def test_rules_parse_and_write_the_tf_option():
    rules = _rules(_comparison({"minimum_u": 0.001, "min_records": 50}))
    assert rules.comparisons[0].tf == TermFrequency(minimum_u=0.001, min_records=50)
    assert rules.tf_features == ("city",)
    data = rules.to_json()
    assert data["comparisons"][0]["tf"] == {"minimum_u": 0.001, "min_records": 50}
    assert rule_set_from_json(json.loads(json.dumps(data))) == rules
    # Without the option nothing is written, and defaults fill a bare "tf": true.
    assert "tf" not in _rules(_comparison()).to_json()["comparisons"][0]
    assert _rules(_comparison(True)).comparisons[0].tf == TermFrequency()


def test_tf_needs_an_exact_first_level():
    with pytest.raises(ValueError, match="exact first level"):
        _rules(_comparison({"minimum_u": 0.001}, first_level=0.9))


def test_auto_match_requires_is_a_field():
    spec = {"comparisons": ["city"], "min_weight": 4}
    rules = _rules(_comparison(), auto_match_requires=spec)
    assert rules.auto_match_requires == Requirement(("city",), 4.0)
    assert rules.to_json()["auto_match_requires"] == {"comparisons": ["city"], "min_weight": 4.0}
    # Versions stored before it was a field kept it in meta: read from there, written as a field.
    legacy = _rules(_comparison(), meta={"auto_match_requires": spec, "other": 1})
    assert legacy.auto_match_requires == rules.auto_match_requires
    assert legacy.meta == {"other": 1}
    assert "auto_match_requires" not in _rules(_comparison()).to_json()


@pytest.mark.parametrize("domain", ["customer", "item", "location"])
def test_default_rules_round_trip(domain):
    rules = default_rules(domain)
    assert rules.auto_match_requires is not None
    assert rule_set_from_json(json.loads(json.dumps(rules.to_json()))) == rules


def test_default_customer_rules_adjust_the_locality_and_the_name():
    rules = default_rules("customer")
    adjusted = {c.name for c in rules.comparisons if c.tf is not None}
    assert {"name", "city", "postal code"} <= adjusted
    assert not {"tax id", "DUNS"} & adjusted


# --- the database's counts, cached ---------------------------------------------------------------


def _ingest(*records):
    start = _ingest.count
    _ingest.count += len(records)
    rows = [{"source_id": f"C{start + i}", **r} for i, r in enumerate(records)]
    outcome = ingest_batch(make_system("erp"), "customer", rows, "reject_all", ORIGIN)
    assert all(r.action != "rejected" for r in outcome.records)


_ingest.count = 0


def _profiles(cities):
    _ingest(*({"name": f"Company {i}", "city": c, "country": "US"} for i, c in enumerate(cities)))


@pytest.mark.django_db
def test_count_profiles_keeps_the_most_frequent_values():
    _profiles(["Springfield"] * 3 + ["Salem"] * 2 + ["Dover", "Albany"] + [""])
    table = count_profiles("customer", ["city", "postal_code.trimmed"], top=1)
    assert table.totals == {"city": 7, "postal_code.trimmed": 0}
    assert table.counts["city"] == {"springfield": 3}  # top 1
    assert table.count("city", "salem") == 1  # not in the table: rare
    full = count_profiles("customer", ["city"])
    assert full.counts["city"] == {"springfield": 3, "salem": 2}  # single values are implied
    assert MatchProfile.objects.filter(domain="customer").count() == 8


@pytest.mark.django_db
def test_domain_frequencies_are_cached(monkeypatch):
    rules = default_rules("customer")
    _profiles(["Springfield"] * 3)
    first = domain_frequencies(rules)
    assert first is not None and first.totals["city"] == 3
    _profiles(["Springfield"] * 2)
    with CaptureQueriesContext(connection) as ctx:
        assert domain_frequencies(rules) is first
    assert not ctx.captured_queries
    # After the time to live the counts are taken again.
    now = frequencies.time.monotonic()
    monkeypatch.setattr(frequencies.time, "monotonic", lambda: now + frequencies.TTL + 1)
    assert domain_frequencies(rules).totals["city"] == 5


def test_rules_without_tf_need_no_frequencies():
    rules = _rules(_comparison())
    assert domain_frequencies(rules) is None  # and no database access (no django_db mark)


# --- the online hook ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_online_matching_scores_with_the_domains_frequencies(monkeypatch):
    rules = default_rules("customer")
    stored = {
        "name": "Kaplan Paper",
        "address_line1": "4980 Elm Way",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
    }
    _ingest(stored)
    # A domain where Springfield and 62701 are everyone's: the same town says little.
    common = TermFrequencies(
        {"city": {"springfield": 900}, "postal_code.trimmed": {"62701": 900}},
        {"city": 1000, "postal_code.trimmed": 1000},
    )
    calls = []

    def cached(r):
        calls.append(r.domain)
        return common

    monkeypatch.setattr(online, "domain_frequencies", cached)
    new = {**stored, "name": "Kaplan Paper Co", "address_line1": "4980 Elm Way Ste 1"}
    matcher = OnlineMatcher(rules)
    matcher.prepare([new])
    assert calls
    (candidate,) = matcher.pairs[0]
    expected = score_pair(rules, matcher.features[0], candidate.features, common)
    plain = score_pair(rules, matcher.features[0], candidate.features)
    assert candidate.probability == pytest.approx(expected.probability, abs=1e-9)
    assert expected.weight < plain.weight  # the common town weighs less than the level's u
    explained = matcher.explain(0, candidate)
    city = next(e for e in explained["comparisons"] if e["comparison"] == "city")
    assert city["term_frequency"].startswith("value held by 900 of 1,000 records")


@pytest.mark.django_db
def test_online_matching_without_enough_records_is_unadjusted():
    """A young domain (fewer profiles than ``min_records``) scores with the levels' u."""
    rules = default_rules("customer")
    record = {"name": "Kaplan Paper", "city": "Springfield", "postal_code": "62701"}
    _ingest(record)
    matcher = OnlineMatcher(rules)
    matcher.prepare([{**record, "name": "Kaplan Paper Co"}])
    (candidate,) = matcher.pairs[0]
    plain = score_pair(rules, matcher.features[0], candidate.features)
    assert candidate.probability == pytest.approx(plain.probability, abs=1e-9)
    assert "u" not in {k for e in matcher.explain(0, candidate)["comparisons"] for k in e}


def test_score_pairs_uses_shares_of_the_whole_table_not_of_the_pool():
    """The pool online is a handful of records: the shares come from the table."""
    rules = _rules(_comparison({"minimum_u": 1e-4, "min_records": 10}))
    table = TermFrequencies({"city": {"springfield": 5}}, {"city": 100})
    pool = [{"city": "springfield"}, {"city": "springfield"}, {"city": "salem"}, {"city": "salem"}]
    probability, _ = score_pairs(rules, pool, np.array([0, 2]), np.array([1, 3]), table)
    common = 1 / (1 + 2 ** -(rules.prior_weight + np.log2(0.9 / 0.05)))
    rare = 1 / (1 + 2 ** -(rules.prior_weight + np.log2(0.9 / 0.01)))
    assert probability == pytest.approx([common, rare], abs=1e-12)
