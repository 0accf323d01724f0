"""Change approvals in a real browser (Chromium, headless) against a live server: a four-eyes
edit proposed by one steward and approved by another, and a bulk approval of non-owner changes
from the queue. Screenshots of the queue, the approval page and the edit page go to
var/screenshots/."""

from __future__ import annotations

from decimal import Decimal
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, OwnershipRule, SourceRecord
from golden_records.services import ingest_batch
from golden_records.values import golden_attributes
from stewardship.models import ChangeApproval, StewardDecision
from tests.conftest import make_system
from tests.stewardship import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_async_unsafe_allowed"),
]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
Customer = GOLDEN_MODELS["customer"]

ERP_CUSTOMERS = [
    # source id, DUNS, name, city, credit limit, payment terms
    ("100001", "150483782", "Northwind Traders GmbH", "Berlin", "25000", "NET30"),
    ("100002", "081466849", "Contoso Industrial Supply Inc", "Philadelphia", "120000", "NET45"),
    ("100003", "804735132", "Fabrikam Fasteners Ltd", "Leeds", "8000", "NET30"),
    ("100004", "060704780", "Tailspin Tools SARL", "Lyon", "15000", "NET60"),
]
# What other systems say about the same customers' governed attributes (they do not own them).
NON_OWNER = [
    ("crm", "CRM-001", "150483782", {"credit_limit": "40000"}),
    ("crm", "CRM-002", "081466849", {"payment_terms": "NET60"}),
    ("ecom", "WEB-17", "804735132", {"credit_limit": "12500", "credit_hold": "yes"}),
    ("crm", "CRM-004", "060704780", {"credit_limit": "15000.50"}),
]


def send(system: str, records: list[dict]) -> None:
    outcome = ingest_batch(
        make_system(system), "customer", records, "reject_all", ChangeOrigin.source_system(system)
    )
    assert all(r.ok for r in outcome.records), [r.errors for r in outcome.records]


def seed_rules() -> None:
    """The ownership rules and their governance flags as the migrations seed them: a
    transactional test's flush empties every table, migrated data included."""
    seeded = import_module("golden_records.migrations.0002_default_ownership_rules")
    governance = import_module("golden_records.migrations.0004_ownership_governance")
    for domain, attribute, strategy, systems, fallback in seeded.DEFAULT_RULES:
        OwnershipRule.objects.update_or_create(
            domain=domain,
            attribute=attribute,
            defaults={
                "strategy": strategy,
                "systems": systems,
                "fallback_to_any": fallback,
                "governed": (domain, attribute) in governance.GOVERNED,
                "four_eyes": (domain, attribute) in governance.FOUR_EYES,
            },
        )


@pytest.fixture
def data():
    seed_rules()
    send(
        "erp",
        [
            {
                "source_id": sid,
                "duns": duns,
                "name": name,
                "city": city,
                "credit_limit": limit,
                "credit_currency": "EUR",
                "payment_terms": terms,
                "credit_hold": "no",
            }
            for sid, duns, name, city, limit, terms in ERP_CUSTOMERS
        ],
    )
    for system, sid, duns, values in NON_OWNER:
        send(system, [{"source_id": sid, "duns": duns, "name": "(from " + system + ")", **values}])
    factories.user("stella", "steward")
    factories.user("bruno", "steward")
    factories.user("vic", "viewer")


def golden(source_id: str) -> Customer:
    record = SourceRecord.objects.get(system__code="erp", source_id=source_id)
    return Customer.objects.get(pk=record.golden_id)


def login(page: Page, base: str, username: str, next_url: str = "/steward/approvals") -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"**{next_url}")


