"""Online matching during ingest: candidates by blocking key, decisions, explanations, reviews.

A new source record is standardised, its blocking keys (64-bit hashes in the BlockKey index)
find candidate source records, every pair is scored, and the best candidate golden record
decides: at or above auto-match the record links, in the review band it gets its own golden
record and a MatchReview, below review it is simply new. Every decision with a candidate is
kept as a MatchDecision with its explanation.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, SourceRecord
from golden_records.services import ingest_batch
from matching import online
from matching.models import BlockKey, MatchDecision, MatchProfile, MatchReview, ReviewStatus
from matching.online import features_of, fingerprint, record_keys
from matching.rule_versions import active_rules, save_rule_version
from matching.rules import Thresholds
from matching.scoring import score_pair
from tests.conftest import make_system
from tests.helpers import batch, golden_of, put

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
Item = GOLDEN_MODELS["item"]
Location = GOLDEN_MODELS["location"]
ORIGIN = ChangeOrigin.command("test")

# ERP's customer master: a Berlin wholesaler with full address and phone.
NORTHWIND_ERP = {
    "name": "Northwind Traders GmbH",
    "address_line1": "Friedrichstrasse 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
    "phone": "+49 30 23456789",
    "industry": "Wholesale",
}
# CRM's account for the same company: legal form left off, street abbreviated, national phone.
NORTHWIND_CRM = {
    "name": "NORTHWIND TRADERS",
    "address_line1": "Friedrichstr. 123",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "Germany",
    "phone": "030 23456789",
}
# Same name, but another city and another phone: maybe a branch, maybe another company.
NORTHWIND_MUNICH = {
    "name": "Northwind Traders",
    "city": "Munich",
    "country": "DE",
    "phone": "+49 89 7654321",
}
ZENITH = {
    "name": "Zenith Plumbing Supply Inc.",
    "address_line1": "400 Oak Avenue",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62702",
    "country": "US",
    "phone": "+1 217 555 0148",
}


def record(system: str, domain: str, source_id: str) -> SourceRecord:
    return SourceRecord.objects.get(system__code=system, domain=domain, source_id=source_id)


def probability(domain: str, a: dict, b: dict) -> float:
    """The active rules' probability for two canonical payloads (a precondition check)."""
    from golden_records.domains import get_domain
    from golden_records.pipeline import prepare_record

    rules = active_rules(domain)
    canon = []
    for payload in (a, b):
        prepared = prepare_record(get_domain(domain), payload, 0, source_id="x")
        assert prepared.ok, prepared.errors_as_list()
        canon.append(features_of(rules, prepared.canonical))
    return score_pair(rules, *canon).probability


def without_linking(domain: str, system: str, records: list[dict]) -> None:
    """Ingest under rules that neither link nor review, then go back to the active rules."""
    rules = active_rules(domain)
    strict = replace(rules, thresholds=Thresholds(auto_match=1.1, review=1.1, cluster_guard=0.5))
    save_rule_version(strict, created_by="test", note="seed without linking")
    outcome = ingest_batch(make_system(system), domain, records, "reject_all", ORIGIN)
    assert not outcome.rejected_all
    save_rule_version(rules, created_by="test", note="back")


# -- linking above auto-match ---------------------------------------------------------------------


