"""History is append-only and says who or what changed what, through which channel."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model

from golden_records.history import ChangeOrigin, origin_scope, os_user
from golden_records.models import Customer, OwnershipRule, SourceRecord
from golden_records.services import ingest_batch
from tests.helpers import golden_of, put

pytestmark = pytest.mark.django_db


def test_versions_grow_by_one_and_history_names_the_source(api):
    put(api["erp"], "erp", "customer", "C-1", {"name": "A", "city": "X"})
    put(api["erp"], "erp", "customer", "C-1", {"name": "A", "city": "Y"})
    put(api["crm"], "crm", "customer", "K-1", {"name": "A", "city": "Z"})  # not linked: new golden
    golden = golden_of("erp", "customer", "C-1")
    rows = list(golden.history.order_by("history_id"))
    assert [r.version for r in rows] == [1, 2]
    assert [r.history_type for r in rows] == ["+", "~"]
    assert [(r.actor_type, r.actor, r.channel) for r in rows] == [
        ("source_system", "erp", "api")
    ] * 2
    assert rows[0].changed_fields == ["name", "city"]
    assert rows[1].changed_fields == ["city"]
    assert rows[1].city == "Y"

    source_rows = list(SourceRecord.objects.get(source_id="C-1").history.order_by("history_id"))
    assert [r.history_type for r in source_rows] == ["+", "~"]
    assert source_rows[1].changed_fields == ["city"]
    assert source_rows[0].payload == {"name": "A", "city": "X"}


def test_command_origin(systems):
    origin = ChangeOrigin.command("import_records", reason="import customers.csv")
    ingest_batch(
        systems["erp"], "customer", [{"source_id": "1", "name": "A"}], "reject_failed", origin
    )
    row = Customer.history.get()
    assert (row.actor_type, row.actor, row.channel) == ("command", os_user(), "command")
    assert row.history_change_reason == "import_records: import customers.csv"


def test_rule_edits_record_the_user():
    user = get_user_model().objects.create_user("admin1")
    rule = OwnershipRule.objects.get(domain="customer", attribute="name")
    rule._history_user = user
    rule.systems = ["crm", "erp"]
    rule.save()
    row = rule.history.first()
    assert (row.actor_type, row.actor, row.channel) == ("steward", "admin1", "admin")

    with origin_scope(ChangeOrigin.task("recompute")):
        rule.systems = ["erp"]
        rule.save()
    row = rule.history.first()
    assert (row.actor_type, row.actor, row.channel) == ("task", "recompute", "task")


def test_every_model_has_an_admin():
    """Meta-test: a new model without an admin page fails here. Django's admin cannot show
    models with a composite primary key (BlockKey: hashes, read through MatchProfile)."""
    from django.db.models import CompositePrimaryKey

    missing = [
        model._meta.label
        for app in ("golden_records", "matching", "stewardship", "sync")
        for model in apps.get_app_config(app).get_models()
        if not model._meta.label.split(".")[1].startswith("Historical")
        and not isinstance(model._meta.pk, CompositePrimaryKey)
        and not admin.site.is_registered(model)
    ]
    assert missing == []
