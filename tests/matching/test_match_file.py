"""File mode and the match_file command: CSV in, clusters out, no database.

These tests have no django_db mark, so pytest-django blocks every database access: a query
anywhere in the pipeline fails the test.
"""

import csv
import json
from collections import Counter
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching.filemode import match_records, read_records, write_clusters
from matching.rules import default_rules, load_rules_file
from matching.scoring import score_pair

HEADER = [
    "source_system",
    "source_id",
    "name",
    "tax_id",
    "phone",
    "email",
    "address_line1",
    "city",
    "postal_code",
    "country",
    "notes",  # not an attribute: ignored
    "legacy_flag",  # not an attribute: ignored
]
# region, duns, website and industry are missing columns.

ROWS = [
    # 0, 1: the same company, messy on one side; same tax id in another format.
    [
        "erp",
        "C1",
        "ACME Corp.",
        "12-3456789",
        "+1 (217) 555-0100",
        "info@acme.example",
        "123 Main Street, Suite 4",
        "Springfield",
        "62701",
        "US",
        "key account",
        "Y",
    ],
    [
        "crm",
        "A-77",
        "  Acme Corporation, Inc. ",
        "US 12-3456789",
        "217.555.0100",
        "INFO@ACME.EXAMPLE",
        "123 MAIN ST STE 4",
        "springfield",
        "62701",
        "United States",
        "",
        "",
    ],
    # 2, 3: the same company without tax ids.
    [
        "erp",
        "C2",
        "Zeta Holdings",
        "",
        "503 555 0199",
        "",
        "9 Oak Road",
        "Portland",
        "97201",
        "US",
        "",
        "",
    ],
    [
        "ecom",
        "Z9",
        "zeta holdings",
        "",
        "(503) 555-0199",
        "",
        "9 Oak Rd.",
        "PORTLAND",
        "97201",
        "usa",
        "",
        "",
        "an extra value beyond the header",
    ],
    # 4: everything like ACME but a different tax id: never merged automatically.
    [
        "edi",
        "E-1",
        "ACME Corp",
        "98-7654321",
        "+1 (217) 555-0100",
        "info@acme.example",
        "123 Main St Suite 4",
        "Springfield",
        "62701",
        "US",
        "",
        "",
    ],
    # 5: a different company.
    [
        "erp",
        "C3",
        "Umbrella Pharma",
        "",
        "",
        "",
        "400 Pine St",
        "Raccoon City",
        "30301",
        "US",
        "",
        "",
    ],
    # 6: only a source id (short row).
    ["", "ONLY-1"],
    # 7: junk everywhere.
    ["wms", "W-1", "🙂", "n/a", "garbage", "not-an-email", "#", "", "", "Atlantis", "", ""],
    # 8: no source id at all.
    ["erp", "", "Globex", "", "", "", "", "", "", "", "", ""],
    # 9: a German company with a national phone number. Its VAT id has the same digits as
    # ACME's US EIN: the tax id standardiser drops the country prefix, so the pair is blocked
    # and flagged (see test_scoring.test_tax_ids_of_different_countries_do_not_decide).
    [
        "erp",
        "C5",
        "Müller GmbH & Co. KG",
        "DE123456789",
        "030 12345678",
        "",
        "Hauptstrasse 5",
        "Berlin",
        "10115",
        "DE",
        "",
        "",
    ],
]
DUPLICATES = [(0, 1), (2, 3)]
APART = [(0, 2), (0, 4), (1, 4), (0, 5), (2, 5), (0, 9), (5, 9), (6, 7), (7, 8)]


@pytest.fixture
def messy_csv(tmp_path):
    path = tmp_path / "customers.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:  # with a BOM
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(ROWS)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    return path


@pytest.fixture
def no_db(django_db_blocker):
    with django_db_blocker.block():
        yield


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def run(messy_csv, tmp_path, *extra):
    out = tmp_path / "clusters.csv"
    call_command("match_file", str(messy_csv), "--domain", "customer", "--out", str(out), *extra)
    return read_csv(out)


