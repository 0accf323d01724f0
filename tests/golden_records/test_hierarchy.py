"""The customer hierarchy stays acyclic: ingest, merge, unmerge and steward overrides (issue 14,
finding 5: a merge made a customer its own parent and child)."""

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_records.attributes import AttributeValueError
from golden_records.history import ChangeOrigin
from golden_records.models import Customer, GoldenStatus, SourceRecord
from golden_records.services import MergeError, merge_golden, set_override, unmerge
from golden_records.services.ingest import ingest_record
from stewardship.records import hierarchy
from tests.helpers import error_codes, golden_of, put

pytestmark = pytest.mark.django_db

NAMES = ["Alpha Holding", "Bravo Trading", "Charlie Foods", "Delta Marine", "Echo Textiles"]


@pytest.fixture
def steward():
    return get_user_model().objects.create_user("stew", password="x")


def assert_acyclic():
    """From every active customer, the golden parent pointers never revisit a record."""
    parent_of = dict(Customer.objects.values_list("pk", "parent_id"))
    for start in Customer.objects.filter(record_status=GoldenStatus.ACTIVE).values_list(
        "pk", flat=True
    ):
        seen = set()
        node = start
        while node is not None:
            assert node not in seen, f"cycle through {node} starting at {start}"
            seen.add(node)
            node = parent_of[node]


def test_merge_with_the_parent_does_not_make_the_survivor_its_own_parent(api, steward):
    put(api["crm"], "crm", "customer", "Y-1", {"name": "Acme Holding"})
    put(api["crm"], "crm", "customer", "X-1", {"name": "Acme Berlin", "parent": "Y-1"})
    parent, child = golden_of("crm", "customer", "Y-1"), golden_of("crm", "customer", "X-1")
    assert child.parent_id == parent.pk

    merge_golden("customer", parent.pk, [child.pk], ChangeOrigin.steward(steward))

    parent.refresh_from_db()
    assert parent.parent_id != parent.pk
    assert parent.parent_id is None
    shown = hierarchy(parent)
    assert shown["parent"] is None
    assert parent not in shown["children"]
    assert parent.lineage["parent"]["refused"] == "cyclic_reference"
    assert parent.lineage["parent"]["refused_value"] == str(parent.pk)
    assert_acyclic()


def test_merge_into_the_child_does_not_make_it_its_own_parent(api, steward):
    put(api["crm"], "crm", "customer", "Y-1", {"name": "Acme Holding"})
    put(api["crm"], "crm", "customer", "X-1", {"name": "Acme Berlin", "parent": "Y-1"})
    parent, child = golden_of("crm", "customer", "Y-1"), golden_of("crm", "customer", "X-1")

    merge_golden("customer", child.pk, [parent.pk], ChangeOrigin.steward(steward))

    child.refresh_from_db()
    assert child.parent_id is None
    assert child not in hierarchy(child)["children"]
    assert_acyclic()


def test_unmerge_restores_the_parent(api, steward):
    put(api["crm"], "crm", "customer", "Y-1", {"name": "Acme Holding"})
    put(api["crm"], "crm", "customer", "X-1", {"name": "Acme Berlin", "parent": "Y-1"})
    parent = golden_of("crm", "customer", "Y-1")
    merge_golden(
        "customer",
        parent.pk,
        [golden_of("crm", "customer", "X-1").pk],
        ChangeOrigin.steward(steward),
    )
    x1 = SourceRecord.objects.get(source_id="X-1")
    new_id = unmerge("customer", parent.pk, [x1.pk], ChangeOrigin.steward(steward))
    assert Customer.objects.get(pk=new_id).parent_id == parent.pk
    assert Customer.objects.get(pk=parent.pk).parent_id is None
    assert_acyclic()


def test_ingest_of_a_record_that_is_its_own_parent_is_refused(api):
    response = put(api["crm"], "crm", "customer", "X-1", {"name": "Acme", "parent": "X-1"})
    assert response.status_code == 400
    assert error_codes(response) == {"parent": {"cyclic_reference"}}
    assert not SourceRecord.objects.exists()