class TestAutoMatch:
    def test_variant_of_a_known_customer_links_with_an_explained_decision(self, api):
        rules = active_rules("customer")
        first = put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        assert first.status_code == 201
        assert first.json()["action"] == "created"

        response = put(api["crm"], "crm", "customer", "0015g00000ABC", NORTHWIND_CRM)

        assert response.status_code == 200
        body = response.json()
        assert body["action"] == "linked"
        assert body["golden_id"] == first.json()["golden_id"]
        assert Customer.objects.count() == 1
        crm = record("crm", "customer", "0015g00000ABC")
        erp = record("erp", "customer", "100045")
        assert crm.link_rule.startswith("match:")
        assert crm.link_rule == "match:weights"

        decision = MatchDecision.objects.get(source_record=crm)
        assert decision.outcome == "linked"
        assert str(decision.golden_id) == body["golden_id"]
        assert decision.rule == crm.link_rule
        assert decision.rule_version == rules.version
        assert decision.probability >= rules.thresholds.auto_match
        assert decision.domain == "customer"
        assert "crm" in decision.decided_by
        assert decision.candidates == [
            {"golden_id": body["golden_id"], "probability": round(decision.probability, 6)}
        ]

        explanation = decision.explanation
        assert explanation["reason"] == "weights"
        assert explanation["rule_version"] == rules.version
        assert explanation["probability"] == pytest.approx(decision.probability, abs=1e-6)
        comparisons = {c["comparison"]: c for c in explanation["comparisons"]}
        # Every comparison of the rules is explained, with both (standardised) values.
        assert {c.name for c in rules.comparisons} <= set(comparisons)
        for c in explanation["comparisons"]:
            assert set(c) >= {
                "comparison",
                "feature",
                "left",
                "right",
                "comparator",
                "similarity",
                "level",
                "contribution",
            }
        name = comparisons["name"]
        assert (name["left"], name["right"]) == ("northwind traders", "northwind traders")
        assert name["comparator"] == "name"
        assert name["similarity"] == 1.0
        assert name["contribution"] > 0
        phone = comparisons["phone"]
        assert phone["left"] == phone["right"] == "+493023456789"
        assert phone["level"] == "equal"
        country = comparisons["country"]
        assert (country["left"], country["right"]) == ("DE", "DE")
        # A value only one side has weighs nothing.
        industry = comparisons["industry"]
        assert (industry["left"], industry["right"]) == (None, "wholesale") or (
            industry["left"],
            industry["right"],
        ) == ("wholesale", None)
        assert industry["level"] == "missing"
        assert industry["similarity"] is None
        assert industry["contribution"] == 0
        # The weight is the prior plus the contributions (capped groups included).
        total = rules.prior_weight + sum(c["contribution"] for c in explanation["comparisons"])
        assert explanation["weight"] == pytest.approx(total, abs=0.02)
        assert decision.probability == pytest.approx(
            1 / (1 + 2 ** -explanation["weight"]), rel=1e-3
        )
        # The stored profile of the ERP record is what the new record was compared with.
        assert name["left"] == MatchProfile.objects.get(source_record=crm).features["name"]
        assert name["right"] == MatchProfile.objects.get(source_record=erp).features["name"]
        assert not MatchReview.objects.exists()

    def test_decision_names_the_rule_version_in_force(self, api):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        row = save_rule_version(active_rules("customer"), created_by="test", note="same rules")
        put(api["crm"], "crm", "customer", "A-1", NORTHWIND_CRM)
        decision = MatchDecision.objects.get(source_record=record("crm", "customer", "A-1"))
        assert row.version >= 2
        assert decision.rule_version == row.version
        assert decision.explanation["rule_version"] == row.version

    def test_first_record_has_no_candidate_and_no_decision_row(self, api):
        response = put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        assert response.json()["action"] == "created"
        assert record("erp", "customer", "100045").link_rule == "new"
        assert not MatchDecision.objects.exists()

    def test_item_with_the_same_gtin_in_another_format_links(self, api):
        put(
            api["erp"],
            "erp",
            "item",
            "MAT-4471",
            {
                "sku": "LX200-WL",
                "gtin": "036000291452",
                "mpn": "LX-200",
                "manufacturer": "Lumex Industries Inc.",
                "name": "Lumex LED Work Light 20W",
                "category": "Lighting",
            },
        )
        response = put(
            api["ecom"],
            "ecom",
            "item",
            "W-99812",
            {"sku": "WEB-99812", "gtin": "00036000291452", "name": "LED worklight 20 W"},
        )
        assert response.json()["action"] == "linked"
        assert golden_of("ecom", "item", "W-99812").pk == golden_of("erp", "item", "MAT-4471").pk
        assert record("ecom", "item", "W-99812").link_rule == "match:decided"

    def test_item_with_mpn_and_manufacturer_links_without_gtin(self, api):
        put(
            api["erp"],
            "erp",
            "item",
            "MAT-4471",
            {
                "sku": "LX200-WL",
                "mpn": "LX-200",
                "manufacturer": "Lumex Industries Inc.",
                "name": "Lumex LED Work Light 20W",
                "category": "Lighting",
            },
        )
        response = put(
            api["wms"],
            "wms",
            "item",
            "88120",
            {
                "sku": "88120",
                "mpn": "LX200",
                "manufacturer": "LUMEX INDUSTRIES",
                "name": "Lumex LED Work Light 20W",
                "category": "lighting",
            },
        )
        assert response.json()["action"] == "linked"
        decision = MatchDecision.objects.get(source_record=record("wms", "item", "88120"))
        mpn = next(c for c in decision.explanation["comparisons"] if c["comparison"] == "MPN")
        assert (mpn["left"], mpn["right"], mpn["level"]) == ("LX200", "LX200", "equal")

    def test_warehouse_and_ship_to_at_one_address_stay_apart(self, api):
        warehouse = {
            "code": "WH-MEM",
            "name": "Memphis DC",
            "kind": "warehouse",
            "address_line1": "4100 Distribution Pkwy",
            "city": "Memphis",
            "region": "TN",
            "postal_code": "38118",
            "country": "US",
        }
        put(api["wms"], "wms", "location", "WH-MEM", warehouse)
        same_dc = {
            "name": "Memphis Distribution Center",
            "kind": "distribution center",
            "address_line1": "4100 Distribution Parkway",
            "city": "Memphis",
            "region": "Tennessee",
            "postal_code": "38118",
            "country": "USA",
        }
        assert put(api["erp"], "erp", "location", "L-7", same_dc).json()["action"] == "linked"
        ship_to = {**warehouse, "code": "ST-5531", "kind": "ship_to"}
        response = put(api["crm"], "crm", "location", "ST-5531", ship_to)
        assert response.json()["action"] == "created"
        assert Location.objects.count() == 2
        assert record("crm", "location", "ST-5531").link_rule == "new:review"
        decision = MatchDecision.objects.get(source_record=record("crm", "location", "ST-5531"))
        assert decision.explanation["reason"] == "excluded"
        assert decision.probability < active_rules("location").thresholds.auto_match


