"""field__any: the same rows as field__in, with the list sent as one array on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from golden_records.history import ChangeOrigin
from golden_records.lookups import array_literal
from golden_records.models import GOLDEN_MODELS, SourceRecord
from golden_records.services import ingest_batch
from tests.conftest import make_system

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]


@pytest.fixture
def records():
    ingest_batch(
        make_system("erp"),
        "customer",
        [{"source_id": f"C-{i}", "name": f"Company {chr(65 + i)}{i * 7}"} for i in range(6)],
        "reject_all",
        ChangeOrigin.command("test"),
    )
    return list(SourceRecord.objects.order_by("pk"))


@pytest.mark.parametrize("field", ["source_id", "pk", "golden_id", "system"])
def test_any_finds_what_in_finds(records, field):
    values = [getattr(r, field if field != "system" else "system_id") for r in records[1:4]]
    lookup = field if field != "system" else "system_id"
    expected = set(SourceRecord.objects.filter(**{f"{lookup}__in": values}))
    assert set(SourceRecord.objects.filter(**{f"{lookup}__any": values})) == expected


def test_any_with_nothing_or_unknown_values(records):
    assert not SourceRecord.objects.filter(source_id__any=[]).exists()
    assert not Customer.objects.filter(pk__any=[uuid.uuid4()]).exists()


def test_any_sends_one_parameter_on_postgresql(records):
    ids = [r.pk for r in records]
    with CaptureQueriesContext(connection) as ctx:
        list(SourceRecord.objects.filter(pk__any=ids))
    sql = ctx.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql


AWKWARD_TEXT = [
    "plain",
    'quo"te',
    "back\\slash",
    "com,ma",
    "{brace}",
    " spaced ",
    "NULL",
    "",
    "é✓",
    "it's",
    "tab\there",
]


def test_any_finds_source_ids_with_any_characters():
    outcome = ingest_batch(
        make_system("erp"),
        "customer",
        [{"source_id": sid, "name": f"Company {i}"} for i, sid in enumerate(AWKWARD_TEXT)],
        "reject_failed",
        ChangeOrigin.command("test"),
    )
    stored = list(SourceRecord.objects.values_list("source_id", flat=True))
    assert {'quo"te', "back\\slash", "com,ma", "{brace}", "NULL", "it's"} <= set(stored)
    assert len(stored) == sum(1 for r in outcome.records if r.ok)
    found = SourceRecord.objects.filter(source_id__any=stored).values_list("source_id", flat=True)
    assert sorted(found) == sorted(stored)
    assert not SourceRecord.objects.filter(source_id__any=['quo"te ', "back\\\\slash"]).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "values, cast",
    [
        ([*AWKWARD_TEXT, None], "text"),
        ([0, -1, 2**62, None], "bigint"),
        ([uuid.uuid4(), uuid.uuid4()], "uuid"),
        ([], "text"),
    ],
)
def test_array_literal_reads_back_as_the_same_values(values, cast):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{cast}[]", [array_literal(values)])
        (back,) = cursor.fetchone()
    assert back == values