def test_read_records_keeps_key_and_attribute_columns(messy_csv):
    rules = default_rules("customer")
    records = read_records(messy_csv, rules.attributes)
    assert len(records) == len(ROWS)
    first = records[0]
    assert first["source_system"] == "erp"  # the BOM is not part of the first column's name
    assert first["source_id"] == "C1"
    assert "notes" not in first and "legacy_flag" not in first
    assert set(first) <= set(rules.attributes) | {"source_system", "source_id"}
    assert records[1]["name"] == "Acme Corporation, Inc."  # stripped
    assert records[6] == {"source_system": "", "source_id": "ONLY-1"} | {
        k: "" for k in records[6] if k not in ("source_system", "source_id")
    }
    assert records[8]["source_id"] == "line-10"  # line number in the file, header is line 1


def test_clusters_one_row_per_input_row_in_order(messy_csv, tmp_path, no_db):
    rows = run(messy_csv, tmp_path)
    assert rows[0] == ["source_system", "source_id", "cluster_id"]
    body = rows[1:]
    assert len(body) == len(ROWS)
    expected_ids = [r[1] or f"line-{i + 2}" for i, r in enumerate(ROWS)]
    assert [r[1] for r in body] == expected_ids
    assert [r[0] for r in body] == [r[0] for r in ROWS]
    cluster_ids = [r[2] for r in body]
    for a, b in DUPLICATES:
        assert cluster_ids[a] == cluster_ids[b], (ROWS[a][1], ROWS[b][1])
    for a, b in APART:
        assert cluster_ids[a] != cluster_ids[b], (ROWS[a][1], ROWS[b][1])
    # A cluster id names one of its members: the first one in the file.
    keys = [f"{r[0]}:{r[1]}" for r in body]
    for index, cluster_id in enumerate(cluster_ids):
        first = keys.index(cluster_id)
        assert first <= index
        assert cluster_ids[first] == cluster_id
    # Singletons are their own cluster.
    assert cluster_ids[6] == ":ONLY-1"
    assert cluster_ids[8] == "erp:line-10"


def test_pairs_file_with_explanations(messy_csv, tmp_path, no_db):
    pairs_path = tmp_path / "pairs.csv"
    run(messy_csv, tmp_path, "--pairs", str(pairs_path))
    rows = read_csv(pairs_path)
    assert rows[0] == [
        "left_system",
        "left_id",
        "right_system",
        "right_id",
        "probability",
        "decision",
        "explanation",
    ]
    rules = default_rules("customer")
    scored = {}
    for row in rows[1:]:
        left_id, right_id, probability, decision, explanation = row[1], *row[3:]
        detail = json.loads(explanation)
        assert float(probability) >= rules.thresholds.review
        assert decision in ("match", "review")
        if decision == "match":
            assert float(probability) >= rules.thresholds.auto_match
        else:  # printed to 6 decimals: a probability just below the threshold may round up to it
            assert float(probability) <= rules.thresholds.auto_match
        assert detail["probability"] == pytest.approx(float(probability), abs=1e-6)
        assert detail["rule_version"] == rules.version
        assert [c["comparison"] for c in detail["comparisons"][: len(rules.comparisons)]] == [
            c.name for c in rules.comparisons
        ]
        scored[(left_id, right_id)] = (decision, detail)
    assert scored[("C1", "A-77")][0] == "match"
    assert scored[("C2", "Z9")][0] == "match"
    # The same company with another tax id is at most for review.
    for key in (("C1", "E-1"), ("A-77", "E-1")):
        if key in scored:
            assert scored[key][0] == "review"
            assert scored[key][1]["reason"] == "excluded"


