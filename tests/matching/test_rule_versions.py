"""Match rules as versioned data: defaults, stored versions, training into a new version."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from golden_records.history import ChangeOrigin
from golden_records.services import ingest_batch
from matching.models import MatchRuleVersion
from matching.rule_versions import active_rules, save_rule_version
from matching.rules import default_rules
from tests.conftest import make_system

pytestmark = pytest.mark.django_db


def test_defaults_until_a_version_is_stored():
    assert active_rules("customer") == default_rules("customer")
    stored = save_rule_version(default_rules("customer"), created_by="test", note="first")
    assert stored.version == default_rules("customer").version + 1
    assert active_rules("customer").version == stored.version
    second = save_rule_version(default_rules("customer"), created_by="test")
    assert list(
        MatchRuleVersion.objects.filter(domain="customer", active=True).values_list(
            "version", flat=True
        )
    ) == [second.version]
    assert MatchRuleVersion.objects.filter(domain="customer").count() == 2


def test_rules_for_another_domain_are_refused():
    from django.core.exceptions import ValidationError

    row = MatchRuleVersion(domain="item", version=9, rules=default_rules("customer").to_json())
    with pytest.raises(ValidationError):
        row.full_clean()


def test_train_matcher_stores_a_trained_version():
    system = make_system("erp")
    records = []
    for i in range(120):
        records.append(
            {
                "source_id": f"C-{i}",
                "name": f"Company {i % 60} Industries",
                "address_line1": f"{100 + i % 60} Main Street",
                "city": "Springfield",
                "postal_code": f"{10000 + i % 60}",
                "country": "US",
            }
        )
    ingest_batch(system, "customer", records, "reject_failed", ChangeOrigin.command("test"))
    call_command("train_matcher", "--domain", "customer")
    row = MatchRuleVersion.objects.get(domain="customer", active=True)
    assert row.created_by == "train_matcher"
    trained = active_rules("customer")
    assert 0 < trained.prior < 1
    for comparison in trained.comparisons:
        assert all(0 < level.m <= 1 and 0 < level.u <= 1 for level in comparison.levels)


def test_train_matcher_needs_data():
    with pytest.raises(CommandError, match="too few"):
        call_command("train_matcher", "--domain", "item")
