"""Background tasks: recompute after a rule change, purge of old idempotency keys."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from golden_records.models import Customer, IdempotencyRecord, OwnershipRule
from golden_records.services.rules import save_ownership_rule
from golden_records.tasks import purge_idempotency_records, recompute_golden_records
from mdm.celery import app
from tests.helpers import golden_of, put

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_rule_change_recomputes_existing_golden_records(
    api, eager, django_capture_on_commit_callbacks
):
    put(api["erp"], "erp", "customer", "C-1", {"name": "Acme ERP", "duns": "150483782"})
    put(api["crm"], "crm", "customer", "A-1", {"name": "Acme CRM", "duns": "150483782"})
    assert golden_of("erp", "customer", "C-1").name == "Acme ERP"

    rule = OwnershipRule.objects.get(domain="customer", attribute="name")
    rule.systems = ["crm", "erp"]
    with django_capture_on_commit_callbacks(execute=True):
        save_ownership_rule(rule)
    golden = golden_of("erp", "customer", "C-1")
    assert golden.name == "Acme CRM"
    row = golden.history.first()
    assert (row.actor_type, row.actor) == ("task", "recompute_golden_records")
    assert row.history_change_reason == "ownership rule customer.name changed"

    # Running it again changes nothing: no new version.
    recompute_golden_records("customer")
    assert golden_of("erp", "customer", "C-1").version == golden.version


def test_recompute_walks_every_batch(api, eager, monkeypatch):
    monkeypatch.setattr("golden_records.tasks.RECOMPUTE_BATCH", 2)
    for i in range(5):
        put(api["erp"], "erp", "customer", f"C-{i}", {"name": f"c{i}", "segment": "x"})
    OwnershipRule.objects.filter(domain="customer", attribute="segment").update(
        strategy="steward_only"
    )
    recompute_golden_records("customer")
    assert set(Customer.objects.values_list("segment", flat=True)) == {""}


def test_invalid_rules_are_refused():
    rule = OwnershipRule(
        domain="customer", attribute="name", strategy="source_priority", systems=[]
    )
    with pytest.raises(ValidationError):
        save_ownership_rule(rule)
    rule = OwnershipRule(domain="customer", attribute="colour", strategy="most_recent")
    with pytest.raises(ValidationError):
        save_ownership_rule(rule)


def test_purge_idempotency_records(api, systems):
    old = IdempotencyRecord.objects.create(system=systems["erp"], key="old", request_hash="x")
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    IdempotencyRecord.objects.create(system=systems["erp"], key="new", request_hash="x")
    assert purge_idempotency_records() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