# -- the review band and below ---------------------------------------------------------------------


class TestReviewBand:
    def test_review_band_creates_own_golden_and_an_open_review(self, api):
        rules = active_rules("customer")
        p = probability("customer", NORTHWIND_MUNICH, NORTHWIND_ERP)
        assert rules.thresholds.review <= p < rules.thresholds.auto_match, p

        erp = put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP).json()
        response = put(api["crm"], "crm", "customer", "A-77", NORTHWIND_MUNICH)

        assert response.status_code == 201
        body = response.json()
        assert body["action"] == "created"
        assert body["golden_id"] != erp["golden_id"]
        assert Customer.objects.count() == 2
        crm = record("crm", "customer", "A-77")
        assert crm.link_rule == "new:review"

        review = MatchReview.objects.get()
        assert review.status == ReviewStatus.OPEN
        assert review.domain == "customer"
        assert review.source_record == crm
        assert review.candidate_record == record("erp", "customer", "100045")
        assert str(review.candidate_golden_id) == erp["golden_id"]
        assert review.probability == pytest.approx(p, abs=1e-6)
        assert review.rule_version == rules.version
        assert "crm" in review.raised_by
        comparisons = {c["comparison"]: c for c in review.explanation["comparisons"]}
        assert comparisons["city"]["left"] == "munich"
        assert comparisons["city"]["right"] == "berlin"
        assert comparisons["city"]["contribution"] < 0
        assert review.explanation["probability"] == pytest.approx(p, abs=1e-6)

        decision = MatchDecision.objects.get(source_record=crm)
        assert decision.outcome == "review"
        assert str(decision.golden_id) == body["golden_id"]
        assert decision.rule == "new:review"
        assert decision.explanation == review.explanation

    def test_reviews_go_to_the_most_probable_candidates(self):
        branches = [
            ("Hamburg", "+49 40 1111111"),
            ("Bremen", "+49 421 2222222"),
            ("Kiel", "+49 431 3333333"),
            ("Dresden", "+49 351 4444444"),
            ("Erfurt", "+49 361 5555555"),
        ]
        seeds = [
            {"source_id": f"B-{i}", "name": "Northwind Traders", "city": c, "country": "DE"}
            | {"phone": phone}
            for i, (c, phone) in enumerate(branches)
        ]
        # One branch shares the postal code too: the strongest candidate.
        seeds[3]["postal_code"] = "80331"
        without_linking("customer", "erp", seeds)
        probe = {**NORTHWIND_MUNICH, "postal_code": "80331"}
        thresholds = active_rules("customer").thresholds
        scores = {s["source_id"]: probability("customer", probe, s) for s in seeds}
        assert all(thresholds.review <= p < thresholds.auto_match for p in scores.values())

        ingest_batch(
            make_system("crm"), "customer", [{"source_id": "P", **probe}], "reject_all", ORIGIN
        )

        reviews = list(MatchReview.objects.order_by("-probability"))
        assert len(reviews) == min(len(seeds), online.MAX_REVIEWS)
        assert reviews[0].candidate_record == record("erp", "customer", "B-3")
        ranked = sorted(scores.values(), reverse=True)
        assert [r.probability for r in reviews] == pytest.approx(ranked[: len(reviews)], abs=1e-6)
        assert len({r.candidate_golden_id for r in reviews}) == len(reviews)
        decision = MatchDecision.objects.get(source_record=record("crm", "customer", "P"))
        assert len(decision.candidates) == 5

    def test_below_review_is_new_without_review(self, api):
        rules = active_rules("customer")
        unrelated = {
            "name": "Nordlicht Bäckerei KG",
            "address_line1": "Torstrasse 5",
            "city": "Berlin",
            "postal_code": "10119",
            "country": "DE",
            "phone": "+49 30 9988776",
        }
        assert probability("customer", unrelated, NORTHWIND_ERP) < rules.thresholds.review
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        response = put(api["crm"], "crm", "customer", "A-12", unrelated)
        assert response.json()["action"] == "created"
        assert record("crm", "customer", "A-12").link_rule == "new"
        assert Customer.objects.count() == 2
        assert not MatchReview.objects.exists()
        # The candidate was looked at (it shares a block): the decision says so.
        decision = MatchDecision.objects.get(source_record=record("crm", "customer", "A-12"))
        assert decision.outcome == "new"
        assert decision.probability < rules.thresholds.review

    def test_different_companies_at_the_same_address_do_not_auto_link(self, api):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        neighbour = {
            "name": "Zenith Plumbing Supply",
            "address_line1": "Friedrichstrasse 123",
            "city": "Berlin",
            "postal_code": "10117",
            "country": "DE",
        }
        response = put(api["crm"], "crm", "customer", "A-9", neighbour)
        assert response.json()["action"] != "linked"
        assert Customer.objects.count() == 2

    def test_no_shared_block_no_candidate(self, api):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        response = put(api["crm"], "crm", "customer", "Z-1", ZENITH)
        assert response.json()["action"] == "created"
        assert not MatchDecision.objects.filter(source_record=record("crm", "customer", "Z-1"))


