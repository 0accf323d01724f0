"""Change approvals: governed changes from non-owners raised by ingest (set-wise), approve /
reject / supersede, four-eyes steward edits, two stewards deciding the same approval, and the
pages (permissions on every view, queue, approval page, bulk flow, edit form)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    OwnershipRule,
    SourceRecord,
)
from golden_records.services import ingest_batch, merge_golden
from golden_records.services.governance import record_non_owner_changes
from golden_records.services.rules import save_ownership_rule
from stewardship import approvals
from stewardship.models import ChangeApproval, StewardDecision
from sync.models import OutboxEvent
from tests.conftest import make_system
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
Price = GOLDEN_MODELS["price"]
State = ChangeApproval.State


def send(system: str, *records: dict, domain: str = "customer"):
    """Ingest ``records`` from ``system`` (customers linked by their DUNS number)."""
    payloads = [{"duns": "150483782", **r} if domain == "customer" else r for r in records]
    outcome = ingest_batch(
        make_system(system),
        domain,
        payloads,
        "reject_all",
        ChangeOrigin.source_system(system),
    )
    assert all(r.ok for r in outcome.records), [r.errors for r in outcome.records]
    return outcome


def golden(source_id: str = "C-1", system: str = "erp"):
    record = SourceRecord.objects.get(system__code=system, source_id=source_id)
    return Customer.objects.get(pk=record.golden_id)


def pending() -> list[ChangeApproval]:
    return list(ChangeApproval.objects.filter(state=State.PENDING).order_by("id"))


@pytest.fixture
def alice():
    return factories.user("alice", "steward")


@pytest.fixture
def bob():
    return factories.user("bob", "steward")


@pytest.fixture
def crm_change():
    """ERP owns the credit limit (5000); CRM sends 99999 for the same customer."""
    send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
    send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
    [approval] = pending()
    return approval


class TestRaisedByIngest:
    def test_a_non_owner_change_to_a_governed_attribute_waits(self, crm_change):
        customer = golden()
        assert customer.credit_limit == Decimal("5000")
        assert crm_change.kind == ChangeApproval.Kind.NON_OWNER_CHANGE
        assert crm_change.golden_id == customer.pk
        assert crm_change.attribute == "credit_limit"
        assert (crm_change.proposed_value, crm_change.golden_value) == ("99999", "5000")
        assert crm_change.system.code == "crm"
        assert crm_change.source_record.source_id == "A-1"
        assert crm_change.proposed_by_name == "crm"

    def test_owner_changes_and_ungoverned_attributes_raise_nothing(self, crm_change):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "6000", "city": "Ulm"})
        send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999", "city": "Bonn"})
        assert [(a.pk, a.attribute) for a in pending()] == [(crm_change.pk, "credit_limit")]

    def test_an_unchanged_resend_does_not_raise_it_again(self, crm_change):
        outcome = send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
        assert outcome.records[0].action == "unchanged"
        # Changed elsewhere, same credit limit: the pending proposal stays the only one.
        send("crm", {"source_id": "A-1", "name": "Acme Corp", "credit_limit": "99999"})
        assert [a.pk for a in pending()] == [crm_change.pk]

    def test_a_newer_value_from_the_same_record_supersedes_the_older(self, crm_change):
        send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "88888"})
        crm_change.refresh_from_db()
        assert crm_change.state == State.SUPERSEDED
        assert "another value" in crm_change.note
        [newer] = pending()
        assert newer.proposed_value == "88888"

    def test_a_proposal_the_golden_value_came_to_equal_is_superseded(self, crm_change):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "99999"})
        crm_change.refresh_from_db()
        assert crm_change.state == State.SUPERSEDED
        assert "already equals" in crm_change.note
        assert pending() == []

    def test_a_source_that_comes_back_in_line_withdraws_its_proposal(self, crm_change):
        send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "5000"})
        crm_change.refresh_from_db()
        assert crm_change.state == State.SUPERSEDED
        assert pending() == []

    def test_nothing_is_raised_when_no_rule_is_governed(self):
        OwnershipRule.objects.filter(domain="customer").update(governed=False)
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
        assert not ChangeApproval.objects.exists()

    def test_governance_is_data_on_the_rule(self):
        governed = set(
            OwnershipRule.objects.filter(governed=True).values_list("domain", "attribute")
        )
        assert {("customer", "credit_limit"), ("customer", "payment_terms")} <= governed
        assert ("price", "unit_price") in governed
        four_eyes = set(
            OwnershipRule.objects.filter(four_eyes=True).values_list("domain", "attribute")
        )
        assert ("customer", "credit_limit") in four_eyes and ("price", "unit_price") in four_eyes
        assert ("customer", "name") not in governed | four_eyes
        rule = OwnershipRule.objects.get(domain="customer", attribute="credit_limit")
        assert not rule.is_owner("crm") and rule.is_owner("erp")

    def test_a_non_owner_price_change_waits(self):
        erp = {"item": "I-1", "price_list": "LIST", "currency": "EUR", "valid_from": "2026-01-01"}
        send("erp", {"source_id": "I-1", "sku": "SKU-1", "name": "Bolt"}, domain="item")
        send("ecom", {"source_id": "I-1", "sku": "SKU-1", "name": "Bolt"}, domain="item")
        send("erp", {"source_id": "P-1", "unit_price": "10.50", **erp}, domain="price")
        send("ecom", {"source_id": "P-9", "unit_price": "9.99", **erp}, domain="price")
        [approval] = pending()
        assert approval.domain == "price" and approval.attribute == "unit_price"
        assert (approval.proposed_value, approval.golden_value) == ("9.99", "10.5")
        assert Price.objects.get(pk=approval.golden_id).unit_price == Decimal("10.5")


class TestMergedRecords:
    @pytest.fixture
    def merged(self):
        """CRM's customer arrives without the DUNS number: its own golden record, its credit
        limit waiting for approval; then a steward merges it into ERP's."""
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        ingest_batch(
            make_system("crm"),
            "customer",
            [{"source_id": "A-9", "name": "Acme", "credit_limit": "99999"}],
            "reject_all",
            ChangeOrigin.source_system("crm"),
        )
        [approval] = pending()
        merge_golden("customer", golden().pk, [approval.golden_id], ChangeOrigin.command("t"))
        return approval

    def test_approving_applies_to_the_survivor(self, merged, alice):
        assert merged.golden_id != golden().pk
        decision = approvals.approve_change(merged.pk, alice)
        assert golden().credit_limit == Decimal("99999")
        assert decision.golden_id == golden().pk

    def test_a_new_value_from_the_merged_record_replaces_its_proposal(self, merged):
        ingest_batch(
            make_system("crm"),
            "customer",
            [{"source_id": "A-9", "name": "Acme", "credit_limit": "88888"}],
            "reject_all",
            ChangeOrigin.source_system("crm"),
        )
        merged.refresh_from_db()
        assert merged.state == State.SUPERSEDED
        [newer] = pending()
        assert (newer.golden_id, newer.proposed_value) == (golden().pk, "88888")


