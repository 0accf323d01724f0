"""Exclusive and decisive identifiers always link, however many records share them.

A large customer has dozens of accounts and ship-tos under one tax id or DUNS; a GTIN repeats
across systems and pack levels. Block-size limits keep a common fuzzy key (a town, a name
prefix) from flooding the matcher, but they must not apply to identifiers: the issue saw a tax
id stop linking after 40 records, leaving a new golden record for every later one.
"""

from __future__ import annotations

import pytest

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import ingest_batch
from matching import online
from matching.rule_versions import rules_if_any

TAX_ID = "DE136695976"
ORIGIN = ChangeOrigin.command("test")


def active(domain: str) -> int:
    return GOLDEN_MODELS[domain].objects.filter(record_status=GoldenStatus.ACTIVE).count()


@pytest.mark.django_db
def test_fifty_records_with_one_tax_id_sent_one_by_one_end_in_one_golden_record(api):
    """The finding: 50 PUTs, new source id each, ERP and CRM taking turns, one tax id."""
    answers = []
    for i in range(50):
        system = "erp" if i % 2 == 0 else "crm"
        response = api[system].put(
            f"/api/v1/sources/{system}/customer/NW-{i:03d}",
            {"name": "Nordwind Handel AG", "tax_id": TAX_ID, "country": "DE"},
            format="json",
        )
        assert response.status_code in (200, 201), response.json()
        answers.append(response.json()["action"])

    assert answers == ["created"] + ["linked"] * 49
    assert active("customer") == 1
    assert (
        SourceRecord.objects.filter(domain="customer").values("golden_id").distinct().count() == 1
    )


@pytest.mark.django_db
def test_a_hundred_records_with_one_tax_id_in_one_batch_end_in_one_golden_record(systems):
    records = [
        {
            "source_id": f"SHIP-{i:03d}",
            "name": f"Nordwind Handel AG Lager {i}",
            "tax_id": TAX_ID,
            "country": "DE",
            "city": ["Hamburg", "Bremen", "Kiel", "Berlin"][i % 4],
        }
        for i in range(100)
    ]
    outcome = ingest_batch(systems["erp"], "customer", records, "reject_all", ORIGIN)

    assert outcome.counts == {"created": 1, "linked": 99}
    assert active("customer") == 1


@pytest.mark.django_db
def test_records_after_a_full_identifier_block_still_link(systems):
    """Across batches: more records share the tax id than any fuzzy block may hold."""
    limit = online.block_limit(rules_if_any("customer"))
    for start in range(0, 3 * limit, limit):
        batch = [
            {"source_id": f"ACC-{i}", "name": "Nordwind Handel", "tax_id": TAX_ID, "country": "DE"}
            for i in range(start, start + limit)
        ]
        ingest_batch(systems["crm"], "customer", batch, "reject_all", ORIGIN)

    assert active("customer") == 1


@pytest.mark.django_db
def test_a_different_tax_id_still_keeps_records_apart(systems):
    """The unlimited identifier block does not turn an exclusive identifier into a magnet."""
    for i in range(45):
        ingest_batch(
            systems["erp"],
            "customer",
            [
                {
                    "source_id": f"A-{i}",
                    "name": "Nordwind Handel AG",
                    "tax_id": TAX_ID,
                    "country": "DE",
                }
            ],
            "reject_all",
            ORIGIN,
        )
    other = ingest_batch(
        systems["crm"],
        "customer",
        [
            {
                "source_id": "B-1",
                "name": "Nordwind Handel AG",
                "tax_id": "DE129273398",
                "country": "DE",
            }
        ],
        "reject_all",
        ORIGIN,
    )

    assert other.records[0].action == "created"
    assert active("customer") == 2


@pytest.mark.django_db
def test_sixty_items_with_one_gtin_end_in_one_golden_record(api):
    for i in range(60):
        system = ("erp", "wms", "ecom")[i % 3]
        response = api[system].put(
            f"/api/v1/sources/{system}/item/SKU-{i:03d}",
            {"sku": f"SKU-{i:03d}", "gtin": "036000291452", "name": "LED worklight 20 W"},
            format="json",
        )
        assert response.status_code in (200, 201), response.json()

    assert active("item") == 1


@pytest.mark.django_db
def test_sixty_locations_with_one_code_end_in_one_golden_record(systems):
    """A location code is declared an identifier in the location rules (``identifiers``)."""
    for i in range(60):
        system = systems[("erp", "wms", "crm")[i % 3]]
        ingest_batch(
            system,
            "location",
            [{"source_id": f"L-{i:03d}", "code": "DC-HAM-01", "kind": "warehouse"}],
            "reject_all",
            ORIGIN,
        )

    assert active("location") == 1