def test_printed_probability_of_a_review_pair_is_below_auto_match(messy_csv, tmp_path, no_db):
    pairs_path = tmp_path / "pairs.csv"
    run(messy_csv, tmp_path, "--pairs", str(pairs_path))
    auto_match = default_rules("customer").thresholds.auto_match
    for row in read_csv(pairs_path)[1:]:
        assert row[5] == "match" or float(row[4]) < auto_match


def test_train_runs(messy_csv, tmp_path, no_db, capsys):
    rows = run(messy_csv, tmp_path, "--train")
    assert len(rows) == len(ROWS) + 1
    assert "prior" in capsys.readouterr().err


def test_rules_file(messy_csv, tmp_path, no_db):
    rules = {
        "domain": "customer",
        "version": 3,
        "attributes": {"name": "company_name"},
        "blocking": [["name"]],
        "comparisons": [
            {
                "name": "name",
                "feature": "name",
                "comparator": "exact",
                "levels": [
                    {"label": "same", "min_similarity": 1.0, "m": 0.99, "u": 0.0001},
                    {"label": "different", "min_similarity": 0.0, "m": 0.01, "u": 0.9999},
                ],
            }
        ],
        "prior": 0.1,
        "thresholds": {"auto_match": 0.9},
    }
    rules_path = tmp_path / "rules.json"
    rules_path.write_text(json.dumps(rules))
    body = run(messy_csv, tmp_path, "--rules", str(rules_path))[1:]
    clusters = [r[2] for r in body]
    # Name alone decides: ACME Corp. (0) and ACME Corp (4) share "acme" and merge; so do the
    # two Zetas; "Acme Corporation, Inc." is "acme" too.
    assert clusters[0] == clusters[1] == clusters[4] == "erp:C1"
    assert clusters[2] == clusters[3] == "erp:C2"
    assert len(set(clusters)) == len(ROWS) - 3


def test_errors(messy_csv, tmp_path, no_db):
    out = str(tmp_path / "out.csv")
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "match_file", str(tmp_path / "missing.csv"), "--domain", "customer", "--out", out
        )
    with pytest.raises(CommandError, match="No match rules"):
        call_command("match_file", str(messy_csv), "--domain", "nothing", "--out", out)
    with pytest.raises(CommandError):
        call_command(
            "match_file",
            str(messy_csv),
            "--domain",
            "customer",
            "--out",
            out,
            "--rules",
            str(tmp_path / "no.json"),
        )