class TestRules:
    def test_governance_flags_are_saved_with_history(self):
        rule = OwnershipRule.objects.get(domain="customer", attribute="segment")
        rule.governed, rule.four_eyes = True, True
        save_ownership_rule(rule)
        rule.refresh_from_db()
        assert rule.governed and rule.four_eyes
        assert rule.history.first().four_eyes is True


class TestSetWise:
    def _written(self, n: int) -> list[SourceRecord]:
        erp = [
            {"source_id": f"C-{i}", "duns": f"{i:09d}", "name": f"Co {i}", "credit_limit": "5000"}
            for i in range(n)
        ]
        crm = [
            {
                "source_id": f"A-{i}",
                "duns": f"{i:09d}",
                "name": f"Co {i}",
                "credit_limit": "7000",
                "payment_terms": "NET90",
            }
            for i in range(n)
        ]
        ingest_batch(make_system("erp"), "customer", erp, "reject_all", ChangeOrigin.command("t"))
        ingest_batch(make_system("crm"), "customer", crm, "reject_all", ChangeOrigin.command("t"))
        ChangeApproval.objects.all().delete()
        return list(SourceRecord.objects.filter(system__code="crm"))

    def _queries(self, n: int) -> int:
        written = self._written(n)
        spec, crm = get_domain("customer"), make_system("crm")
        with CaptureQueriesContext(connection) as ctx:
            raised = record_non_owner_changes(spec, crm, written, written[0].received_at)
        assert raised == 2 * n
        ChangeApproval.objects.all().delete()
        SourceRecord.objects.all().delete()
        return len(ctx.captured_queries)

    def test_the_query_count_does_not_grow_with_the_batch(self):
        small, large = self._queries(3), self._queries(60)
        assert small == large <= 6

    def test_one_query_when_nothing_is_governed(self):
        written = self._written(5)
        OwnershipRule.objects.update(governed=False)
        spec, crm = get_domain("customer"), make_system("crm")
        with CaptureQueriesContext(connection) as ctx:
            raised = record_non_owner_changes(spec, crm, written, written[0].received_at)
        assert raised == 0 and len(ctx.captured_queries) == 1

    def test_a_whole_ingest_batch_costs_the_same_queries_for_more_records(self):
        def batch_queries(offset: int, n: int) -> int:
            erp = [
                {"source_id": f"C-{i}", "duns": f"{i:09d}", "name": "Co", "credit_limit": "5000"}
                for i in range(offset, offset + n)
            ]
            crm = [
                {"source_id": f"A-{i}", "duns": f"{i:09d}", "name": "Co", "credit_limit": "9"}
                for i in range(offset, offset + n)
            ]
            ingest_batch(
                make_system("erp"), "customer", erp, "reject_all", ChangeOrigin.command("t")
            )
            with CaptureQueriesContext(connection) as ctx:
                ingest_batch(
                    make_system("crm"), "customer", crm, "reject_all", ChangeOrigin.command("t")
                )
            return len(ctx.captured_queries)

        batch_queries(5000, 2)  # warm-up: caches filled on a process's first batch
        assert batch_queries(0, 5) == batch_queries(1000, 50)
        assert ChangeApproval.objects.filter(state=State.PENDING).count() == 57


