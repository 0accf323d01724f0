"""training: u from random pairs (held fixed), m and the prior by EM over candidate pairs and
labelled pairs, a new rule version; train_matcher and match_file --train."""

import csv
import io
import math
import warnings

import numpy as np
import pytest
from django.core.management import call_command

from golden_records.history import ChangeOrigin
from golden_records.services import ingest_batch
from matching.blocking import candidate_pairs
from matching.features import extract
from matching.models import MatchRuleVersion
from matching.rule_versions import active_rules
from matching.rules import default_rules, rule_set_from_json
from matching.training import describe, estimate_u, fit, labelled_pairs, train
from tests.conftest import make_system


def synthetic_customers(count=60, seed=3):
    """``count`` companies, about half of them entered twice with small differences."""
    rng = np.random.default_rng(seed)
    streets = ["Main Street", "Oak Road", "Pine Avenue", "Harbor Blvd", "Elm Street", "Lake Drive"]
    records = []
    for i in range(count):
        base = {
            "name": f"Company {chr(65 + i % 26)}{i} Industries",
            "address_line1": f"{100 + i} {streets[i % len(streets)]}",
            "city": ["Springfield", "Portland", "Reno", "Austin"][i % 4],
            "postal_code": f"{10000 + 7 * i}",
            "country": "US",
            "phone": f"+1 217 555 {1000 + i:04d}",
        }
        records.append(base)
        if rng.random() < 0.5:
            twin = dict(base)
            twin["name"] = base["name"].upper().replace("INDUSTRIES", "Inds")
            twin["address_line1"] = base["address_line1"].replace("Street", "St")
            if rng.random() < 0.5:
                twin.pop("phone")
            records.append(twin)
    return records


@pytest.fixture(scope="module")
def customer_features():
    rules = default_rules("customer")
    return rules, [extract(rules.attributes, r) for r in synthetic_customers()]


def assert_probabilities(rules):
    assert 0 < rules.prior < 1
    for comparison in rules.comparisons:
        for level in comparison.levels:
            assert 0 < level.m <= 1, (comparison.name, level)
            assert 0 < level.u <= 1, (comparison.name, level)
            assert math.isfinite(level.weight)


def test_train_returns_a_new_version_with_probabilities(customer_features):
    rules, features = customer_features
    trained = train(rules, features)
    assert trained.version == rules.version + 1
    assert_probabilities(trained)
    # Same structure: names, features, comparators, level labels and thresholds, identifiers.
    assert [(c.name, c.feature, c.comparator) for c in trained.comparisons] == [
        (c.name, c.feature, c.comparator) for c in rules.comparisons
    ]
    for new, old in zip(trained.comparisons, rules.comparisons, strict=True):
        assert [(lv.label, lv.min_similarity) for lv in new.levels] == [
            (lv.label, lv.min_similarity) for lv in old.levels
        ]
    assert trained.thresholds == rules.thresholds
    assert trained.blocking == rules.blocking
    assert (trained.decisive, trained.exclusive) == (rules.decisive, rules.exclusive)
    # The rule set given is not changed.
    assert default_rules("customer") == rules
    assert len(describe(trained)) == 1 + len(trained.comparisons)


def test_train_learns_that_agreement_is_evidence(customer_features):
    rules, features = customer_features
    trained = train(rules, features)
    by_name = {c.name: c for c in trained.comparisons}
    for name in ("name", "phone", "postal code"):
        top, bottom = by_name[name].levels[0], by_name[name].levels[-1]
        assert top.weight > 0 > bottom.weight, name


def test_explicit_version(customer_features):
    rules, features = customer_features
    assert train(rules, features, iterations=2, version=42).version == 42


