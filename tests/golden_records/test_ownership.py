"""Per-attribute ownership: owners win, non-owners never overwrite; strategies, overrides."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from golden_records.models import OwnershipRule
from golden_records.read import golden_detail
from golden_records.services import clear_override, set_override
from tests.helpers import golden_of, put

pytestmark = pytest.mark.django_db


def customer(api, system, source_id, **attrs):
    response = put(api[system], system, "customer", source_id, {"duns": "150483782", **attrs})
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_non_owner_never_overwrites_credit_limit(api):
    customer(api, "erp", "C-1", name="Acme", credit_limit="5000")
    result = customer(api, "crm", "A-1", name="Acme", credit_limit="99999")
    assert result["action"] == "linked"
    golden = golden_of("erp", "customer", "C-1")
    assert golden.credit_limit == Decimal("5000")
    assert golden.version == 1
    detail = golden_detail(golden)
    assert {
        "attribute": "credit_limit",
        "system": "crm",
        "source_id": "A-1",
        "value": "99999",
        "golden_value": "5000",
    } in detail["discrepancies"]
    # The owner's later change does win.
    customer(api, "erp", "C-1", name="Acme", credit_limit="6000")
    golden.refresh_from_db()
    assert golden.credit_limit == Decimal("6000")


def test_owner_only_attribute_stays_empty_without_the_owner(api):
    customer(api, "crm", "A-1", name="Acme", credit_limit="99999")
    assert golden_of("crm", "customer", "A-1").credit_limit is None


def test_priority_falls_back_to_other_systems_when_allowed(api):
    customer(api, "crm", "A-1", name="Acme CRM", city="Berlin")
    golden = golden_of("crm", "customer", "A-1")
    assert golden.name == "Acme CRM"
    customer(api, "erp", "C-1", name="Acme ERP")
    golden.refresh_from_db()
    assert golden.name == "Acme ERP"  # erp ranks first for name
    assert golden.city == "Berlin"  # erp has no city: crm's stays
    assert golden.lineage["name"]["system"] == "erp"
    assert golden.lineage["city"]["system"] == "crm"


def test_hierarchy_and_sales_owner_come_from_crm(api):
    customer(api, "erp", "C-1", name="Acme", sales_owner="erp-bob")
    customer(api, "crm", "A-1", name="Acme", sales_owner="crm-jane")
    assert golden_of("erp", "customer", "C-1").sales_owner == "crm-jane"


def test_most_recent_uses_source_timestamps(api):
    OwnershipRule.objects.filter(domain="customer", attribute="phone").update(
        strategy="most_recent"
    )
    customer(
        api,
        "erp",
        "C-1",
        name="A",
        phone="+1 312 555 0100",
        source_updated_at="2026-03-01T00:00:00Z",
    )
    customer(
        api,
        "crm",
        "A-1",
        name="A",
        phone="+1 312 555 0199",
        source_updated_at="2026-02-01T00:00:00Z",
    )
    golden = golden_of("erp", "customer", "C-1")
    assert golden.phone == "+13125550100"  # crm arrived later but its change is older
    customer(
        api,
        "crm",
        "A-1",
        name="A",
        phone="+1 312 555 0199",
        source_updated_at="2026-04-01T00:00:00Z",
    )
    golden.refresh_from_db()
    assert golden.phone == "+13125550199"
    assert golden.lineage["phone"]["system"] == "crm"
    assert golden.lineage["phone"]["rule"] == "most_recent"


def test_most_frequent_and_longest(api):
    OwnershipRule.objects.filter(domain="customer", attribute="industry").update(
        strategy="most_frequent", systems=[]
    )
    OwnershipRule.objects.filter(domain="customer", attribute="segment").update(
        strategy="longest", systems=[]
    )
    customer(api, "erp", "C-1", name="A", industry="Food", segment="SMB")
    customer(api, "crm", "A-1", name="A", industry="Retail", segment="Small and medium business")
    customer(api, "ecom", "E-1", name="A", industry="Food", segment="SMB")
    golden = golden_of("erp", "customer", "C-1")
    assert golden.industry == "Food"
    assert golden.segment == "Small and medium business"


def test_steward_only_and_override(api):
    OwnershipRule.objects.filter(domain="customer", attribute="segment").update(
        strategy="steward_only"
    )
    customer(api, "erp", "C-1", name="Acme", segment="SMB", credit_limit="5000")
    golden = golden_of("erp", "customer", "C-1")
    assert golden.segment == ""
    steward = get_user_model().objects.create_user("stew", password="x")

    version = set_override(
        "customer", golden.pk, "segment", "Key account", steward, reason="agreed with sales"
    )
    golden.refresh_from_db()
    assert golden.segment == "Key account"
    assert version == golden.version == 2
    assert golden.lineage["segment"] == {
        "steward": "stew",
        "at": golden.lineage["segment"]["at"],
        "rule": "override",
    }
    history = golden.history.first()
    assert (history.actor_type, history.actor, history.channel) == ("steward", "stew", "ui")
    assert history.changed_fields == ["segment"]

    set_override("customer", golden.pk, "credit_limit", "7500", steward)
    customer(api, "erp", "C-1", name="Acme", segment="SMB", credit_limit="5100")
    golden.refresh_from_db()
    assert golden.credit_limit == Decimal("7500")  # the override wins over the owner ...

    clear_override("customer", golden.pk, "credit_limit", steward)
    golden.refresh_from_db()
    assert golden.credit_limit == Decimal("5100")  # ... until it is cleared


def test_override_values_are_validated(api):
    customer(api, "erp", "C-1", name="Acme")
    golden = golden_of("erp", "customer", "C-1")
    steward = get_user_model().objects.create_user("stew", password="x")
    with pytest.raises(ValueError, match="not an ISO 3166-1"):
        set_override("customer", golden.pk, "country", "Atlantis", steward)


def test_lineage_names_record_system_and_time(api):
    customer(api, "erp", "C-1", name="Acme", source_updated_at="2026-03-01T12:00:00Z")
    golden = golden_of("erp", "customer", "C-1")
    lineage = golden.lineage["name"]
    assert lineage["system"] == "erp"
    assert lineage["source_id"] == "C-1"
    assert dt.datetime.fromisoformat(lineage["at"]) == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    assert lineage["rule"] == "source_priority"
    assert "credit_limit" not in golden.lineage


def test_rule_change_in_database_applies_on_next_change(api):
    OwnershipRule.objects.filter(domain="customer", attribute="name").update(systems=["crm", "erp"])
    customer(api, "erp", "C-1", name="Acme ERP")
    customer(api, "crm", "A-1", name="Acme CRM")
    assert golden_of("erp", "customer", "C-1").name == "Acme CRM"


def test_default_rules_in_the_migration_match_the_declarations():
    import importlib

    from golden_records.domains import DOMAINS

    migration = importlib.import_module("golden_records.migrations.0002_default_ownership_rules")
    stored = {(d, a): (s, list(sy), fb) for d, a, s, sy, fb in migration.DEFAULT_RULES}
    declared = {
        (name, attr.name): (
            spec.ownership_for(attr.name).strategy,
            list(spec.ownership_for(attr.name).systems),
            spec.ownership_for(attr.name).fallback_to_any,
        )
        for name, spec in DOMAINS.items()
        for attr in spec.attributes
    }
    assert stored == declared
    assert OwnershipRule.objects.count() == len(declared)