class TestApproveReject:
    def test_approve_makes_it_the_golden_value_as_an_override(self, crm_change, alice):
        before = golden()
        events = OutboxEvent.objects.filter(golden_id=before.pk).count()
        decision = approvals.approve_change(crm_change.pk, alice, "confirmed by finance")

        customer = golden()
        assert customer.credit_limit == Decimal("99999")
        assert customer.version == before.version + 1
        assert customer.lineage["credit_limit"]["rule"] == "override"
        override = AttributeOverride.objects.get(golden_id=customer.pk)
        assert (override.attribute, override.value, override.set_by) == (
            "credit_limit",
            "99999",
            alice,
        )
        assert f"approved change {crm_change.pk} from crm A-1" == override.reason
        history = customer.history.first()
        assert history.actor == "alice" and "from crm A-1" in history.history_change_reason
        # Propagated: a new outbox event carries the approved value.
        assert OutboxEvent.objects.filter(golden_id=customer.pk).count() == events + 1
        event = OutboxEvent.objects.filter(golden_id=customer.pk).order_by("-version").first()
        assert event.version == customer.version

        crm_change.refresh_from_db()
        assert crm_change.state == State.APPROVED
        assert (crm_change.decided_by, crm_change.note) == (alice, "confirmed by finance")
        assert decision.action == "approve_change" and decision.approval == crm_change
        assert decision.before["value"] == "5000" and decision.after["value"] == "99999"
        assert decision.golden_id == customer.pk

    def test_reject_keeps_the_golden_value_and_the_discrepancy(self, crm_change, alice):
        approvals.reject_change(crm_change.pk, alice, "CRM is not the credit system")
        customer = golden()
        assert customer.credit_limit == Decimal("5000")
        assert not AttributeOverride.objects.exists()
        crm_change.refresh_from_db()
        assert crm_change.state == State.REJECTED
        assert SourceRecord.objects.get(source_id="A-1").canonical["credit_limit"] == "99999"
        assert StewardDecision.objects.get().action == "reject_change"
        # Re-sending the same value does not raise it again (the payload is unchanged).
        send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
        assert pending() == []

    def test_the_state_machine_refuses_invalid_moves(self, crm_change, alice):
        approvals.reject_change(crm_change.pk, alice)
        crm_change.refresh_from_db()
        with pytest.raises(ValueError):
            crm_change.move_to(State.APPROVED)
        with pytest.raises(ValueError):
            crm_change.move_to(State.PENDING)
        assert crm_change.can_move_to(State.SUPERSEDED) is False