def labelled_only_rules():
    """Blocking on a feature no record has: the labelled pairs are the only pairs."""
    return rule_set_from_json(
        {
            "domain": "customer",
            "version": 5,
            "attributes": {"name": "company_name", "city": "text"},
            "blocking": [["nowhere"]],
            "comparisons": [
                {
                    "name": "name",
                    "feature": "name",
                    "comparator": "exact",
                    "levels": [
                        {"label": "same", "min_similarity": 1.0, "m": 0.5, "u": 0.5},
                        {"label": "different", "min_similarity": 0.0, "m": 0.5, "u": 0.5},
                    ],
                },
                {
                    "name": "city",
                    "feature": "city",
                    "comparator": "exact",
                    "levels": [
                        {"label": "same", "min_similarity": 1.0, "m": 0.5, "u": 0.5},
                        {"label": "different", "min_similarity": 0.0, "m": 0.5, "u": 0.5},
                    ],
                },
            ],
            "prior": 0.2,
        }
    )


def test_labelled_pairs_are_honoured():
    rules = labelled_only_rules()
    records = [
        {"name": "Acme", "city": "Reno"},
        {"name": "ACME Corp", "city": "Reno"},
        {"name": "Zeta", "city": "Reno"},
        {"name": "Zeta Ltd", "city": "Boise"},
        {"name": "Umbrella", "city": "Boise"},
    ]
    features = [extract(rules.attributes, r) for r in records]
    # Matches: names equal. Non-matches: names different. City says nothing either way.
    labelled = [
        (0, 1, True),
        (3, 2, True),
        (0, 2, False),
        (1, 4, False),
        (3, 4, False),
        (0, 4, False),
    ]
    training = fit(rules, features, labelled=labelled)
    trained = training.rules
    assert_probabilities(trained)
    assert (training.report.labelled_matches, training.report.labelled_non_matches) == (2, 4)
    # The prior is the chance that two random records match: 2 of the 10 pairs of 5 records.
    assert trained.prior == pytest.approx(2 / 10, abs=1e-6)
    name, city = trained.comparisons
    assert name.levels[0].weight > 0 > name.levels[1].weight
    # One match of two in the same city: m stays at one half.
    assert city.levels[0].m == pytest.approx(0.5, abs=1e-3)
    # "different" names were never seen among the matches: m keeps the rule's value.
    assert name.levels[1].m == pytest.approx(0.5, abs=1e-6)


def test_labels_count_whatever_em_would_conclude(customer_features):
    rules, features = customer_features
    left, right = candidate_pairs(rules, features)
    pairs = list(zip(left.tolist(), right.tolist(), strict=True))
    all_pairs = len(features) * (len(features) - 1) // 2

    rejected = fit(rules, features, labelled=[(a, b, False) for a, b in pairs])
    assert_probabilities(rejected.rules)
    assert rejected.report.expected_matches == 0
    assert rejected.rules.prior < 1e-9
    # No match left to learn m from: every m is the rule's.
    assert m_of(rejected.rules) == m_of(rules)

    merged = fit(rules, features, labelled=[(a, b, True) for a, b in pairs])
    assert merged.rules.prior == pytest.approx(len(pairs) / all_pairs, rel=1e-4)


def test_labelled_pairs_shift_m_towards_their_levels(customer_features):
    rules, features = customer_features
    # Records far apart in the list are different companies (twins follow their original).
    far_apart = [(i, len(features) - 1 - i, True) for i in range(8)]
    plain = train(rules, features)
    labelled = train(rules, features, labelled=far_apart)
    name_plain = {c.name: c for c in plain.comparisons}["name"].levels[-1]
    name_labelled = {c.name: c for c in labelled.comparisons}["name"].levels[-1]
    assert name_labelled.m > name_plain.m + 0.02
    assert labelled.prior > plain.prior


def test_labelled_pairs_from_record_keys():
    keys = ["erp:1", "crm:7", "erp:2", "crm:9"]
    decisions = [
        ("crm:7", "erp:1", True),
        ("erp:2", "crm:9", True),
        ("erp:2", "crm:9", False),  # the last decision about a pair wins
        ("erp:1", "gone:3", True),  # a record not trained on: left out
        ("erp:1", "erp:1", True),
    ]
    assert labelled_pairs(keys, decisions) == [(0, 1, True), (2, 3, False)]
    with pytest.raises(ValueError):
        train(default_rules("customer"), [{}, {}], labelled=[(0, 5, True)])


