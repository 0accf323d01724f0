"""The demo data: valid, linked across systems, with the conflicts a steward should see, and
loaded idempotently."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from stdnum import ean

from golden_records.demo.loader import ensure_source_systems
from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin, os_user
from golden_records.management.commands import seed_demo
from golden_records.models import (
    Customer,
    Item,
    Location,
    PendingReference,
    Price,
    SourceRecord,
    SourceSystem,
)
from golden_records.pipeline import prepare_record
from golden_records.read import golden_detail

SMALL = ("--customers", "60", "--items", "80")


def seed(*extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", *SMALL, *extra, stdout=out)
    return out.getvalue()


def summary(output: str) -> dict[tuple[str, str], dict[str, int]]:
    """{(domain, system): {action: count}} from the command's summary lines."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"\s+(\w+)\s+(\w+)\s+[\d,]+ records in [\d. ]+s: (.*)$", line)
        if match:
            actions = {}
            for part in match.group(3).split(", "):
                action, count = part.rsplit(" ", 1)
                actions[action] = int(count.replace(",", ""))
            found[match.group(1), match.group(2)] = actions
    return found


@pytest.mark.django_db
def test_seed_loads_valid_linked_data():
    output = seed()
    counts = summary(output)
    assert {domain for domain, _ in counts} == {"customer", "item", "location", "price"}
    assert not any("rejected" in actions for actions in counts.values()), output
    assert dict(SourceSystem.objects.values_list("code", "kind")) == {
        "crm": "crm",
        "erp": "erp",
        "wms": "wms",
        "ecom": "ecommerce",
        "edi": "edi",
    }

    # Duplicates across systems linked to one golden record, but not all of them (some are
    # left for fuzzy matching).
    customer_sources = SourceRecord.objects.filter(domain="customer").count()
    assert Customer.objects.count() < customer_sources
    assert counts["customer", "crm"].get("linked", 0) > 0
    assert counts["customer", "crm"].get("created", 0) > 0
    assert counts["item", "wms"].get("linked", 0) > 0
    assert Item.objects.count() < SourceRecord.objects.filter(domain="item").count()

    # The CRM's account hierarchy arrived; every reference resolved.
    assert Customer.objects.filter(parent__isnull=False).exists()
    assert not PendingReference.objects.exists()
    assert not Location.objects.filter(kind__in=["bill_to", "ship_to"], customer=None).exists()

    # Prices refer to items (the ERP's, the owner of every price attribute).
    assert Price.objects.exists()
    assert not Price.objects.filter(item=None).exists()
    assert Price.objects.filter(customer__isnull=False).exists()

    # GTINs have valid check digits and arrive in different forms from different systems.
    assert all(
        ean.is_valid(gtin) for gtin in Item.objects.exclude(gtin="").values_list("gtin", flat=True)
    )
    forms = {
        len(sr.payload["gtin"])
        for sr in SourceRecord.objects.filter(domain="item")
        if "gtin" in sr.payload
    }
    assert {12, 13, 14} <= forms


@pytest.mark.django_db
def test_crm_credit_limit_conflicts_do_not_win():
    seed()
    erp_limits = {
        sr.golden_id: sr.canonical["credit_limit"]
        for sr in SourceRecord.objects.filter(system__code="erp", domain="customer")
        if "credit_limit" in sr.canonical
    }
    conflicts = [
        sr
        for sr in SourceRecord.objects.filter(system__code="crm", domain="customer")
        if sr.canonical.get("credit_limit")
        and sr.golden_id in erp_limits
        and sr.canonical["credit_limit"] != erp_limits[sr.golden_id]
    ]
    assert conflicts, "the demo should have CRM credit limits that differ from the ERP's"
    for sr in conflicts:
        golden = Customer.objects.get(pk=sr.golden_id)
        assert golden.credit_limit == Decimal(erp_limits[sr.golden_id])
        assert golden.lineage["credit_limit"]["system"] == "erp"
    detail = golden_detail(Customer.objects.get(pk=conflicts[0].golden_id))
    assert {
        "attribute": "credit_limit",
        "system": "crm",
        "source_id": conflicts[0].source_id,
        "value": conflicts[0].canonical["credit_limit"],
        "golden_value": erp_limits[conflicts[0].golden_id],
    } in detail["discrepancies"]