class TestTwoStewards:
    def test_the_second_sees_who_decided_and_when(self, crm_change, alice, bob):
        approvals.approve_change(crm_change.pk, alice)
        version = golden().version
        with pytest.raises(approvals.ApprovalAlreadyDecided) as exc:
            approvals.reject_change(crm_change.pk, bob)
        assert exc.value.code == "approval_not_pending"
        assert exc.value.decided_by == "alice"
        assert "already approved by alice at " in exc.value.message
        with pytest.raises(approvals.ApprovalAlreadyDecided):
            approvals.approve_change(crm_change.pk, bob)
        assert golden().version == version
        assert StewardDecision.objects.count() == 1
        assert AttributeOverride.objects.count() == 1

    def test_bulk_reports_those_decided_meanwhile(self, alice, bob):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        send(
            "crm",
            {"source_id": "A-1", "name": "Acme", "credit_limit": "1", "payment_terms": "NET90"},
        )
        first, second = pending()
        approvals.reject_change(first.pk, bob)
        outcomes = approvals.decide_many([first.pk, second.pk], "approve", alice)
        assert [(o.review_id, o.ok) for o in outcomes] == [(first.pk, False), (second.pk, True)]
        assert "by bob" in outcomes[0].message
        assert golden().payment_terms == "NET90"
        assert StewardDecision.objects.get(approval=second).bulk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_threads_approving_at_once_apply_it_once():
    send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
    send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
    [approval] = pending()
    stewards = [factories.user("alice", "steward"), factories.user("bob", "steward")]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(user):
        try:
            barrier.wait()
            approvals.approve_change(approval.pk, user)
            results.append("approved")
        except approvals.ApprovalAlreadyDecided as exc:
            results.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in stewards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("approved") == 1
    [refused] = [r for r in results if r != "approved"]
    assert "already approved by" in refused
    assert StewardDecision.objects.count() == 1
    assert golden().version == 2
    assert AttributeOverride.objects.get().value == "99999"