# -- identifiers ---------------------------------------------------------------------------------


class TestIdentifiers:
    def test_two_different_valid_tax_ids_never_auto_link(self, api):
        put(api["erp"], "erp", "customer", "100045", {**NORTHWIND_ERP, "tax_id": "DE136695976"})
        response = put(
            api["crm"], "crm", "customer", "A-1", {**NORTHWIND_ERP, "tax_id": "DE811907980"}
        )
        assert response.json()["action"] == "created"
        assert Customer.objects.count() == 2
        decision = MatchDecision.objects.get()
        assert decision.explanation["reason"] == "excluded"
        assert decision.probability < active_rules("customer").thresholds.auto_match
        # Everything else agrees: a steward looks at it, nothing merges by itself.
        assert record("crm", "customer", "A-1").link_rule == "new:review"
        assert MatchReview.objects.filter(status=ReviewStatus.OPEN).count() == 1

    def test_different_tax_ids_in_one_batch_stay_apart(self, api):
        response = batch(
            api["erp"],
            "erp",
            "customer",
            {
                "records": [
                    {"source_id": "1", **NORTHWIND_ERP, "tax_id": "DE136695976"},
                    {"source_id": "2", **NORTHWIND_ERP, "tax_id": "DE811907980"},
                ]
            },
        )
        assert [r["action"] for r in response.json()["results"]] == ["created", "created"]
        assert Customer.objects.count() == 2

    def test_equal_valid_tax_ids_link_even_when_names_differ(self, api):
        put(api["erp"], "erp", "customer", "100045", {**NORTHWIND_ERP, "tax_id": "DE136695976"})
        # The CRM knows the company by its German trading name.
        response = put(
            api["crm"],
            "crm",
            "customer",
            "A-1",
            {"name": "Nordwind Handelsgesellschaft", "tax_id": "136695976", "country": "DE"},
        )
        assert response.json()["action"] == "linked"
        crm = record("crm", "customer", "A-1")
        assert crm.link_rule == "match:decided"
        decision = MatchDecision.objects.get(source_record=crm)
        assert decision.explanation["reason"] == "decided"
        assert decision.probability >= active_rules("customer").thresholds.auto_match
        tax = next(c for c in decision.explanation["comparisons"] if c["comparison"] == "tax id")
        assert tax["left"] == tax["right"]
        assert "136695976" in tax["left"]

    def test_equal_tax_id_contradicted_by_everything_else_goes_to_review(self, api):
        put(api["erp"], "erp", "customer", "100045", {**NORTHWIND_ERP, "tax_id": "DE136695976"})
        other = {
            "name": "Zenith Sanitär Großhandel",
            "address_line1": "Marienplatz 8",
            "city": "München",
            "postal_code": "80331",
            "country": "DE",
            "phone": "+49 89 7654321",
            "industry": "Plumbing",
            "tax_id": "DE136695976",
        }
        response = put(api["crm"], "crm", "customer", "A-2", other)
        assert response.json()["action"] == "created"
        crm = record("crm", "customer", "A-2")
        assert crm.link_rule == "new:review"
        decision = MatchDecision.objects.get(source_record=crm)
        assert decision.explanation["reason"] == "identifier contradicted"
        review = MatchReview.objects.get()
        assert review.source_record == crm
        assert review.candidate_golden_id == golden_of("erp", "customer", "100045").pk


