"""The steward UI as one product: the record page links to its edit page and lists the record's
pending change approvals; the task pages and the queues link golden records to the record page;
every decision (edits, approvals, exception resubmits, match-review merges and rejects) is
audited with the golden record and shows on the record page with actor, action, before and
after; the top navigation marks the right entry and shows its counts on every page."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, OwnershipRule, RejectedRecord
from golden_records.services import ingest_batch
from stewardship import approvals, services
from stewardship import exceptions as exception_actions
from stewardship.models import ChangeApproval, StewardDecision
from tests.conftest import make_system
from tests.helpers import golden_of, put
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
State = ChangeApproval.State


def send(system: str, *records: dict) -> None:
    """Ingest customers from ``system``, linked by their DUNS number."""
    outcome = ingest_batch(
        make_system(system),
        "customer",
        [{"duns": "150483782", **r} for r in records],
        "reject_all",
        ChangeOrigin.source_system(system),
    )
    assert all(r.ok for r in outcome.records), [r.errors for r in outcome.records]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def record_url(domain: str, golden_id) -> str:
    return reverse("stewardship:record", args=[domain, golden_id])


def decision_items(page: str) -> dict[str, str]:
    """The record page's decisions panel: action -> the text (tags stripped) of its newest entry."""
    audit = page[page.index('id="audit"') : page.index('id="tasks"')]
    items = re.findall(r'<li data-decision="([a-z_]+)">(.*?)</li>\s*(?=<li|</ul>)', audit, re.S)
    found: dict[str, str] = {}
    for action, body in items:
        text = re.sub(r"<[^>]+>", "", body)
        found.setdefault(action, html.unescape(re.sub(r"\s+", " ", text)))
    return found


@pytest.fixture
def alice():
    return factories.user("alice", "steward")


@pytest.fixture
def bob():
    return factories.user("bob", "steward")


@pytest.fixture
def viewer():
    return factories.user("vic", "viewer")


@pytest.fixture
def acme():
    """ERP owns Acme's credit limit (5000, four-eyes); CRM sends 99999: one pending approval."""
    send("erp", {"source_id": "C-1", "name": "Acme", "credit_limit": "5000"})
    send("crm", {"source_id": "A-1", "name": "Acme", "credit_limit": "99999"})
    return golden_of("erp", "customer", "C-1")


class TestRecordPage:
    def test_a_steward_gets_an_edit_button_a_viewer_none(self, acme, alice, viewer):
        edit = reverse("stewardship:record_edit", args=["customer", acme.pk])
        mine = client_for(alice).get(record_url("customer", acme.pk)).content.decode()
        assert 'id="edit-record"' in mine and f'href="{edit}"' in mine
        theirs = client_for(viewer).get(record_url("customer", acme.pk)).content.decode()
        assert 'id="edit-record"' not in theirs and edit not in theirs

    def test_open_tasks_list_pending_approvals_with_a_link(self, acme, alice):
        approvals.propose_edit("customer", acme.pk, "credit_limit", "7000", alice, "raise")
        pending = list(ChangeApproval.objects.filter(state=State.PENDING).order_by("id"))
        assert [a.kind for a in pending] == ["non_owner_change", "four_eyes_edit"]
        page = client_for(alice).get(record_url("customer", acme.pk)).content.decode()
        tasks = page[page.index('id="tasks"') : page.index('id="deliveries"')]
        for approval in pending:
            assert f'data-approval="{approval.pk}"' in tasks
            assert f'href="{reverse("stewardship:approval", args=[approval.pk])}"' in tasks
        assert "99999" in tasks and "7000" in tasks and "by alice" in tasks
        decided = pending[0]
        approvals.reject_change(decided.pk, alice)
        page = client_for(alice).get(record_url("customer", acme.pk)).content.decode()
        tasks = page[page.index('id="tasks"') : page.index('id="deliveries"')]
        assert f'data-approval="{decided.pk}"' not in tasks
        assert f'data-approval="{pending[1].pk}"' in tasks

    def test_query_count_does_not_grow_with_pending_approvals(self, acme, alice, bob):
        client = client_for(alice)

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(record_url("customer", acme.pk)).status_code == 200
            return len(ctx.captured_queries)

        few = count()
        for n, (user, attribute, value) in enumerate(
            [(alice, "credit_limit", "7000"), (bob, "credit_limit", "8000")]
        ):
            approvals.propose_edit("customer", acme.pk, attribute, value, user, f"edit {n}")
        for n in range(5):
            send("wms", {"source_id": f"W-{n}", "name": "Acme", "credit_limit": str(100 + n)})
        assert ChangeApproval.objects.filter(state=State.PENDING).count() >= 8
        assert count() <= few