class TestStewardEdits:
    def test_a_four_eyes_edit_waits_for_a_second_steward(self, alice, bob):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        customer = golden()
        events = OutboxEvent.objects.count()
        outcome = approvals.propose_edit(
            "customer", customer.pk, "credit_limit", "7500.00", alice, "raise"
        )
        assert not outcome.applied
        approval = outcome.approval
        assert (approval.kind, approval.state) == ("four_eyes_edit", "pending")
        assert (approval.proposed_value, approval.golden_value) == ("7500", "5000")
        assert golden().credit_limit == Decimal("5000") and golden().version == customer.version
        assert OutboxEvent.objects.count() == events  # nothing propagated
        assert outcome.decision.action == "propose_edit"

        with pytest.raises(approvals.StewardshipError) as exc:
            approvals.approve_change(approval.pk, alice)
        assert exc.value.code == "four_eyes_self_approval"
        assert golden().credit_limit == Decimal("5000")

        approvals.approve_change(approval.pk, bob)
        assert golden().credit_limit == Decimal("7500")
        assert OutboxEvent.objects.count() == events + 1
        actions = list(
            StewardDecision.objects.filter(golden_id=customer.pk).values_list(
                "action", "actor_name"
            )
        )
        assert actions == [("propose_edit", "alice"), ("approve_change", "bob")]
        assert AttributeOverride.objects.get().reason == (
            f"approved change {approval.pk} from steward alice"
        )

    def test_a_newer_edit_by_the_same_steward_supersedes_the_older(self, alice):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        first = approvals.propose_edit(
            "customer", golden().pk, "credit_limit", "6000", alice
        ).approval
        second = approvals.propose_edit(
            "customer", golden().pk, "credit_limit", "6500", alice
        ).approval
        first.refresh_from_db()
        assert first.state == State.SUPERSEDED
        assert [a.pk for a in pending()] == [second.pk]

    def test_other_attributes_are_applied_at_once(self, alice):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        customer = golden()
        outcome = approvals.propose_edit("customer", customer.pk, "segment", "Key account", alice)
        assert outcome.applied and outcome.version == customer.version + 1
        assert golden().segment == "Key account"
        assert not ChangeApproval.objects.exists()
        assert outcome.decision.action == "edit"

    def test_an_applied_edit_supersedes_proposals_it_settles(self, crm_change, alice):
        OwnershipRule.objects.filter(attribute="credit_limit").update(four_eyes=False)
        approvals.propose_edit("customer", golden().pk, "credit_limit", "99999", alice)
        crm_change.refresh_from_db()
        assert crm_change.state == State.SUPERSEDED

    @pytest.mark.parametrize(
        "attribute,value,code",
        [
            ("credit_limit", "lots", "invalid_number"),
            ("credit_limit", "-5", "negative_value"),
            ("credit_currency", "QQQ", "invalid_currency"),
            ("nonsense", "x", "invalid_attribute"),
            ("name", "Acme", "value_unchanged"),
        ],
    )
    def test_a_bad_value_gets_a_per_field_error_and_writes_nothing(
        self, alice, attribute, value, code
    ):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        with pytest.raises(approvals.InvalidValue) as exc:
            approvals.propose_edit("customer", golden().pk, attribute, value, alice)
        assert exc.value.code == code
        assert exc.value.field in (attribute, "attribute")
        assert not ChangeApproval.objects.exists() and not StewardDecision.objects.exists()


# -- the pages ----------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def urls(approval: ChangeApproval) -> dict[str, tuple[str, str, dict]]:
    """Every view: name -> (method, url, data)."""
    edit = reverse("stewardship:record_edit", args=["customer", approval.golden_id])
    return {
        "queue": ("get", reverse("stewardship:approvals"), {}),
        "approval": ("get", reverse("stewardship:approval", args=[approval.pk]), {}),
        "edit": ("get", edit, {}),
        "bulk": (
            "post",
            reverse("stewardship:approval_bulk"),
            {"action": "reject", "ids": [approval.pk], "confirm": "1"},
        ),
        "decide": (
            "post",
            reverse("stewardship:approval_decide", args=[approval.pk]),
            {"decision": "reject"},
        ),
        "edit_post": ("post", edit, {"attribute": "segment", "value": "SMB"}),
    }


VIEWS = ["queue", "approval", "edit", "bulk", "decide", "edit_post"]
READS = {"queue", "approval", "edit"}


