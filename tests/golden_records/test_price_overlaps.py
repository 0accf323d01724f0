"""Dated records (prices) of one overlap key must not overlap, equal start dates included.

A price with the key and the start date of a stored price is that same price only when it says
the same thing about it: the same validity, and, from the system that already sent it under
another id, the same amount. Anything else is a second, conflicting price row for the same
period and is rejected with ``overlapping_validity``.
"""

from decimal import Decimal

import pytest

from golden_records.models import Price, SourceRecord
from tests.helpers import batch, error_codes, golden_of, put

pytestmark = pytest.mark.django_db

KEY = {"item": "I-1", "price_list": "OVL", "currency": "USD"}
FIRST = {**KEY, "unit_price": "10.00", "valid_from": "2026-01-01", "valid_to": "2026-06-30"}
SHORTER = {**KEY, "unit_price": "12.00", "valid_from": "2026-01-01", "valid_to": "2026-02-01"}


@pytest.fixture
def item(api):
    put(api["erp"], "erp", "item", "I-1", {"sku": "A-1"})
    put(api["ecom"], "ecom", "item", "I-1", {"sku": "A-1"})


def assert_overlap_rejected(response):
    assert response.status_code == 400, response.content
    assert "overlapping_validity" in error_codes(response)["valid_from"]


def assert_first_price_intact():
    price = golden_of("erp", "price", "OVL-1")
    assert (price.unit_price, str(price.valid_to)) == (Decimal("10.00"), "2026-06-30")
    assert Price.objects.count() == 1


def test_same_start_other_end_from_the_same_system_is_rejected(api, item):
    """The finding: OVL-3 used to link to OVL-1's golden price and replace its amount and end."""
    assert put(api["erp"], "erp", "price", "OVL-1", FIRST).status_code == 201
    response = put(api["erp"], "erp", "price", "OVL-3", SHORTER)
    assert_overlap_rejected(response)
    assert not SourceRecord.objects.filter(source_id="OVL-3").exists()
    assert_first_price_intact()


def test_same_validity_other_amount_from_the_same_system_is_rejected(api, item):
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    response = put(api["erp"], "erp", "price", "OVL-2", {**FIRST, "unit_price": "12.00"})
    assert_overlap_rejected(response)
    assert_first_price_intact()


def test_same_start_other_end_from_another_system_is_rejected(api, item):
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    response = put(api["ecom"], "ecom", "price", "W-1", {**SHORTER, "unit_price": "10.00"})
    assert_overlap_rejected(response)
    assert_first_price_intact()


def test_in_batch_same_start_is_rejected(api, item):
    records = [{"source_id": "OVL-1", **FIRST}, {"source_id": "OVL-3", **SHORTER}]
    response = batch(api["erp"], "erp", "price", {"records": records, "on_error": "reject_failed"})
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["action"] == "created"
    assert second["action"] == "rejected"
    assert [e["code"] for e in second["errors"]] == ["overlapping_validity"]
    assert_first_price_intact()


def test_in_batch_same_start_after_a_stored_price_is_rejected(api, item):
    """Both checks at once: the stored OVL-1 and a conflicting OVL-3 in the batch."""
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    records = [{"source_id": "OVL-3", **SHORTER}]
    response = batch(api["erp"], "erp", "price", {"records": records, "on_error": "reject_all"})
    assert response.status_code == 400
    assert_first_price_intact()


def test_another_system_with_the_same_validity_links(api, item):
    """The same price seen by another system: one golden price; a different amount from a
    non-owner is governance's business (a change approval), not a second price."""
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    response = put(api["ecom"], "ecom", "price", "W-1", {**FIRST, "unit_price": "9.99"})
    assert response.status_code in (200, 201), response.content
    assert response.json()["action"] == "linked"
    assert golden_of("ecom", "price", "W-1").pk == golden_of("erp", "price", "OVL-1").pk
    assert_first_price_intact()


def test_the_same_row_again_under_another_id_links(api, item):
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    response = put(api["erp"], "erp", "price", "OVL-2", FIRST)
    assert response.json()["action"] == "linked"
    assert_first_price_intact()


def test_a_price_changes_its_own_validity_and_amount(api, item):
    """Changing a price is sending its own record again, not a new one."""
    put(api["erp"], "erp", "price", "OVL-1", FIRST)
    response = put(api["erp"], "erp", "price", "OVL-1", SHORTER)
    assert response.json()["action"] == "updated"
    price = golden_of("erp", "price", "OVL-1")
    assert (price.unit_price, str(price.valid_to)) == (Decimal("12.00"), "2026-02-01")
    following = {**FIRST, "valid_from": "2026-02-02"}
    assert put(api["erp"], "erp", "price", "OVL-4", following).status_code == 201


def test_prices_of_two_sender_items_the_hub_merged_still_link(api):
    """ERP sends one price per item; two of its items with one GTIN are one golden item. The
    prices meet only through the hub's item merge: not the sender's conflict (the seeded demo
    has such items), so they link as before, the other amount kept as a discrepancy."""
    put(api["erp"], "erp", "item", "I-1", {"sku": "A-1", "gtin": "036000291452"})
    put(api["erp"], "erp", "item", "I-2", {"sku": "A-2", "gtin": "036000291452"})
    assert golden_of("erp", "item", "I-1").pk == golden_of("erp", "item", "I-2").pk

    first = put(api["erp"], "erp", "price", "P-1", FIRST)
    second = put(api["erp"], "erp", "price", "P-2", {**FIRST, "item": "I-2", "unit_price": "11"})
    in_batch = batch(
        api["erp"],
        "erp",
        "price",
        {
            "on_error": "reject_all",
            "records": [
                {**FIRST, "source_id": "B-1", "price_list": "B"},
                {**FIRST, "source_id": "B-2", "price_list": "B", "item": "I-2", "unit_price": "11"},
            ],
        },
    )

    assert (first.status_code, second.status_code) == (201, 200), second.content
    assert second.json()["action"] == "linked"
    assert [r["action"] for r in in_batch.json()["results"]] == ["created", "linked"]