# -- within one batch ------------------------------------------------------------------------------


class TestWithinABatch:
    def test_duplicates_in_one_batch_make_one_golden_record(self, api):
        response = batch(
            api["crm"],
            "crm",
            "customer",
            {
                "records": [
                    {"source_id": "A-1", **NORTHWIND_ERP},
                    {"source_id": "A-2", **ZENITH},
                    {"source_id": "A-3", **NORTHWIND_CRM},
                    {
                        "source_id": "A-4",
                        **ZENITH,
                        "name": "ZENITH PLUMBING SUPPLY",
                        "address_line1": "400 Oak Ave.",
                        "phone": "(217) 555-0148",
                    },
                ]
            },
        )
        results = response.json()["results"]
        assert [r["action"] for r in results] == ["created", "created", "linked", "linked"]
        assert results[2]["golden_id"] == results[0]["golden_id"]
        assert results[3]["golden_id"] == results[1]["golden_id"]
        assert results[0]["golden_id"] != results[1]["golden_id"]
        assert Customer.objects.count() == 2
        a3 = record("crm", "customer", "A-3")
        assert a3.link_rule.startswith("match:")
        decision = MatchDecision.objects.get(source_record=a3)
        assert decision.outcome == "linked"
        assert decision.candidates[0]["golden_id"] == results[0]["golden_id"]
        # Profiles and keys of every new record are written.
        assert MatchProfile.objects.count() == 4
        assert set(BlockKey.objects.values_list("source_record__source_id", flat=True)) == {
            "A-1",
            "A-2",
            "A-3",
            "A-4",
        }

    def test_a_batch_duplicate_of_an_existing_record_links_both_to_it(self, api):
        first = put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP).json()
        response = batch(
            api["crm"],
            "crm",
            "customer",
            {
                "records": [
                    {"source_id": "A-1", **NORTHWIND_CRM},
                    {"source_id": "A-2", **NORTHWIND_CRM, "name": "Northwind Traders AG"},
                ]
            },
        )
        results = response.json()["results"]
        assert [r["action"] for r in results] == ["linked", "linked"]
        assert {r["golden_id"] for r in results} == {first["golden_id"]}
        assert Customer.objects.count() == 1

    def test_review_band_within_a_batch_raises_a_review_between_peers(self, api):
        response = batch(
            api["crm"],
            "crm",
            "customer",
            {
                "records": [
                    {"source_id": "A-1", **NORTHWIND_ERP},
                    {"source_id": "A-2", **NORTHWIND_MUNICH},
                ]
            },
        )
        results = response.json()["results"]
        assert [r["action"] for r in results] == ["created", "created"]
        review = MatchReview.objects.get()
        assert review.source_record == record("crm", "customer", "A-2")
        assert review.candidate_record == record("crm", "customer", "A-1")
        assert str(review.candidate_golden_id) == results[0]["golden_id"]


# -- the candidate index ---------------------------------------------------------------------------


def one_key_rules(max_block_size: int):
    """Customer rules that block on the city alone, so the test controls the blocks."""
    rules = active_rules("customer")
    return replace(rules, blocking=(("city", "country"),), max_block_size=max_block_size)


SHOPS = [
    ("Alpenrose Feinkost", "Schillerstrasse 4"),
    ("Bergmann Elektro", "Goethestrasse 17"),
    ("Christiansen Bau", "Lindenweg 2"),
    ("Dreher Holzbau", "Am Anger 11"),
    ("Eckert Logistik", "Hafenstrasse 30"),
]


def shop(index: int) -> dict:
    name, street = SHOPS[index]
    return {
        "source_id": f"S-{index}",
        "name": name,
        "address_line1": street,
        "city": "Kassel",
        "country": "DE",
    }


