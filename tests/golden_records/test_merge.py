"""merge_golden and unmerge: source records move, ids keep resolving, history stays exact."""

import pytest
from django.contrib.auth import get_user_model

from golden_records.history import ChangeOrigin
from golden_records.models import Customer, GoldenStatus, SourceRecord
from golden_records.services import (
    MergeError,
    merge_golden,
    resolve_golden_id,
    set_override,
    unmerge,
)
from matching.models import MatchKey
from tests.helpers import golden_of, put

pytestmark = pytest.mark.django_db


@pytest.fixture
def steward():
    return get_user_model().objects.create_user("stew", password="x")


def two_customers(api):
    put(
        api["erp"],
        "erp",
        "customer",
        "C-1",
        {"name": "Acme Corp", "credit_limit": "5000", "duns": "150483782"},
    )
    put(api["crm"], "crm", "customer", "A-1", {"name": "ACME Corporation", "sales_owner": "jane"})
    return golden_of("erp", "customer", "C-1"), golden_of("crm", "customer", "A-1")


def test_merge_moves_records_and_keeps_the_merged_id_resolving(api, steward):
    survivor, merged = two_customers(api)
    origin = ChangeOrigin.steward(steward)
    version = merge_golden("customer", survivor.pk, [merged.pk], origin)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert version == survivor.version == 2
    assert survivor.sales_owner == "jane"  # now from the CRM record that moved in
    assert survivor.credit_limit == 5000
    assert merged.record_status == GoldenStatus.MERGED
    assert merged.merged_into == survivor.pk
    assert resolve_golden_id("customer", merged.pk) == survivor.pk
    assert set(SourceRecord.objects.values_list("golden_id", flat=True)) == {survivor.pk}
    assert set(MatchKey.objects.values_list("golden_id", flat=True)) == {survivor.pk}
    moved = SourceRecord.objects.get(source_id="A-1")
    assert moved.link_rule == "merge"
    row = merged.history.first()
    assert (row.actor_type, row.actor, row.changed_fields) == (
        "steward",
        "stew",
        ["record_status", "merged_into"],
    )
    assert moved.history.first().changed_fields == ["golden_id"]


def test_merge_moves_overrides_the_survivor_lacks(api, steward):
    survivor, merged = two_customers(api)
    set_override("customer", merged.pk, "segment", "Key account", steward)
    merge_golden("customer", survivor.pk, [merged.pk], ChangeOrigin.steward(steward))
    survivor.refresh_from_db()
    assert survivor.segment == "Key account"


def test_references_follow_a_merge(api, steward):
    put(api["erp"], "erp", "item", "I-1", {"sku": "A-1"})
    put(api["ecom"], "ecom", "item", "W-1", {"sku": "WEB-1"})
    price = {
        "item": "W-1",
        "price_list": "WEB",
        "currency": "USD",
        "unit_price": "1",
        "valid_from": "2026-01-01",
    }
    put(api["ecom"], "ecom", "price", "P-1", price)
    item, web_item = golden_of("erp", "item", "I-1"), golden_of("ecom", "item", "W-1")
    merge_golden("item", item.pk, [web_item.pk], ChangeOrigin.steward(steward))
    assert golden_of("ecom", "price", "P-1").item_id == item.pk


def test_merge_refuses_what_is_not_active(api, steward):
    survivor, merged = two_customers(api)
    origin = ChangeOrigin.steward(steward)
    merge_golden("customer", survivor.pk, [merged.pk], origin)
    with pytest.raises(MergeError) as error:
        merge_golden("customer", survivor.pk, [merged.pk], origin)
    assert error.value.code == "golden_record_not_active"
    with pytest.raises(MergeError) as error:
        merge_golden("customer", survivor.pk, [survivor.pk], origin)
    assert error.value.code == "nothing_to_merge"


def test_unmerge_splits_records_into_a_new_golden(api, steward):
    survivor, merged = two_customers(api)
    origin = ChangeOrigin.steward(steward)
    merge_golden("customer", survivor.pk, [merged.pk], origin)
    crm = SourceRecord.objects.get(source_id="A-1")
    new_id = unmerge("customer", survivor.pk, [crm.pk], origin)

    survivor.refresh_from_db()
    new = Customer.objects.get(pk=new_id)
    assert new.name == "ACME Corporation"
    assert new.sales_owner == "jane"
    assert survivor.sales_owner == ""
    assert SourceRecord.objects.get(source_id="A-1").golden_id == new_id
    assert new.history.get().history_type == "+"
    with pytest.raises(MergeError) as error:
        unmerge("customer", survivor.pk, [SourceRecord.objects.get(source_id="C-1").pk], origin)
    assert error.value.code == "invalid_split"