def logout(page: Page) -> None:
    page.click("header.top .user button")
    page.wait_for_load_state()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_four_eyes_edit_needs_a_second_steward(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    customer = golden("100001")
    edit_url = f"/steward/records/customer/{customer.pk}/edit"

    # Steward A proposes a new credit limit: the form says it needs a second steward.
    login(page, live_server.url, "stella", edit_url)
    page.select_option("select[name=attribute]", "credit_limit")
    expect(page.locator("#current-value")).to_have_text("25000")
    expect(page.locator("#fe-hint")).to_contain_text("waits for a second steward")
    expect(page.locator("#edit-submit")).to_have_text("Propose for approval")
    page.fill("input[name=value]", "30000")
    page.fill("input[name=note]", "Raised after the annual review")
    shot(page, "approvals-edit")
    page.click("#edit-submit")

    approval = ChangeApproval.objects.get(kind="four_eyes_edit")
    page.wait_for_url(f"**/steward/approvals/{approval.pk}")
    expect(page.locator(".messages")).to_contain_text("waiting for a second steward's approval")
    expect(page.locator("[data-state]")).to_have_text("Pending")
    expect(page.locator("[data-current] .v")).to_have_text("25000")
    expect(page.locator("[data-proposed] .v")).to_have_text("30000")
    assert golden("100001").credit_limit == Decimal("25000")

    # Steward A cannot approve it: no button, the shortcut does nothing, the server refuses.
    expect(page.locator("#approve-btn")).to_have_count(0)
    expect(page.locator("#own-edit")).to_contain_text("second steward")
    page.keyboard.press("a")
    status = page.evaluate(
        """async (url) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token},
                                        body: new URLSearchParams({decision: 'approve'})});
            return r.status;
        }""",
        f"/steward/approvals/{approval.pk}/decide",
    )
    assert status == 200  # redirected back to the page with the refusal
    approval.refresh_from_db()
    assert approval.state == "pending"
    assert golden("100001").credit_limit == Decimal("25000")
    logout(page)

    # Steward B finds it in the four-eyes tab and approves it with the keyboard.
    login(page, live_server.url, "bruno")
    page.click("[data-tab=four_eyes]")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    page.click(f"tr[data-approval='{approval.pk}'] a.rec")
    page.wait_for_url(f"**/steward/approvals/{approval.pk}*")
    expect(page.locator("#approve-btn")).to_be_visible()
    shot(page, "approvals-detail")
    page.fill("#note", "Checked with finance")
    page.locator("#note").blur()
    page.keyboard.press("a")
    page.wait_for_url("**/steward/approvals*")
    expect(page.locator(".messages")).to_contain_text(f"Approved change {approval.pk}")

    changed = golden("100001")
    assert changed.credit_limit == Decimal("30000")
    assert changed.version == customer.version + 1
    audit = list(
        StewardDecision.objects.filter(golden_id=customer.pk).values_list("action", "actor_name")
    )
    assert audit == [("propose_edit", "stella"), ("approve_change", "bruno")]

    # The approval page shows who decided, and the audit shows both stewards.
    page.goto(f"{live_server.url}/steward/approvals/{approval.pk}")
    expect(page.locator("#decided")).to_contain_text("bruno")
    expect(page.locator("[data-decision=propose_edit]")).to_contain_text("stella")
    expect(page.locator("[data-decision=approve_change]")).to_contain_text("bruno")
    expect(page.locator("[data-current] .v")).to_have_text("30000")
    shot(page, "approvals-decided")


def test_bulk_approve_non_owner_changes(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "stella")
    expect(page.locator("[data-nav=approvals] .count")).to_have_text("5")
    expect(page.locator("#queue tbody tr")).to_have_count(5)
    shot(page, "approvals-queue")

    # Filter by system through HTMX: the table is swapped, the URL follows.
    page.select_option("select[name=system]", "ecom")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    assert "system=ecom" in page.url
    page.goto(f"{live_server.url}/steward/approvals?system=crm")
    expect(page.locator("#queue tbody tr")).to_have_count(3)

    rows = page.locator("#queue tbody tr")
    picked = [int(rows.nth(i).get_attribute("data-approval")) for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[name=ids]").check()
    expect(page.locator(".bulkbar .sel")).to_have_text("2 selected")
    page.click(".bulkbar button[value=approve]")
    expect(page.locator("h1")).to_have_text("Approve 2 changes?")
    assert ChangeApproval.objects.filter(state="approved").count() == 0  # not yet
    shot(page, "approvals-bulk-confirm")
    page.click("button[data-confirm]")
    page.wait_for_url("**/steward/approvals*")
    expect(page.locator(".messages")).to_contain_text("Approved 2 changes.")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    approved = ChangeApproval.objects.filter(state="approved")
    assert set(approved.values_list("pk", flat=True)) == set(picked)
    assert StewardDecision.objects.filter(bulk=True, action="approve_change").count() == 2
    for approval in approved:
        values = golden_attributes(Customer.objects.get(pk=approval.golden_id))
        assert values[approval.attribute] == approval.proposed_value


def test_viewer_reads_approvals_but_cannot_act(page: Page, live_server, data):
    login(page, live_server.url, "vic")
    expect(page.locator("#queue tbody tr")).to_have_count(5)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    first = ChangeApproval.objects.order_by("id").first()
    page.goto(f"{live_server.url}/steward/approvals/{first.pk}")
    expect(page.locator("#approve-btn")).to_have_count(0)
    page.keyboard.press("a")
    assert ChangeApproval.objects.get(pk=first.pk).state == "pending"