@pytest.mark.django_db
def test_second_run_changes_nothing():
    seed()
    records = SourceRecord.objects.count()
    versions = sorted(Customer.objects.values_list("version", flat=True))
    counts = summary(seed())
    assert counts
    assert all(set(actions) == {"unchanged"} for actions in counts.values()), counts
    assert SourceRecord.objects.count() == records
    assert sorted(Customer.objects.values_list("version", flat=True)) == versions


@pytest.mark.django_db
def test_source_systems_are_saved_only_when_they_differ():
    origin = ChangeOrigin.command("seed_demo")
    ensure_source_systems(origin)
    history = SourceSystem.history.count()
    assert history == 5
    ensure_source_systems(origin)
    assert SourceSystem.history.count() == history  # unchanged: no save, no history row
    SourceSystem.objects.filter(code="crm").update(name="Renamed", kind=SourceSystem.Kind.OTHER)
    ensure_source_systems(origin)
    assert SourceSystem.history.count() == history + 1
    crm = SourceSystem.objects.get(code="crm")
    assert (crm.name, crm.kind) == ("CRM (sales accounts)", "crm")
    assert crm.history.latest().actor == os_user()
    assert crm.history.latest().history_change_reason == "seed_demo"


@pytest.mark.django_db
def test_once_loads_an_empty_database_and_then_skips():
    assert "records:" in seed("--once")
    records = SourceRecord.objects.count()
    assert seed("--once").strip() == "Demo data already loaded; skipping."
    assert SourceRecord.objects.count() == records


@pytest.mark.django_db
def test_a_rejected_record_fails_loudly_and_saves_nothing(monkeypatch):
    real = seed_demo.build_payloads

    def with_a_bad_record(seed: int, customers: int, items: int):
        payloads = real(seed, customers, items)
        payloads["customer", "erp"].append({"source_id": "BAD-1", "name": "Bad", "duns": "12"})
        return payloads

    monkeypatch.setattr(seed_demo, "build_payloads", with_a_bad_record)
    with pytest.raises(CommandError, match=r"erp/customer/BAD-1: duns: invalid_duns"):
        seed()
    assert not SourceRecord.objects.exists()


@pytest.mark.parametrize("seed_value", [1, 7, 2024])
def test_every_generated_record_is_valid_for_other_seeds(seed_value):
    payloads = seed_demo.build_payloads(seed_value, 150, 150)
    assert payloads == seed_demo.build_payloads(seed_value, 150, 150)  # deterministic
    for (domain, system), rows in payloads.items():
        spec = get_domain(domain)
        source_ids = [row["source_id"] for row in rows]
        assert len(source_ids) == len(set(source_ids)), (domain, system)
        for row in rows:
            record = prepare_record(spec, row)
            assert record.ok, (domain, system, row, record.errors_as_list())


def test_different_seeds_give_different_data():
    assert seed_demo.build_payloads(1, 20, 20) != seed_demo.build_payloads(2, 20, 20)


@pytest.mark.django_db
def test_ensure_demo_steward_is_idempotent():
    for _ in range(2):
        out = StringIO()
        call_command("ensure_demo_steward", stdout=out)
        assert out.getvalue().strip() == (
            "Demo steward login: steward / steward-demo at http://127.0.0.1:8000/admin/"
        )
    user = get_user_model().objects.get(username="steward")
    assert user.check_password("steward-demo")
    assert user.is_active and user.is_staff and user.is_superuser
    assert set(Group.objects.values_list("name", flat=True)) >= {"steward", "viewer", "admin"}
    assert list(user.groups.values_list("name", flat=True)) == ["steward"]
    assert get_user_model().objects.filter(username="steward").count() == 1


@pytest.mark.django_db
def test_ensure_demo_steward_resets_a_changed_user():
    call_command("ensure_demo_steward", stdout=StringIO())
    user = get_user_model().objects.get(username="steward")
    user.set_password("something-else")
    user.is_superuser = False
    user.is_active = False
    user.save()
    call_command("ensure_demo_steward", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("steward-demo")
    assert user.is_active and user.is_superuser


@pytest.mark.django_db
def test_make_runs_demo_loads_at_its_default_size():
    """`make run` seeds the default world (2,000 customers, 5,000 items): its look-alike items
    that the matcher merges must not make ingest reject the seed (a rejected record fails the
    command and `make run` with it)."""
    out = StringIO()
    call_command("seed_demo", stdout=out)  # raises CommandError on any rejected record

    assert SourceRecord.objects.count() == 38_947
    assert "Golden records: 2,000 customers" in out.getvalue()