FIRST = [
    "Adler", "Birke", "Condor", "Delphin", "Eiche", "Falke", "Greif", "Habicht", "Igel",
    "Jaguar", "Kranich", "Luchs", "Marder", "Nashorn", "Otter", "Pelikan", "Quelle", "Rabe",
    "Sperber", "Tanne", "Uhu", "Vulkan", "Wiesel", "Xaver", "Zeder",
]  # fmt: skip
TRADES = [
    "Metallbau", "Spedition", "Druckerei", "Textilhandel", "Pharmavertrieb", "Elektrotechnik",
    "Gartenbau", "Feinkost",
]  # fmt: skip
CITIES = [
    ("Hamburg", "20", "40"), ("Bremen", "28", "421"), ("Kiel", "24", "431"),
    ("Rostock", "18", "381"), ("Hannover", "30", "511"), ("Kassel", "34", "561"),
    ("Erfurt", "99", "361"), ("Dresden", "01", "351"),
]  # fmt: skip
STREETS = [
    "Ahornweg", "Bahnhofstrasse", "Marktplatz", "Schulstrasse", "Gartenweg", "Lindenallee",
    "Kirchgasse", "Muehlenweg", "Bergstrasse", "Seestrasse", "Waldweg", "Rosenstrasse",
    "Feldweg", "Hafenkai", "Brunnenstrasse", "Wiesenweg", "Parkallee", "Am Deich",
    "Burgstrasse", "Friedhofweg", "Industriering", "Kanalstrasse", "Lerchenfeld", "Moorweg",
    "Nordring",
]  # fmt: skip


def distinct_customers(count: int) -> list[dict]:
    """Customers no two of which are in the review band of the default rules."""
    out = []
    for i in range(count):
        city, postal, area = CITIES[i % 8]
        out.append(
            {
                "source_id": f"C-{i:03d}",
                "name": f"{FIRST[i % 25]} {TRADES[i % 8]} GmbH",
                "address_line1": f"{STREETS[(i * 7) % 25]} {i % 9 + 1}",
                "city": city,
                "postal_code": f"{postal}{(i * 137) % 1000:03d}",
                "country": "DE",
                "phone": f"+49 {area} {(i * 7919) % 900000 + 100000}",
            }
        )
    return out


class TestBlockIndex:
    def test_block_keys_are_written_per_source_record(self, api):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        erp = record("erp", "customer", "100045")
        rules = active_rules("customer")
        profile = MatchProfile.objects.get(source_record=erp)
        assert profile.domain == "customer"
        assert profile.features == features_of(rules, erp.canonical)
        assert profile.fingerprint == fingerprint(rules, profile.features)
        keys = sorted(BlockKey.objects.filter(source_record=erp).values_list("key", flat=True))
        assert keys == record_keys(rules, profile.features)
        assert len(keys) >= 5
        # The keys are signed 64-bit integers (they live in a bigint primary key).
        assert all(-(2**63) <= k < 2**63 for k in keys)
        # A record without address has fewer keys.
        put(api["crm"], "crm", "customer", "Z", {"name": "Zenith", "country": "US"})
        zenith = record("crm", "customer", "Z")
        assert 0 < BlockKey.objects.filter(source_record=zenith).count() < len(keys)

    def test_candidates_are_found_in_a_block_within_the_size_limit(self):
        save_rule_version(one_key_rules(3), created_by="test")
        ingest_batch(make_system("erp"), "customer", [shop(0), shop(1)], "reject_all", ORIGIN)
        probe = {"source_id": "P", "name": "Fleischer Optik", "city": "Kassel", "country": "DE"}
        ingest_batch(make_system("crm"), "customer", [probe], "reject_all", ORIGIN)
        decision = MatchDecision.objects.get(source_record=record("crm", "customer", "P"))
        assert len(decision.candidates) == 2
        assert decision.outcome == "new"

    def test_a_key_shared_by_more_than_max_block_size_records_is_skipped(self):
        rules = one_key_rules(3)
        save_rule_version(rules, created_by="test")
        ingest_batch(
            make_system("erp"), "customer", [shop(i) for i in range(5)], "reject_all", ORIGIN
        )
        # Five in one block of at most three: not even compared with each other.
        assert Customer.objects.count() == 5
        assert not MatchDecision.objects.exists()
        assert BlockKey.objects.count() == 5
        assert BlockKey.objects.values("key").distinct().count() == 1

        probe = {"source_id": "P", "name": "Fleischer Optik", "city": "Kassel", "country": "DE"}
        ingest_batch(make_system("crm"), "customer", [probe], "reject_all", ORIGIN)
        assert not MatchDecision.objects.filter(source_record=record("crm", "customer", "P"))
        key = BlockKey.objects.values_list("key", flat=True).first()
        assert any(key in keys for _, keys in online._saturated.values())

    def test_matching_a_batch_costs_the_same_queries_for_10_or_200_golden_records(self):
        seeds = distinct_customers(200)
        erp, crm = make_system("erp"), make_system("crm")

        def probe(batch_no: int, picks: list[int]) -> list[dict]:
            return [
                {
                    **seeds[i],
                    "source_id": f"P{batch_no}-{i}",
                    "name": seeds[i]["name"].upper().replace(" GMBH", ""),
                }
                for i in picks
            ]

        def queries_for(records: list[dict]) -> int:
            with CaptureQueriesContext(connection) as ctx:
                outcome = ingest_batch(crm, "customer", records, "reject_all", ORIGIN)
            assert [r.action for r in outcome.records] == ["linked"] * len(records)
            return len(ctx.captured_queries)

        ingest_batch(erp, "customer", seeds[:10], "reject_all", ORIGIN)
        assert Customer.objects.count() == 10
        few = queries_for(probe(1, [0, 3, 6, 9]))
        # Same shape of batch against twenty times the golden records.
        ingest_batch(erp, "customer", seeds[10:], "reject_all", ORIGIN)
        assert Customer.objects.count() == 200
        many = queries_for(probe(2, [101, 154, 187, 199]))
        assert not MatchReview.objects.exists()
        assert many == few
        assert many < 60
        # Nor with the size of the batch: set-wise, not per record.
        larger = queries_for(probe(3, [20, 33, 47, 58, 64, 79, 95, 110, 126, 141, 163, 178]))
        assert not MatchReview.objects.exists()
        assert larger == many