class TestPermissions:
    @pytest.mark.parametrize("view", VIEWS)
    def test_anonymous_goes_to_the_login_page(self, crm_change, view):
        method, url, data = urls(crm_change)[view]
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    @pytest.mark.parametrize("view", VIEWS)
    def test_a_user_without_a_role_gets_403(self, crm_change, view):
        method, url, data = urls(crm_change)[view]
        assert getattr(client_for(factories.user("nobody")), method)(url, data).status_code == 403

    @pytest.mark.parametrize("view", VIEWS)
    def test_viewer_reads_but_does_not_act(self, crm_change, view):
        method, url, data = urls(crm_change)[view]
        viewer = factories.user("vic", "viewer")
        response = getattr(client_for(viewer), method)(url, data)
        assert response.status_code == (200 if view in READS else 403)
        crm_change.refresh_from_db()
        assert crm_change.state == State.PENDING
        assert not StewardDecision.objects.exists() and not AttributeOverride.objects.exists()

    @pytest.mark.parametrize(
        "groups,superuser", [(("steward",), False), (("admin",), False), ((), True)]
    )
    @pytest.mark.parametrize("view", VIEWS)
    def test_steward_admin_and_superuser_act(self, crm_change, view, groups, superuser):
        method, url, data = urls(crm_change)[view]
        actor = factories.user("actor", *groups, superuser=superuser)
        response = getattr(client_for(actor), method)(url, data)
        assert response.status_code in (200, 302)
        if view not in READS:
            assert StewardDecision.objects.filter(actor=actor).exists()

    def test_viewer_sees_no_action_buttons(self, crm_change):
        viewer = client_for(factories.user("vic", "viewer"))
        page = viewer.get(reverse("stewardship:approval", args=[crm_change.pk])).content
        assert b'id="approve-btn"' not in page and b"deciding needs the steward role" in page
        queue = viewer.get(reverse("stewardship:approvals")).content
        assert b'name="ids"' not in queue and b"Approve selected" not in queue
        edit = viewer.get(urls(crm_change)["edit"][1]).content
        assert b'id="edit-form"' not in edit and b"editing needs the steward role" in edit

    def test_actions_need_post_and_csrf(self, crm_change, alice):
        url = reverse("stewardship:approval_decide", args=[crm_change.pk])
        assert client_for(alice).get(url).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(alice)
        assert strict.post(url, {"decision": "approve"}).status_code == 403
        edit = urls(crm_change)["edit_post"]
        assert strict.post(edit[1], edit[2]).status_code == 403
        crm_change.refresh_from_db()
        assert crm_change.state == State.PENDING