def test_header_only_and_empty_rows(tmp_path, no_db):
    path = tmp_path / "empty.csv"
    path.write_text("source_system,source_id,name\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    call_command("match_file", str(path), "--domain", "customer", "--out", str(out))
    assert read_csv(out) == [["source_system", "source_id", "cluster_id"]]


@pytest.mark.parametrize("domain", ["item", "location"])
def test_other_domains(domain, tmp_path, no_db):
    rows = {
        "item": [
            {"source_id": "1", "gtin": "036000291452", "sku": "W-100", "name": "Blue Widget"},
            {"source_id": "2", "gtin": "0036000291452", "sku": "w100", "name": "blue widget"},
            {"source_id": "3", "gtin": "4006381333931", "sku": "G-9", "name": "Red Gadget"},
        ],
        "location": [
            {
                "source_id": "1",
                "kind": "warehouse",
                "address_line1": "1 Dock Road",
                "city": "Reno",
                "postal_code": "89501",
                "country": "US",
                "name": "Reno DC",
            },
            {
                "source_id": "2",
                "kind": "DC",
                "address_line1": "1 Dock Rd",
                "city": "Reno",
                "postal_code": "89501",
                "country": "USA",
                "name": "Reno DC",
            },
            {
                "source_id": "3",
                "kind": "ship_to",
                "address_line1": "1 Dock Rd",
                "city": "Reno",
                "postal_code": "89501",
                "country": "US",
                "name": "Reno DC",
            },
        ],
    }[domain]
    path = tmp_path / f"{domain}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=sorted({k for r in rows for k in r}))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out.csv"
    call_command("match_file", str(path), "--domain", domain, "--out", str(out))
    clusters = [r[2] for r in read_csv(out)[1:]]
    assert clusters[0] == clusters[1] == ":1"
    assert clusters[2] == ":3"


def test_match_records_and_write_clusters(tmp_path, no_db):
    rules = default_rules("customer")
    records = [
        {"source_system": "a", "source_id": "1", "name": "Initech", "tax_id": "US12-3456789"},
        {"source_system": "b", "source_id": "2", "name": "Initech Inc", "tax_id": "US 123456789"},
        {"source_system": "c", "source_id": "3"},
    ]
    result = match_records(rules, records)
    assert result.clustering.cluster_of == {0: 0, 1: 0, 2: 2}
    assert len(result.left) == len(result.right) == len(result.probability)
    assert result.levels.shape == (len(rules.comparisons), len(result.left))
    out = tmp_path / "out.csv"
    write_clusters(result, out)
    assert read_csv(out)[1:] == [["a", "1", "a:1"], ["b", "2", "a:1"], ["c", "3", "c:3"]]


def test_cluster_guard_scores_in_batches_the_same(messy_csv, monkeypatch, no_db):
    from matching import filemode

    rules = default_rules("customer")
    records = read_records(messy_csv, rules.attributes)
    one_by_one = match_records(rules, records).clustering
    monkeypatch.setattr(filemode, "BATCH", 1)
    batched = match_records(rules, records).clustering
    assert batched.cluster_of == one_by_one.cluster_of
    assert batched.held_apart == one_by_one.held_apart


# --- term frequencies ------------------------------------------------------------------------


def test_file_mode_counts_term_frequencies_over_the_file(messy_csv, no_db):
    rules = default_rules("customer")
    records = read_records(messy_csv, rules.attributes)
    result = match_records(rules, records)
    assert result.frequencies is not None
    assert set(result.frequencies.counts) == set(rules.tf_features)
    for feature in rules.tf_features:
        values = [f[feature] for f in result.features if f.get(feature)]
        assert result.frequencies.totals[feature] == len(values)
        assert result.frequencies.counts[feature] == Counter(values)


def test_file_mode_scores_with_the_files_frequencies(messy_csv, tmp_path, no_db):
    """With ``min_records`` low enough for the small file, the pairs file explains each adjusted
    agreement by how many of the file's records hold the value, and the probabilities are those
    of the adjusted weights."""
    data = default_rules("customer").to_json()
    for comparison in data["comparisons"]:
        if "tf" in comparison:
            comparison["tf"]["min_records"] = 1
    rules_path = tmp_path / "rules.json"
    rules_path.write_text(json.dumps(data))
    pairs_path = tmp_path / "pairs.csv"
    run(messy_csv, tmp_path, "--rules", str(rules_path), "--pairs", str(pairs_path))
    rules = load_rules_file(rules_path)
    records = read_records(messy_csv, rules.attributes)
    result = match_records(rules, records)
    adjusted = 0
    for row in read_csv(pairs_path)[1:]:
        detail = json.loads(row[6])
        for entry in detail["comparisons"]:
            if "term_frequency" in entry:
                adjusted += 1
                assert entry["term_frequency"].startswith("value held by ")
                assert 0 < entry["u"] <= 1
    assert adjusted
    # The same numbers as scoring the pairs with the file's counts, not without them.
    for i in range(len(result.left)):
        a, b = result.features[result.left[i]], result.features[result.right[i]]
        with_tf = score_pair(rules, a, b, result.frequencies).probability
        assert result.probability[i] == pytest.approx(with_tf, abs=1e-9)


def test_rules_without_tf_count_nothing(no_db):
    rules = default_rules("customer")
    plain = replace(rules, comparisons=tuple(replace(c, tf=None) for c in rules.comparisons))
    records = [{"source_system": "a", "source_id": "1", "name": "Initech", "city": "Austin"}]
    assert match_records(plain, records).frequencies is None