# -- updates -------------------------------------------------------------------------------------


class TestUpdates:
    def test_a_renamed_record_is_found_by_its_new_name(self, api):
        put(api["erp"], "erp", "customer", "100045", {"name": "Northwind Traders", "country": "DE"})
        erp = record("erp", "customer", "100045")
        old_keys = set(BlockKey.objects.filter(source_record=erp).values_list("key", flat=True))
        old_print = MatchProfile.objects.get(source_record=erp).fingerprint

        renamed = put(
            api["erp"],
            "erp",
            "customer",
            "100045",
            {"name": "Contoso Pharma GmbH", "country": "DE"},
        )
        assert renamed.json()["action"] == "updated"
        profile = MatchProfile.objects.get(source_record=erp)
        assert profile.features["name"] == "contoso pharma"
        assert profile.fingerprint != old_print
        new_keys = set(BlockKey.objects.filter(source_record=erp).values_list("key", flat=True))
        assert new_keys == set(record_keys(active_rules("customer"), profile.features))
        assert new_keys != old_keys
        assert MatchProfile.objects.filter(source_record=erp).count() == 1

        found = put(
            api["crm"], "crm", "customer", "A-1", {"name": "Contoso Pharma AG", "country": "DE"}
        )
        assert found.json()["action"] == "linked"
        assert found.json()["golden_id"] == renamed.json()["golden_id"]
        # The old name no longer finds it.
        lost = put(
            api["crm"], "crm", "customer", "A-2", {"name": "Northwind Traders", "country": "DE"}
        )
        assert lost.json()["action"] == "created"
        assert not MatchDecision.objects.filter(source_record=record("crm", "customer", "A-2"))

    def test_a_new_record_is_not_matched_against_the_old_name_of_a_record_renamed_with_it(
        self, api
    ):
        put(api["crm"], "crm", "customer", "A-1", {"name": "Northwind Traders", "country": "DE"})
        response = batch(
            api["crm"],
            "crm",
            "customer",
            {
                "records": [
                    {"source_id": "A-1", "name": "Contoso Pharma GmbH", "country": "DE"},
                    {"source_id": "A-2", "name": "Northwind Traders AG", "country": "DE"},
                ]
            },
        )
        results = response.json()["results"]
        assert [r["action"] for r in results] == ["updated", "created"]
        assert results[0]["golden_id"] != results[1]["golden_id"]

    def test_a_new_record_finds_a_record_renamed_in_an_earlier_batch(self, api):
        put(api["crm"], "crm", "customer", "A-1", {"name": "Northwind Traders", "country": "DE"})
        put(api["crm"], "crm", "customer", "A-1", {"name": "Contoso Pharma GmbH", "country": "DE"})
        response = put(
            api["erp"], "erp", "customer", "100", {"name": "Northwind Traders AG", "country": "DE"}
        )
        assert response.json()["action"] == "created"

    def test_an_unchanged_resend_writes_nothing_new(self, api):
        put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
        put(api["crm"], "crm", "customer", "A-1", NORTHWIND_CRM)
        before = (
            MatchDecision.objects.count(),
            BlockKey.objects.count(),
            MatchProfile.objects.count(),
        )
        assert put(api["crm"], "crm", "customer", "A-1", NORTHWIND_CRM).json()["action"] == (
            "unchanged"
        )
        after = (
            MatchDecision.objects.count(),
            BlockKey.objects.count(),
            MatchProfile.objects.count(),
        )
        assert after == before


# -- known issues ------------------------------------------------------------------------------


