"""The outbox: an event and deliveries with every golden-record change, in the same transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from golden_records.history import ChangeOrigin
from golden_records.services import merge_golden, unmerge
from sync.models import Delivery, DeliveryStatus, OutboxEvent
from tests.helpers import golden_of, put

ACME = {"name": "Acme Corp", "duns": "150483782", "country": "US", "city": "Chicago"}


def test_a_new_golden_record_writes_one_created_event_and_a_delivery_per_subscription(
    api, subscribed
):
    assert put(api["erp"], "erp", "customer", "C1", ACME).status_code in (200, 201)
    golden = golden_of("erp", "customer", "C1")
    event = OutboxEvent.objects.get(golden_id=golden.pk)
    assert (event.type, event.version, event.domain) == ("created", 1, "customer")
    assert event.payload["record"]["name"] == "Acme Corp"
    assert event.payload["golden_id"] == str(golden.pk)
    assert event.actor == "source_system:erp"
    deliveries = Delivery.objects.filter(event=event)
    assert {d.subscription.name for d in deliveries} == {"erp-customers", "ecom-all"}
    assert {d.status for d in deliveries} == {DeliveryStatus.PENDING}


def test_unchanged_payload_writes_no_event(api, subscribed):
    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["erp"], "erp", "customer", "C1", ACME)
    assert OutboxEvent.objects.count() == 1


def test_an_update_supersedes_the_pending_older_version(api, subscribed):
    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["erp"], "erp", "customer", "C1", {**ACME, "city": "Evanston"})
    golden = golden_of("erp", "customer", "C1")
    events = list(OutboxEvent.objects.filter(golden_id=golden.pk).order_by("version"))
    assert [(e.type, e.version) for e in events] == [("created", 1), ("updated", 2)]
    rows = Delivery.objects.filter(golden_id=golden.pk, subscription=subscribed["erp"])
    assert sorted((d.version, d.status) for d in rows) == [(1, "superseded"), (2, "pending")]


def test_a_domain_nobody_subscribes_to_gets_events_but_no_deliveries(api, subscribed):
    item = {"sku": "SKU-1", "name": "Bolt", "uom": "EA"}
    put(api["erp"], "erp", "item", "I1", item)
    golden = golden_of("erp", "item", "I1")
    assert OutboxEvent.objects.filter(golden_id=golden.pk).count() == 1
    # ecom subscribes to items, erp does not
    assert [d.subscription.name for d in Delivery.objects.filter(golden_id=golden.pk)] == [
        "ecom-all"
    ]


def test_a_failed_change_leaves_no_event(api, subscribed):
    with pytest.raises(RuntimeError), transaction.atomic():
        put(api["erp"], "erp", "customer", "C1", ACME)
        raise RuntimeError("the transaction rolls back")
    assert not OutboxEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_merge_tells_which_record_survives_and_unmerge_which_appeared(api, subscribed, steward):
    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["crm"], "crm", "customer", "A1", {"name": "Zenith Foods", "duns": "804735132"})
    survivor = golden_of("erp", "customer", "C1")
    merged = golden_of("crm", "customer", "A1")
    origin = ChangeOrigin.steward(steward)
    merge_golden("customer", survivor.pk, [merged.pk], origin)
    event = OutboxEvent.objects.get(golden_id=merged.pk, type="merged")
    assert event.payload["survivor_id"] == str(survivor.pk)
    assert event.payload["status"] == "merged"
    assert event.payload["merged_into"] == str(survivor.pk)

    crm_record = survivor.__class__.objects.get(pk=survivor.pk)
    from golden_records.models import SourceRecord

    moving = SourceRecord.objects.get(system__code="crm", source_id="A1")
    new_id = unmerge("customer", crm_record.pk, [moving.pk], origin)
    unmerged = OutboxEvent.objects.get(golden_id=survivor.pk, type="unmerged")
    assert unmerged.payload["split_into"] == [str(new_id)]
    created = OutboxEvent.objects.get(golden_id=new_id)
    assert (created.type, created.payload["split_from"]) == ("created", str(survivor.pk))
    # the survivor got a new version for the unmerge even if none of its values changed
    assert unmerged.version == survivor.__class__.objects.get(pk=survivor.pk).version


@pytest.fixture
def steward(django_user_model):
    return django_user_model.objects.create_user("stew", password="x")