def test_estimate_u_is_a_distribution(customer_features):
    rules, features = customer_features
    u = estimate_u(rules, features[:40], seed=1)
    assert len(u) == len(rules.comparisons)
    for values, comparison in zip(u, rules.comparisons, strict=True):
        assert values.shape == (len(comparison.levels),)
        assert (values > 0).all()
        assert values.sum() == pytest.approx(1.0, abs=1e-6)


def u_of(rules):
    return [[level.u for level in comparison.levels] for comparison in rules.comparisons]


def m_of(rules):
    return [[level.m for level in comparison.levels] for comparison in rules.comparisons]


def test_scope_m_takes_only_m(customer_features):
    rules, features = customer_features
    full = fit(rules, features)
    only_m = fit(rules, features, scope="m")
    assert m_of(only_m.rules) == m_of(full.rules)
    assert u_of(only_m.rules) == u_of(rules) != u_of(full.rules)
    assert only_m.rules.prior == rules.prior != full.rules.prior
    assert only_m.report.prior == full.report.prior == full.rules.prior
    assert only_m.rules.version == rules.version + 1
    with pytest.raises(ValueError, match="scope"):
        fit(rules, features, scope="u")


def test_u_comes_from_random_pairs_and_is_held_fixed(customer_features):
    rules, features = customer_features
    once = fit(rules, features, u_passes=1, max_iterations=1).rules
    converged = fit(rules, features, u_passes=1).rules
    labelled = fit(rules, features, u_passes=1, labelled=[(0, 5, True), (1, 9, False)]).rules
    # EM changes m and the prior, never u: u is the random pairs', whatever EM does.
    assert u_of(once) == u_of(converged) == u_of(labelled)
    for trained, expected in zip(u_of(converged), estimate_u(rules, features), strict=True):
        assert trained == pytest.approx(expected, rel=1e-5)


KNOWN = {"a": (100, 0.9), "b": (200, 0.7), "c": (50, 0.8), "d": (30, 0.6)}
"""attribute → (number of values, m of "same"): u of "same" is 1 / number of values."""


def known_parameter_records(entities=800, seed=11):
    """Entities with uniformly drawn values; half of them twice, each value copied with
    probability m, else replaced by another value. Also the number of twins and, for each
    attribute, the share of twins that copied it (m as drawn)."""
    rng = np.random.default_rng(seed)
    records, twins = [], 0
    copied = dict.fromkeys(KNOWN, 0)
    for _ in range(entities):
        base = {attr: int(rng.integers(k)) for attr, (k, _) in KNOWN.items()}
        records.append({attr: f"v{value}" for attr, value in base.items()})
        if rng.random() < 0.5:
            twins += 1
            twin = {}
            for attr, (k, m) in KNOWN.items():
                if rng.random() < m:
                    copied[attr] += 1
                    twin[attr] = f"v{base[attr]}"
                else:
                    twin[attr] = f"v{(base[attr] + rng.integers(1, k)) % k}"
            records.append(twin)
    return records, twins, {attr: count / twins for attr, count in copied.items()}


def known_parameter_rules():
    level = [
        {"label": "same", "min_similarity": 1.0, "m": 0.6, "u": 0.3},
        {"label": "different", "min_similarity": 0.0, "m": 0.4, "u": 0.7},
    ]
    return rule_set_from_json(
        {
            "domain": "customer",
            "version": 1,
            "attributes": {attr: "text" for attr in KNOWN},
            "blocking": [["a"], ["b"], ["c"]],
            "max_block_size": 1000,
            "comparisons": [
                {"name": attr, "feature": attr, "comparator": "exact", "levels": level}
                for attr in KNOWN
            ],
            "prior": 0.1,
        }
    )


