"""Issue 14, finding 1: a steward's correction of a rejected record does not bypass four-eyes.

The resubmitted record is still the source system's: what the steward did not change is
ingested as the system sent it; a four-eyes attribute the steward changed is ingested with the
system's value and the steward's value waits for a second steward (a pending four-eyes approval).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from golden_records.models import RejectedRecord
from stewardship import approvals
from stewardship import exceptions as actions
from stewardship.models import ChangeApproval, StewardDecision
from stewardship.services import StewardshipError
from tests.helpers import golden_of, put
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

ACME = {
    "name": "Acme Industrial GmbH",
    "city": "Berlin",
    "country": "DE",
    "email": "ap@acme.example",
    "credit_limit": "1500.00",
    "credit_currency": "EUR",
}


@pytest.fixture
def steward1():
    return factories.user("steward1", "steward")


@pytest.fixture
def steward2():
    return factories.user("steward2", "steward")


@pytest.fixture
def rejected(api) -> RejectedRecord:
    """ERP's C100008 exists (credit limit 1500.00); ERP sends it again with a bad email."""
    assert put(api["erp"], "erp", "customer", "C100008", ACME).status_code == 201
    response = put(api["erp"], "erp", "customer", "C100008", {**ACME, "email": "not-an-email"})
    assert response.status_code == 400
    return RejectedRecord.objects.get(source_id="C100008")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def resubmit_page(client: Client, rejected: RejectedRecord, **changes: str):
    form = {f"attr_{k}": str(v) for k, v in {**rejected.payload, **changes}.items()}
    url = reverse("stewardship:exception-resubmit", args=[rejected.pk])
    return client.post(url, form, follow=True)


def pending() -> list[ChangeApproval]:
    return list(ChangeApproval.objects.filter(state=ChangeApproval.State.PENDING))


def credit_limit() -> Decimal | None:
    return golden_of("erp", "customer", "C100008").credit_limit


def test_a_four_eyes_value_in_a_correction_waits_for_a_second_steward(rejected, steward1, steward2):
    """The finding, as reported: steward1 fixes the email and raises the credit limit."""
    client = logged_in(steward1)
    response = resubmit_page(
        client, rejected, email="ap@acme-industrial.example", credit_limit="1000000.00"
    )
    assert response.status_code == 200
    golden = golden_of("erp", "customer", "C100008")
    assert golden.credit_limit == Decimal("1500.00")
    assert golden.email == "ap@acme-industrial.example"  # the correction itself is applied
    rejected.refresh_from_db()
    assert (rejected.state, rejected.golden_id) == (RejectedRecord.State.RESUBMITTED, golden.pk)

    [approval] = pending()
    assert (approval.kind, approval.attribute, approval.proposed_by) == (
        ChangeApproval.Kind.FOUR_EYES_EDIT,
        "credit_limit",
        steward1,
    )
    assert Decimal(approval.proposed_value) == Decimal("1000000.00")
    assert Decimal(approval.golden_value) == Decimal("1500.00")
    assert approval.golden_id == golden.pk
    page = response.content.decode()  # the notice names what waits, with a link
    assert "Waiting for a second steward (four-eyes)" in page
    assert f'credit limit 1000000 (<a href="/steward/approvals/{approval.pk}">' in page

    decision = StewardDecision.objects.get()  # one audit row, naming the proposal
    assert decision.action == StewardDecision.Action.RESUBMIT
    assert decision.after["four_eyes_pending"] == [
        {"attribute": "credit_limit", "value": approval.proposed_value, "approval": approval.pk}
    ]
    assert Decimal(decision.after["payload"]["credit_limit"]) == Decimal("1500.00")

    with pytest.raises(StewardshipError) as exc:
        approvals.approve_change(approval.pk, steward1)
    assert exc.value.code == "four_eyes_self_approval"
    decide = reverse("stewardship:approval_decide", args=[approval.pk])
    client.post(decide, {"decision": approvals.APPROVE})
    assert credit_limit() == Decimal("1500.00")

    logged_in(steward2).post(decide, {"decision": approvals.APPROVE})
    approval.refresh_from_db()
    assert (approval.state, approval.decided_by) == (ChangeApproval.State.APPROVED, steward2)
    assert credit_limit() == Decimal("1000000.00")


def test_a_correction_of_ungoverned_attributes_is_applied_as_before(rejected, steward1):
    outcome = actions.resubmit_exception(
        rejected.pk,
        {**rejected.payload, "email": "ap@acme-industrial.example", "city": "Potsdam"},
        steward1,
    )
    assert outcome.ok and outcome.held == []
    golden = golden_of("erp", "customer", "C100008")
    assert (golden.email, golden.city, golden.credit_limit) == (
        "ap@acme-industrial.example",
        "Potsdam",
        Decimal("1500.00"),
    )
    assert not ChangeApproval.objects.exists()
    assert "four_eyes_pending" not in StewardDecision.objects.get().after


def test_the_same_value_written_differently_is_not_a_change(rejected, steward1):
    values = {**rejected.payload, "email": "ap@acme-industrial.example", "credit_limit": "1500"}
    outcome = actions.resubmit_exception(rejected.pk, values, steward1)
    assert outcome.ok and outcome.held == [] and not ChangeApproval.objects.exists()


def test_a_value_the_system_did_not_send_waits_too(api, steward1):
    """A new record without a credit limit: the steward's limit is not ingested as sent."""
    body = {k: v for k, v in ACME.items() if k != "credit_limit"}
    put(api["erp"], "erp", "customer", "C-2", {**body, "email": "not-an-email"})
    rejected = RejectedRecord.objects.get()
    values = {**rejected.payload, "email": "ap@acme.example", "credit_limit": "5000"}
    outcome = actions.resubmit_exception(rejected.pk, values, steward1)
    assert outcome.ok and outcome.record.action == "created"
    assert golden_of("erp", "customer", "C-2").credit_limit is None
    [approval] = outcome.held
    assert approval.state == ChangeApproval.State.PENDING
    assert Decimal(approval.proposed_value) == Decimal("5000")


def test_an_invalid_system_value_keeps_what_the_hub_has(api, steward1):
    """ERP sent a credit limit that is not a number: the steward's number waits, and the
    resubmitted record keeps the limit the hub already had from ERP."""
    put(api["erp"], "erp", "customer", "C100008", ACME)
    put(api["erp"], "erp", "customer", "C100008", {**ACME, "credit_limit": "lots"})
    rejected = RejectedRecord.objects.get()
    values = {**rejected.payload, "credit_limit": "2000", "city": "Potsdam"}
    outcome = actions.resubmit_exception(rejected.pk, values, steward1)
    assert outcome.ok
    golden = golden_of("erp", "customer", "C100008")
    assert (golden.city, golden.credit_limit) == ("Potsdam", Decimal("1500.00"))
    assert [Decimal(a.proposed_value) for a in outcome.held] == [Decimal("2000")]


def test_an_invalid_steward_value_writes_nothing(rejected, steward1):
    values = {**rejected.payload, "email": "ap@acme-industrial.example", "credit_limit": "lots"}
    outcome = actions.resubmit_exception(rejected.pk, values, steward1)
    assert not outcome.ok
    assert [e["field"] for e in outcome.errors] == ["credit_limit"]
    assert golden_of("erp", "customer", "C100008").email == "ap@acme.example"
    assert not ChangeApproval.objects.exists() and not StewardDecision.objects.exists()
    rejected.refresh_from_db()
    assert rejected.state == RejectedRecord.State.OPEN