def test_ingest_that_closes_a_cycle_is_refused(api):
    put(api["crm"], "crm", "customer", "A-1", {"name": "Alpha Holding"})
    put(api["crm"], "crm", "customer", "B-1", {"name": "Bravo Trading", "parent": "A-1"})
    response = put(api["crm"], "crm", "customer", "A-1", {"name": "Alpha Holding", "parent": "B-1"})
    assert response.status_code == 400
    assert error_codes(response) == {"parent": {"cyclic_reference"}}
    assert golden_of("crm", "customer", "A-1").parent_id is None
    assert golden_of("crm", "customer", "B-1").parent_id == golden_of("crm", "customer", "A-1").pk
    assert_acyclic()


def test_a_cycle_closed_within_one_batch_is_not_applied(systems):
    origin = ChangeOrigin.source_system("crm")
    crm = systems["crm"]
    ingest_record(crm, "customer", "A-1", {"name": "Alpha Holding", "parent": "B-1"}, origin)
    ingest_record(crm, "customer", "B-1", {"name": "Bravo Trading", "parent": "A-1"}, origin)
    # A-1's pending reference resolved when B-1 arrived: one of the two is not applied.
    a, b = golden_of("crm", "customer", "A-1"), golden_of("crm", "customer", "B-1")
    assert (a.parent_id, b.parent_id).count(None) == 1
    refused = a if a.parent_id is None else b
    assert refused.lineage["parent"]["refused"] == "cyclic_reference"
    assert_acyclic()


def test_steward_override_closing_a_cycle_is_refused(api, steward):
    put(api["crm"], "crm", "customer", "A-1", {"name": "Alpha Holding"})
    put(api["crm"], "crm", "customer", "B-1", {"name": "Bravo Trading", "parent": "A-1"})
    a, b = golden_of("crm", "customer", "A-1"), golden_of("crm", "customer", "B-1")
    with pytest.raises(AttributeValueError) as raised:
        set_override("customer", a.pk, "parent", str(b.pk), steward)
    assert raised.value.code == "cyclic_reference"
    with pytest.raises(AttributeValueError) as raised:
        set_override("customer", a.pk, "parent", str(a.pk), steward)
    assert raised.value.code == "cyclic_reference"
    a.refresh_from_db()
    assert (a.parent_id, a.version) == (None, 1)
    assert_acyclic()


# -- property: random ingests, merges and unmerges never close a cycle ------------------------

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("ingest"),
            st.integers(0, len(NAMES) - 1),
            st.one_of(st.none(), st.integers(0, len(NAMES) - 1)),
        ),
        st.tuples(st.just("merge"), st.integers(0, 20), st.integers(0, 20)),
        st.tuples(st.just("unmerge"), st.integers(0, 20), st.just(None)),
    ),
    min_size=1,
    max_size=12,
)


def _run(systems, steward, steps):
    crm = systems["crm"]
    origin = ChangeOrigin.source_system("crm")
    as_steward = ChangeOrigin.steward(steward)
    for op, a, b in steps:
        if op == "ingest":
            payload = {"name": NAMES[a]}
            if b is not None:
                payload["parent"] = f"C-{b}"
            ingest_record(crm, "customer", f"C-{a}", payload, origin)
        else:
            active = sorted(
                Customer.objects.filter(record_status=GoldenStatus.ACTIVE).values_list(
                    "pk", flat=True
                )
            )
            if op == "merge" and len(active) >= 2:
                survivor, merged = active[a % len(active)], active[b % len(active)]
                if survivor != merged:
                    merge_golden("customer", survivor, [merged], as_steward)
            elif op == "unmerge":
                shared = [
                    sr
                    for sr in SourceRecord.objects.filter(domain="customer").order_by("pk")
                    if SourceRecord.objects.filter(golden_id=sr.golden_id).count() > 1
                ]
                if shared:
                    record = shared[a % len(shared)]
                    with contextlib.suppress(MergeError):
                        unmerge("customer", record.golden_id, [record.pk], as_steward)
        assert_acyclic()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_random_ingests_merges_and_unmerges_keep_the_hierarchy_acyclic(systems, steward, steps):
    with transaction.atomic():  # a savepoint per example: each starts from no customers
        _run(systems, steward, steps)
        transaction.set_rollback(True)