class TestQueuePage:
    @pytest.fixture
    def mixed(self, alice):
        """Two CRM changes (credit limit, payment terms), one eCommerce change to another
        customer, one four-eyes edit by alice."""
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        send(
            "crm",
            {"source_id": "A-1", "name": "Acme", "credit_limit": "1", "payment_terms": "NET90"},
        )
        send(
            "erp",
            {"source_id": "C-2", "duns": "081466849", "name": "Globex", "credit_limit": "10"},
        )
        send(
            "ecom",
            {"source_id": "W-2", "duns": "081466849", "name": "Globex", "credit_hold": "yes"},
        )
        approvals.propose_edit("customer", golden().pk, "credit_limit", "6000", alice)
        return pending()

    def test_lists_pending_changes_with_counts(self, mixed, alice):
        response = client_for(alice).get(reverse("stewardship:approvals"))
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count("data-approval=") == 4
        assert 'data-nav="approvals"' in html
        ctx = response.context
        assert ctx["approval_counts"] == {"pending": 4, "non_owner": 3, "four_eyes": 1}
        assert "Acme" in html and "Globex" in html and "NET90" in html

    def test_filters_by_kind_domain_system_and_age(self, mixed, alice):
        client = client_for(alice)
        url = reverse("stewardship:approvals")

        def ids(**params):
            return [r.pk for r in client.get(url, params).context["rows"]]

        assert len(ids(view="four_eyes")) == 1
        assert len(ids(view="non_owner")) == 3
        assert len(ids(system="ecom")) == 1
        assert len(ids(system="steward")) == 1
        assert len(ids(domain="price")) == 0
        assert len(ids(age="older7d")) == 0 and len(ids(age="1d")) == 4
        assert ids(sort="-age") == list(reversed(ids(sort="age")))
        assert len(ids(system="nonsense")) == 4  # an invalid filter is ignored

    def test_htmx_gets_the_table_only(self, mixed, alice):
        response = client_for(alice).get(
            reverse("stewardship:approvals"), {"domain": "customer"}, HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="queue">') and "<html" not in html

    def test_decided_view_shows_outcome(self, mixed, alice, bob):
        approvals.reject_change(mixed[0].pk, bob, "no")
        rows = client_for(alice).get(reverse("stewardship:approvals"), {"view": "decided"})
        assert [r.pk for r in rows.context["rows"]] == [mixed[0].pk]
        assert b"by bob" in rows.content

    def test_query_count_does_not_grow_with_the_page(self, alice):
        send(
            "erp",
            *[
                {"source_id": f"C-{i}", "duns": f"{i:09d}", "name": f"Co {i}", "credit_limit": "5"}
                for i in range(40)
            ],
        )
        client = client_for(alice)
        url = reverse("stewardship:approvals")
        send(
            "crm",
            *[
                {"source_id": f"A-{i}", "duns": f"{i:09d}", "name": "x", "credit_limit": "7"}
                for i in range(3)
            ],
        )
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        send(
            "crm",
            *[
                {"source_id": f"A-{i}", "duns": f"{i:09d}", "name": "x", "credit_limit": "7"}
                for i in range(3, 40)
            ],
        )
        with CaptureQueriesContext(connection) as many:
            response = client.get(url)
        assert len(response.context["rows"]) == 40
        assert len(many.captured_queries) == len(few.captured_queries)

    def test_pages_of_fifty(self, alice):
        send(
            "erp",
            *[
                {"source_id": f"C-{i}", "duns": f"{i:09d}", "name": "Co", "credit_limit": "5"}
                for i in range(55)
            ],
        )
        send(
            "crm",
            *[
                {"source_id": f"A-{i}", "duns": f"{i:09d}", "name": "Co", "credit_limit": "7"}
                for i in range(55)
            ],
        )
        client = client_for(alice)
        first = client.get(reverse("stewardship:approvals"))
        assert len(first.context["rows"]) == 50 and b'rel="next"' in first.content
        second = client.get(reverse("stewardship:approvals"), {"page": 2})
        assert len(second.context["rows"]) == 5


class TestApprovalPage:
    def test_shows_current_and_proposed_values_lineage_and_others(self, crm_change, alice):
        send("ecom", {"source_id": "W-1", "name": "Acme", "credit_limit": "12345"})
        response = client_for(alice).get(reverse("stewardship:approval", args=[crm_change.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Golden value now" in html and ">5000<" in html and ">99999<" in html
        assert "C-1" in html  # the lineage: ERP's record
        assert "which does not own it" in html
        assert [o.proposed_value for o in response.context["others"]] == ["12345"]
        sources = {s["system"]: s for s in response.context["sources"]}
        assert sources["erp"]["owner"] and not sources["crm"]["owner"]
        assert sources["crm"]["proposing"]
        assert 'id="approve-btn"' in html and 'id="reject-btn"' in html

    def test_approve_then_the_second_steward_is_told(self, crm_change, alice, bob):
        url = reverse("stewardship:approval_decide", args=[crm_change.pk])
        response = client_for(alice).post(url, {"decision": "approve", "note": "ok"}, follow=True)
        assert "Approved change" in response.content.decode()
        assert golden().credit_limit == Decimal("99999")
        response = client_for(bob).post(url, {"decision": "reject"}, follow=True)
        html = response.content.decode()
        assert "already approved by alice" in html
        assert 'id="decided"' in html and "data-decided-by>alice<" in html
        crm_change.refresh_from_db()
        assert crm_change.state == State.APPROVED
        assert StewardDecision.objects.count() == 1

    def test_own_four_eyes_edit_cannot_be_approved_from_the_page(self, alice, bob):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        edit = approvals.propose_edit("customer", golden().pk, "credit_limit", "6000", alice)
        url = reverse("stewardship:approval", args=[edit.approval.pk])
        html = client_for(alice).get(url).content.decode()
        assert 'id="approve-btn"' not in html and 'id="own-edit"' in html
        # A hand-made POST is refused on the server too.
        decide = reverse("stewardship:approval_decide", args=[edit.approval.pk])
        response = client_for(alice).post(decide, {"decision": "approve"}, follow=True)
        assert "a second steward must approve it" in response.content.decode()
        assert golden().credit_limit == Decimal("5000")
        assert 'id="approve-btn"' in client_for(bob).get(url).content.decode()

    def test_unknown_approval_is_404(self, alice):
        assert client_for(alice).get(reverse("stewardship:approval", args=[999])).status_code == 404


class TestBulk:
    def test_confirmation_first_then_applied(self, alice):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        send(
            "crm",
            {"source_id": "A-1", "name": "Acme", "credit_limit": "1", "payment_terms": "NET90"},
        )
        ids = [a.pk for a in pending()]
        client = client_for(alice)
        url = reverse("stewardship:approval_bulk")
        confirm = client.post(url, {"action": "approve", "ids": ids})
        html = confirm.content.decode()
        assert confirm.status_code == 200 and "Approve 2 changes?" in html
        assert html.count('name="ids"') == 2
        assert pending() != []  # nothing applied yet
        done = client.post(url, {"action": "approve", "ids": ids, "confirm": "1"}, follow=True)
        assert "Approved 2 changes." in done.content.decode()
        customer = golden()
        assert customer.credit_limit == Decimal("1") and customer.payment_terms == "NET90"
        assert StewardDecision.objects.filter(bulk=True).count() == 2

    def test_nothing_selected_is_a_warning(self, alice):
        response = client_for(alice).post(
            reverse("stewardship:approval_bulk"), {"action": "approve"}, follow=True
        )
        assert "Select at least one change" in response.content.decode()


class TestEditPage:
    @pytest.fixture
    def customer(self):
        send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
        return golden()

    def url(self, customer) -> str:
        return reverse("stewardship:record_edit", args=["customer", customer.pk])

    def test_shows_attributes_with_their_rules(self, customer, alice):
        response = client_for(alice).get(self.url(customer), {"attribute": "credit_limit"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-four-eyes="1"' in html and "Propose for approval" in html
        rows = {r["name"]: r for r in response.context["record_rows"]}
        assert rows["credit_limit"]["four_eyes"] and rows["credit_limit"]["value"] == "5000"
        assert not rows["name"]["four_eyes"]

    def test_a_four_eyes_edit_waits(self, customer, alice):
        response = client_for(alice).post(
            self.url(customer),
            {"attribute": "credit_limit", "value": "7000", "note": "raise"},
            follow=True,
        )
        html = response.content.decode()
        assert "waiting for a second steward" in html
        approval = ChangeApproval.objects.get()
        assert response.redirect_chain[-1][0] == reverse("stewardship:approval", args=[approval.pk])
        assert golden().credit_limit == Decimal("5000")

    def test_other_edits_apply_at_once(self, customer, alice):
        response = client_for(alice).post(
            self.url(customer), {"attribute": "segment", "value": "Key account"}, follow=True
        )
        assert "Applied: segment is now Key account" in response.content.decode()
        assert golden().segment == "Key account"

    def test_a_bad_value_is_shown_on_the_field(self, customer, alice):
        response = client_for(alice).post(
            self.url(customer), {"attribute": "credit_limit", "value": "lots"}
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert 'data-error="credit_limit"' in html and "is not a number" in html
        assert not ChangeApproval.objects.exists()

    def test_a_merged_id_goes_to_the_survivor(self, customer, alice):
        other = factories.customer("crm", "X-1", name="Acme dup")
        merge_golden("customer", customer.pk, [other.golden_id], ChangeOrigin.command("t"))
        url = reverse("stewardship:record_edit", args=["customer", other.golden_id])
        response = client_for(alice).get(url)
        assert response.status_code == 302 and str(customer.pk) in response["Location"]

    def test_unknown_domain_or_record_is_404(self, alice):
        import uuid

        client = client_for(alice)
        bad = reverse("stewardship:record_edit", args=["planet", uuid.uuid4()])
        assert client.get(bad).status_code == 404
        missing = reverse("stewardship:record_edit", args=["customer", uuid.uuid4()])
        assert client.get(missing).status_code == 404