def test_recovers_known_parameters():
    rules = known_parameter_rules()
    records, true_pairs, drawn = known_parameter_records()
    features = [extract(rules.attributes, r) for r in records]
    training = fit(rules, features)
    assert training.report.converged
    trained = training.rules
    for comparison in trained.comparisons:
        values, m = KNOWN[comparison.name]
        assert drawn[comparison.name] == pytest.approx(m, abs=0.07)
        same, different = comparison.levels
        assert same.m == pytest.approx(drawn[comparison.name], abs=0.04), comparison.name
        assert different.m == pytest.approx(1 - drawn[comparison.name], abs=0.04)
        assert same.u == pytest.approx(1 / values, rel=0.15), comparison.name
        assert different.u == pytest.approx(1 - 1 / values, rel=0.01), comparison.name
    all_pairs = len(records) * (len(records) - 1) // 2
    assert trained.prior == pytest.approx(true_pairs / all_pairs, rel=0.1)
    assert training.report.expected_matches == pytest.approx(true_pairs, rel=0.1)


def test_train_without_any_pair_keeps_a_usable_prior():
    rules = default_rules("customer")
    features = [extract(rules.attributes, {"name": n}) for n in ("Acme", "Zeta", "Umbrella")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        training = fit(rules, features)
    trained = training.rules
    assert_probabilities(trained)
    assert trained.prior == rules.prior
    assert m_of(trained) == m_of(rules)
    assert any("no candidate" in kept for kept in training.report.kept)


@pytest.mark.parametrize("count", [0, 1])
def test_train_on_no_or_one_record_keeps_the_rules(count):
    rules = default_rules("customer")
    features = [extract(rules.attributes, {"name": "Acme"})] * count
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained = train(rules, features)
    assert trained.prior == rules.prior
    assert u_of(trained) == u_of(rules)
    assert_probabilities(trained)


def test_a_level_never_seen_keeps_its_probability(customer_features):
    rules, features = customer_features
    # The synthetic customers have no tax id, DUNS or e-mail at all.
    training = fit(rules, features)
    by_name = {c.name: c for c in training.rules.comparisons}
    for name in ("tax id", "e-mail"):
        assert by_name[name] == {c.name: c for c in rules.comparisons}[name]
    assert "tax id (m)" in training.report.kept


@pytest.mark.django_db
def test_train_matcher_stores_a_new_rule_version():
    system = make_system("erp")
    records = [
        {"source_id": f"C-{i}", **record} for i, record in enumerate(synthetic_customers(80))
    ]
    ingest_batch(system, "customer", records, "reject_failed", ChangeOrigin.command("test"))
    out = io.StringIO()
    call_command("train_matcher", "--domain", "customer", "--no-activate", stdout=out)
    row = MatchRuleVersion.objects.get(domain="customer")
    assert (row.created_by, row.active) == ("train_matcher", False)
    assert row.version == default_rules("customer").version + 1
    assert "candidate pairs" in row.note and "EM:" in out.getvalue()
    assert active_rules("customer") == default_rules("customer")
    stored = rule_set_from_json(row.rules)
    assert_probabilities(stored)
    # By default the version takes the trained m, and keeps the rules' u and prior.
    defaults = default_rules("customer")
    assert (stored.prior, u_of(stored)) == (defaults.prior, u_of(defaults))
    assert m_of(stored) != m_of(defaults)

    call_command("train_matcher", "--domain", "customer", "--dry-run", stdout=io.StringIO())
    assert MatchRuleVersion.objects.filter(domain="customer").count() == 1
    call_command("train_matcher", "--domain", "customer", "--scope", "all", stdout=io.StringIO())
    assert active_rules("customer").version == row.version + 1
    assert active_rules("customer").prior < 0.01  # the chance that two random records match


def test_match_file_train_reports_the_difference(tmp_path):
    rules = default_rules("customer")
    path = tmp_path / "customers.csv"
    columns = ["source_system", "source_id", *rules.attributes]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, restval="")
        writer.writeheader()
        for i, record in enumerate(synthetic_customers()):
            writer.writerow({"source_system": "erp", "source_id": str(i), **record})
    err = io.StringIO()
    out = tmp_path / "clusters.csv"
    call_command(
        "match_file", str(path), "--domain", "customer", "--out", str(out), "--train", stderr=err
    )
    log = err.getvalue()
    assert "EM:" in log and "prior" in log and "auto-match pairs:" in log
    assert "m (u and prior kept)" in log
    assert out.read_text().count("\n") > 60