class TestDecisionsOnTheRecord:
    def test_an_applied_edit(self, acme, alice):
        response = client_for(alice).post(
            reverse("stewardship:record_edit", args=["customer", acme.pk]),
            {"attribute": "segment", "value": "Key account", "note": "from the call"},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == record_url("customer", acme.pk)
        page = response.content.decode()
        assert "Applied: segment is now Key account" in page
        edit = decision_items(page)["edit"]
        assert "alice" in edit and "edited" in edit and "from the call" in edit
        assert "segment: — → Key account" in edit
        decision = StewardDecision.objects.get(action="edit")
        assert decision.golden_id == acme.pk
        assert decision.before["value"] is None and decision.after["value"] == "Key account"

    def test_a_four_eyes_edit_proposed_then_approved(self, acme, alice, bob):
        outcome = approvals.propose_edit("customer", acme.pk, "credit_limit", "7000", alice)
        approvals.approve_change(outcome.approval.pk, bob, "checked the contract")
        page = client_for(alice).get(record_url("customer", acme.pk)).content.decode()
        found = decision_items(page)
        proposed, approved = found["propose_edit"], found["approve_change"]
        assert "alice" in proposed and "proposed an edit" in proposed
        assert "credit limit: 5000 → 7000" in proposed
        assert f"change {outcome.approval.pk}" in approved
        assert "bob" in approved and "approved a change" in approved
        assert "credit limit: 5000 → 7000" in approved and "proposed by alice" in approved
        assert '"value": "5000"' in approved and '"value": "7000"' in approved  # before/after

    def test_a_rejected_change(self, acme, alice):
        change = ChangeApproval.objects.get(kind="non_owner_change")
        approvals.reject_change(change.pk, alice, "CRM is wrong")
        found = decision_items(
            client_for(alice).get(record_url("customer", acme.pk)).content.decode()
        )
        rejected = found["reject_change"]
        assert "alice" in rejected and "rejected a change" in rejected
        assert "credit limit stays 5000; refused 99999" in rejected and "CRM is wrong" in rejected

    def test_a_resubmitted_exception(self, api, alice):
        put(api["erp"], "erp", "customer", "C-9", {"name": "Initech", "country": "Germanyy"})
        rejected = RejectedRecord.objects.get()
        values = {k: str(v) for k, v in rejected.payload.items()} | {"country": "DE"}
        outcome = exception_actions.resubmit_exception(rejected.pk, values, alice, "typo")
        assert outcome.ok
        golden = golden_of("erp", "customer", "C-9")
        assert outcome.decision.golden_id == golden.pk
        page = client_for(alice).get(record_url("customer", golden.pk)).content.decode()
        resubmit = decision_items(page)["resubmit"]
        assert "alice" in resubmit and "corrected and resubmitted" in resubmit
        assert f"exception {rejected.pk}" in resubmit and "created" in resubmit
        assert '"country": "Germanyy"' in resubmit and '"country": "DE"' in resubmit

    def test_a_merged_review_shows_on_the_survivor(self, alice):
        review = factories.pair(1)
        mine = review.source_record.golden_id
        theirs = review.candidate_record.golden_id
        decision = services.decide_review(review.pk, services.MERGE, alice, "same phone")
        survivor = decision.after["survivor"]
        assert {str(decision.golden_id), str(decision.related_golden_id)} == {
            str(mine),
            str(theirs),
        }
        assert str(decision.golden_id) == survivor
        merged = decision_items(
            client_for(alice).get(record_url("customer", survivor)).content.decode()
        )
        assert "alice" in merged["merge"] and "merged" in merged["merge"]
        assert f"review {review.pk}" in merged["merge"] and "same phone" in merged["merge"]
        assert "before / after" in merged["merge"]

    def test_a_rejected_review_shows_on_both_records(self, alice):
        review = factories.pair(2)
        decision = services.decide_review(review.pk, services.REJECT, alice, "different firms")
        assert decision.golden_id == review.source_record.golden_id
        assert decision.related_golden_id == review.candidate_record.golden_id
        for golden_id in (decision.golden_id, decision.related_golden_id):
            page = client_for(alice).get(record_url("customer", golden_id)).content.decode()
            rejected = decision_items(page)["reject"]
            assert "alice" in rejected and "not a match" in rejected
            assert "different firms" in rejected and '"status": "rejected"' in rejected


class TestCrossLinks:
    def test_edit_page_links_to_the_record(self, acme, alice):
        page = (
            client_for(alice)
            .get(reverse("stewardship:record_edit", args=["customer", acme.pk]))
            .content.decode()
        )
        assert page.count(f'href="{record_url("customer", acme.pk)}"') >= 2

    def test_approval_page_links_to_the_record(self, acme, alice):
        change = ChangeApproval.objects.get()
        page = client_for(alice).get(reverse("stewardship:approval", args=[change.pk]))
        assert f'href="{record_url("customer", acme.pk)}"' in page.content.decode()

    def test_review_page_links_both_records(self, alice):
        review = factories.pair(3)
        page = client_for(alice).get(reverse("stewardship:review", args=[review.pk]))
        text = page.content.decode()
        for record in (review.source_record, review.candidate_record):
            assert f'href="{record_url("customer", record.golden_id)}"' in text

    def test_exception_page_after_resubmit_links_the_record(self, api, alice):
        put(api["erp"], "erp", "customer", "C-9", {"name": "Initech", "country": "Germanyy"})
        rejected = RejectedRecord.objects.get()
        data = {f"attr_{k}": str(v) for k, v in rejected.payload.items()} | {"attr_country": "DE"}
        response = client_for(alice).post(
            reverse("stewardship:exception-resubmit", args=[rejected.pk]), data, follow=True
        )
        text = response.content.decode()
        golden = golden_of("erp", "customer", "C-9")
        link = f'href="{record_url("customer", golden.pk)}"'
        messages = text[text.index('class="messages"') :][:1000]
        assert "Resubmitted exception" in messages and link in messages
        golden_card = text[text.index('id="golden"') :][:600]
        assert link in golden_card

    def test_queues_link_golden_records(self, acme, alice, api):
        review = factories.pair(4)
        client = client_for(alice)
        reviews = client.get(reverse("stewardship:queue")).content.decode()
        for record in (review.source_record, review.candidate_record):
            assert f'href="{record_url("customer", record.golden_id)}"' in reviews
        queue = client.get(reverse("stewardship:approvals")).content.decode()
        assert f'href="{record_url("customer", acme.pk)}"' in queue
        put(api["erp"], "erp", "customer", "C-9", {"name": "Initech", "country": "Germanyy"})
        rejected = RejectedRecord.objects.get()
        values = {k: str(v) for k, v in rejected.payload.items()} | {"country": "DE"}
        exception_actions.resubmit_exception(rejected.pk, values, alice)
        golden = golden_of("erp", "customer", "C-9")
        handled = client.get(reverse("stewardship:exceptions"), {"state": "resubmitted"})
        assert f'href="{record_url("customer", golden.pk)}"' in handled.content.decode()


def nav_entries(page: str) -> dict[str, tuple[bool, str | None]]:
    """data-nav -> (highlighted, count) from the top navigation."""
    header = page[page.index('<header class="top">') : page.index("</header>")]
    entries = {}
    for attrs, inner in re.findall(r"<a ([^>]*data-nav=\"[a-z]+\"[^>]*)>(.*?)</a>", header, re.S):
        name = re.search(r'data-nav="([a-z]+)"', attrs).group(1)
        count = re.search(r'class="count"[^>]*>(\d+)<', inner)
        entries[name] = ('class="on"' in attrs, count.group(1) if count else None)
    return entries


class TestNavigation:
    @pytest.fixture
    def world(self, acme, api):
        review = factories.pair(5)
        put(api["erp"], "erp", "customer", "C-9", {"name": "Initech", "country": "Germanyy"})
        return {
            "review": review.pk,
            "approval": ChangeApproval.objects.get().pk,
            "exception": RejectedRecord.objects.get().pk,
            "rule": OwnershipRule.objects.order_by("pk").first().pk,
        }

    def pages(self, world, acme) -> list[tuple[str, str]]:
        """(url, the entry that should be highlighted)."""
        return [
            (reverse("stewardship:queue"), "reviews"),
            (reverse("stewardship:review", args=[world["review"]]), "reviews"),
            (reverse("stewardship:approvals"), "approvals"),
            (reverse("stewardship:approval", args=[world["approval"]]), "approvals"),
            (reverse("stewardship:exceptions"), "exceptions"),
            (reverse("stewardship:exception", args=[world["exception"]]), "exceptions"),
            (reverse("stewardship:records"), "records"),
            (record_url("customer", acme.pk), "records"),
            (reverse("stewardship:record_edit", args=["customer", acme.pk]), "records"),
            (reverse("stewardship:rules"), "rules"),
            (reverse("stewardship:ownership-rule", args=[world["rule"]]), "rules"),
            (reverse("sync:dashboard"), "deliveries"),
            (reverse("sync:failed"), "failed"),
        ]

    def test_every_page_marks_its_entry_and_shows_the_counts(self, world, acme):
        admin = factories.user("root", superuser=True)  # the ops pages need an admin
        client = client_for(admin)
        for url, entry in self.pages(world, acme):
            response = client.get(url)
            assert response.status_code == 200, url
            entries = nav_entries(response.content.decode())
            assert {n for n, (on, _) in entries.items() if on} == {entry}, url
            assert entries["reviews"][1] == "1", url
            assert entries["approvals"][1] == "1", url
            assert entries["exceptions"][1] == "1", url
            assert "rules" in entries and "records" in entries, url


class TestDecisionNoticesLinkTheRecord:
    def messages_of(self, response) -> str:
        text = response.content.decode()
        return text[text.index('class="messages"') :][:800]

    def test_a_merge_from_the_review_page(self, alice):
        review = factories.pair(6)
        response = client_for(alice).post(
            reverse("stewardship:decide", args=[review.pk]), {"decision": "merge"}, follow=True
        )
        decision = StewardDecision.objects.get(action="merge")
        notice = self.messages_of(response)
        assert f"Merged review {review.pk}" in notice
        assert f'href="{record_url("customer", decision.golden_id)}"' in notice

    def test_a_reject_from_the_review_page(self, alice):
        review = factories.pair(7)
        response = client_for(alice).post(
            reverse("stewardship:decide", args=[review.pk]), {"decision": "reject"}, follow=True
        )
        notice = self.messages_of(response)
        assert f"Marked as not a match: review {review.pk}" in notice
        assert f'href="{record_url("customer", review.source_record.golden_id)}"' in notice

    def test_an_approval_from_the_approval_page(self, acme, alice):
        change = ChangeApproval.objects.get()
        response = client_for(alice).post(
            reverse("stewardship:approval_decide", args=[change.pk]),
            {"decision": "approve"},
            follow=True,
        )
        notice = self.messages_of(response)
        assert f"Approved change {change.pk}" in notice
        assert f'href="{record_url("customer", acme.pk)}"' in notice
