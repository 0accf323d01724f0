"""The concurrent-senders scenario's data (tests/concurrent_senders.py, bench/ingest.py
``--concurrent-systems``): sent one system after the other, every company becomes exactly one
golden record holding its three systems' records, and no review is raised. The concurrent run
is only meaningful against this baseline."""

from __future__ import annotations

from collections import defaultdict

import pytest

from golden_records.history import ChangeOrigin
from golden_records.models import Customer, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch
from matching.models import MatchReview, ReviewStatus
from tests.concurrent_senders import SYSTEMS, Scenario, entities, source_id
from tests.conftest import make_system

pytestmark = pytest.mark.django_db


def ingest_sequentially(scenario: Scenario, batches: int = 4) -> None:
    for code in SYSTEMS:
        system = make_system(code, {"ecom": "ecommerce"}.get(code, code))
        rows = scenario.payloads[code]
        size = -(-len(rows) // batches)
        for start in range(0, len(rows), size):
            outcome = ingest_batch(
                system,
                "customer",
                rows[start : start + size],
                "reject_failed",
                ChangeOrigin.source_system(code),
            )
            assert not [r.errors_as_list() for r in outcome.records if not r.ok]


def companies_per_golden(scenario: Scenario) -> dict:
    """Active golden id → the companies (indexes) of the source records linked to it."""
    held = defaultdict(list)
    for code, sid, golden_id in SourceRecord.objects.filter(domain="customer").values_list(
        "system__code", "source_id", "golden_id"
    ):
        held[golden_id].append(scenario.truth[(code, sid)])
    return held


def test_the_payloads_differ_only_in_name_style_and_street_spelling():
    scenario = entities(3)
    erp, crm, ecom = (scenario.payloads[code][0] for code in SYSTEMS)
    assert [erp["source_id"], crm["source_id"], ecom["source_id"]] == [
        source_id("erp", 1),
        source_id("crm", 1),
        source_id("ecom", 1),
    ]
    assert crm["name"] == (erp["name"] + ".").upper()
    assert erp["name"].startswith(ecom["name"] + " ")
    assert crm["address_line1"] == ecom["address_line1"]
    assert erp["address_line1"].replace("strasse ", "str. ") == crm["address_line1"]
    for payload in (erp, crm, ecom):
        assert set(payload) == {
            "source_id",
            "name",
            "address_line1",
            "postal_code",
            "city",
            "country",
        }
        assert payload["country"] == "DE"
    assert entities(3).payloads == scenario.payloads  # seeded


def test_sent_one_system_after_the_other_each_company_is_one_golden_record():
    scenario = entities(60)
    ingest_sequentially(scenario)
    active = set(
        Customer.objects.filter(record_status=GoldenStatus.ACTIVE).values_list(
            "golden_id", flat=True
        )
    )
    assert len(active) == 60
    held = companies_per_golden(scenario)
    assert set(held) == active
    # Each golden record holds exactly one company's three records.
    assert sorted(sorted(held_by_one) for held_by_one in held.values()) == [
        [i, i, i] for i in range(60)
    ]
    assert not MatchReview.objects.filter(status=ReviewStatus.OPEN).exists()
