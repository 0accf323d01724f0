"""References arrive as the sender's own ids and resolve in any arrival order."""

import pytest

from golden_records.models import PendingReference, Price
from tests.helpers import batch, golden_of, put

pytestmark = pytest.mark.django_db

PRICE = {
    "item": "I-1",
    "price_list": "LIST",
    "currency": "USD",
    "unit_price": "9.99",
    "valid_from": "2026-01-01",
}


def test_price_after_item(api):
    put(api["erp"], "erp", "item", "I-1", {"sku": "BOLT-1"})
    put(api["erp"], "erp", "price", "P-1", PRICE)
    assert golden_of("erp", "price", "P-1").item_id == golden_of("erp", "item", "I-1").pk
    assert PendingReference.objects.count() == 0


def test_price_before_item_resolves_when_the_item_arrives(api):
    response = put(api["erp"], "erp", "price", "P-1", PRICE)
    assert response.status_code == 201
    price = golden_of("erp", "price", "P-1")
    assert price.item_id is None
    pending = PendingReference.objects.get()
    assert (pending.attribute, pending.target_domain, pending.target_source_id) == (
        "item",
        "item",
        "I-1",
    )

    put(api["erp"], "erp", "item", "I-1", {"sku": "BOLT-1"})
    price.refresh_from_db()
    assert price.item_id == golden_of("erp", "item", "I-1").pk
    assert price.version == 2
    history = price.history.first()
    assert history.changed_fields == ["item"]
    assert history.history_change_reason == "reference resolved"
    assert PendingReference.objects.count() == 0


def test_references_resolve_within_the_sending_system_only(api):
    put(api["crm"], "crm", "item", "I-1", {"sku": "OTHER"})
    put(api["erp"], "erp", "price", "P-1", PRICE)
    assert golden_of("erp", "price", "P-1").item_id is None


def test_child_before_parent_in_one_batch(api):
    records = [
        {"source_id": "child", "name": "Acme Berlin", "parent": "parent"},
        {"source_id": "parent", "name": "Acme Holding"},
    ]
    response = batch(api["crm"], "crm", "customer", {"records": records})
    assert [r["action"] for r in response.json()["results"]] == ["created", "created"]
    child = golden_of("crm", "customer", "child")
    assert child.parent_id == golden_of("crm", "customer", "parent").pk
    assert child.version == 1  # resolved before the golden record was first written
    assert PendingReference.objects.count() == 0


def test_location_before_customer(api):
    put(
        api["erp"],
        "erp",
        "location",
        "S-1",
        {"kind": "ship-to", "address_line1": "1 Main St", "customer": "C-1"},
    )
    put(api["erp"], "erp", "customer", "C-1", {"name": "Acme"})
    location = golden_of("erp", "location", "S-1")
    assert location.customer_id == golden_of("erp", "customer", "C-1").pk
    assert list(golden_of("erp", "customer", "C-1").locations.all()) == [location]


def test_changed_reference_moves_and_pending_is_replaced(api):
    put(api["erp"], "erp", "price", "P-1", PRICE)
    put(api["erp"], "erp", "price", "P-1", {**PRICE, "item": "I-2"})
    assert list(PendingReference.objects.values_list("target_source_id", flat=True)) == ["I-2"]
    put(api["erp"], "erp", "item", "I-1", {"sku": "ONE"})
    assert golden_of("erp", "price", "P-1").item_id is None
    put(api["erp"], "erp", "item", "I-2", {"sku": "TWO"})
    assert golden_of("erp", "price", "P-1").item_id == golden_of("erp", "item", "I-2").pk


def test_price_key_links_once_item_resolves(api):
    put(api["erp"], "erp", "item", "I-1", {"sku": "BOLT-1"})
    put(api["erp"], "erp", "price", "P-1", PRICE)
    put(api["ecom"], "ecom", "item", "web-1", {"sku": "bolt-1"})
    response = put(
        api["ecom"], "ecom", "price", "web-p", {**PRICE, "item": "web-1", "unit_price": "7.99"}
    )
    assert response.json()["action"] == "linked"
    price = Price.objects.get()
    assert (
        str(price.unit_price) == "9.9900"
    )  # prices belong to ERP: the eCommerce promo does not win