def test_items_differing_only_in_a_number_do_not_auto_link(api):
    put(api["erp"], "erp", "item", "1", {"sku": "SKU-1", "name": "Item 1"})
    response = put(api["erp"], "erp", "item", "2", {"sku": "SKU-2", "name": "Item 2"})
    assert response.json()["action"] == "created"
    assert Item.objects.count() == 2


def test_raising_max_block_size_makes_a_saturated_key_usable_again():
    save_rule_version(one_key_rules(3), created_by="test")
    ingest_batch(make_system("erp"), "customer", [shop(i) for i in range(5)], "reject_all", ORIGIN)
    probe = {"source_id": "P", "name": "Fleischer Optik", "city": "Kassel", "country": "DE"}
    ingest_batch(make_system("crm"), "customer", [probe], "reject_all", ORIGIN)
    assert not MatchDecision.objects.exists()

    save_rule_version(one_key_rules(50), created_by="test", note="bigger blocks")
    second = {"source_id": "Q", "name": "Alpenrose Feinkost", "city": "Kassel", "country": "DE"}
    ingest_batch(make_system("crm"), "customer", [second], "reject_all", ORIGIN)
    decision = MatchDecision.objects.get(source_record=record("crm", "customer", "Q"))
    assert len(decision.candidates) == 6
    assert decision.outcome == "linked"


def test_probabilities_in_decisions_are_finite(api):
    put(api["erp"], "erp", "customer", "100045", NORTHWIND_ERP)
    put(api["crm"], "crm", "customer", "A-1", NORTHWIND_CRM)
    put(api["crm"], "crm", "customer", "A-2", NORTHWIND_MUNICH)
    for decision in MatchDecision.objects.all():
        assert math.isfinite(decision.probability)
        assert 0 <= decision.probability <= 1
        for candidate in decision.candidates:
            assert 0 <= candidate["probability"] <= 1


def test_stored_explanations_are_those_of_score_pair():
    """Decisions and reviews take their explanations from the batch's vectorised scoring: the
    same content as scoring the two records' profiles one pair at a time."""
    from matching.frequencies import domain_frequencies

    rules = active_rules("customer")
    # Branches of one firm in other towns (review band) and CRM copies of ERP records (links).
    towns = [("Hamburg", "40"), ("Bremen", "421"), ("Kiel", "431"), ("Dresden", "351")]
    rows = [
        {
            "source_id": f"{n}-{t}",
            "name": f"{name} Traders",
            "city": town,
            "country": "DE",
            "phone": f"+49 {area} {1111111 * (t + 1) + n}",
        }
        for n, name in enumerate(["Northwind", "Southwind", "Eastbay"])
        for t, (town, area) in enumerate(towns)
    ]
    rows += [{**r, "source_id": f"crm-{r['source_id']}", "name": r["name"].upper()} for r in rows]
    ingest_batch(make_system("erp"), "customer", rows[:12], "reject_failed", ORIGIN)
    ingest_batch(make_system("crm"), "customer", rows[12:], "reject_failed", ORIGIN)
    frequencies = domain_frequencies(rules)
    profiles = dict(MatchProfile.objects.values_list("source_record_id", "features"))
    reviews = list(MatchReview.objects.all())
    assert reviews
    for review in reviews:
        expected = score_pair(
            rules,
            profiles[review.source_record_id],
            profiles[review.candidate_record_id],
            frequencies,
        )
        assert review.explanation == expected.as_dict()
    decisions = [d for d in MatchDecision.objects.all() if d.explanation]
    assert any(d.outcome == "linked" for d in decisions)
    for decision in decisions:
        assert set(decision.explanation) == {
            "probability",
            "weight",
            "reason",
            "rule_version",
            "comparisons",
        }
        assert decision.explanation["probability"] == pytest.approx(decision.probability, abs=1e-6)


@pytest.mark.parametrize("domain", ["customer", "item", "location"])
def test_candidates_read_only_the_features_scoring_needs(domain):
    """Stored candidates are read with only ``scored_features`` (PostgreSQL): scores and
    explanations are the same as with the whole profile."""
    from tests.matching.test_scoring import EXPLAINED_RECORDS

    rules = active_rules(domain)
    wanted = set(online.scored_features(rules))
    full = [features_of(rules, r) for r in EXPLAINED_RECORDS]
    trimmed = [{k: v for k, v in f.items() if k in wanted} for f in full]
    assert any(len(t) < len(f) for t, f in zip(trimmed, full, strict=True))
    for a in range(len(full)):
        for b in range(len(full)):
            assert (
                score_pair(rules, full[a], trimmed[b]).as_dict()
                == score_pair(rules, full[a], full[b]).as_dict()
            )
