"""A steward's day across the pages, in a real browser (Chromium, headless) against a live
server: from the match-review queue to the golden record through its link, the record's open
tasks (a match review and a colleague's four-eyes edit), an edit of a non-four-eyes attribute
from the record page, back on the record with the new value and the decision in its audit
panel; then the other queues, each marked in the navigation. Screenshots:
var/screenshots/journey-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from stewardship import approvals
from stewardship.models import StewardDecision
from tests.helpers import put
from tests.stewardship import factories
from tests.stewardship.test_approvals_browser import seed_rules
from tests.stewardship.test_browser import login, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_async_unsafe_allowed"),
]


@pytest.fixture
def data(api):
    """Six open match reviews; bob's four-eyes credit-limit edit waiting on the first review's
    record; one data-quality exception."""
    seed_rules()  # a transactional test's flush empties the migrated rules (four-eyes flags)
    reviews = factories.realistic()
    factories.user("stella", "steward")
    bob = factories.user("bob", "steward")
    first = max(reviews, key=lambda r: r.probability)
    golden_id = first.source_record.golden_id
    proposed = approvals.propose_edit(
        "customer", golden_id, "credit_limit", "40000", bob, "new contract"
    )
    assert not proposed.applied  # four-eyes: waits for a second steward
    response = put(api["erp"], "erp", "customer", "C-9", {"name": "Initech", "country": "Germanyy"})
    assert response.status_code == 400
    return first


def test_from_the_queue_to_the_record_edit_and_audit(page: Page, live_server, data):
    review = data
    golden_id = review.source_record.golden_id
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "stella")
    expect(page.locator("[data-nav=reviews]")).to_have_class("on")
    expect(page.locator("[data-nav=approvals] .count")).to_have_text("1")
    expect(page.locator("[data-nav=exceptions] .count")).to_have_text("1")
    row = page.locator(f"#queue tr[data-review='{review.pk}']")
    shot(page, "journey-1-queue")

    # The golden link in the queue row opens the record, not the review.
    row.locator(f"a.golden-link[data-golden-link='{golden_id}']").click()
    page.wait_for_url(f"**/steward/records/customer/{golden_id}")
    expect(page.locator("[data-nav=records]")).to_have_class("on")
    expect(page.locator(f"#tasks [data-task='{review.pk}']")).to_contain_text("Match review")
    approval = page.locator("#tasks [data-approval]")
    expect(approval).to_have_count(1)
    expect(approval).to_contain_text("Credit limit")
    expect(approval).to_contain_text("40000")
    expect(approval).to_contain_text("by bob")
    expect(page.locator("#audit [data-decision=propose_edit]")).to_contain_text("bob")
    shot(page, "journey-2-record")

    # Edit from the record page: segment is not four-eyes, so it applies at once.
    page.click("#edit-record")
    page.wait_for_url(f"**/steward/records/customer/{golden_id}/edit")
    expect(page.locator("[data-nav=records]")).to_have_class("on")
    page.select_option("#id_attribute", "segment")
    expect(page.locator("#edit-submit")).to_have_text("Apply override")
    page.fill("#id_value", "Strategic account")
    page.fill("#id_note", "agreed with sales")
    shot(page, "journey-3-edit")
    page.click("#edit-submit")

    page.wait_for_url(f"**/steward/records/customer/{golden_id}")
    expect(page.locator(".messages")).to_contain_text("Applied: segment is now Strategic account")
    expect(page.locator("tr[data-attr=segment] td.val")).to_have_text("Strategic account")
    expect(page.locator("tr[data-attr=segment] [data-lineage]")).to_contain_text("steward override")
    edit = page.locator("#audit [data-decision=edit]")
    expect(edit).to_contain_text("stella")
    expect(edit).to_contain_text("edited")
    expect(edit).to_contain_text("→ Strategic account")
    expect(edit).to_contain_text("agreed with sales")
    edit.locator("summary").click()
    expect(edit.locator("pre[data-after]")).to_contain_text('"value": "Strategic account"')
    shot(page, "journey-4-record-after-edit")
    decision = StewardDecision.objects.get(action="edit")
    assert decision.golden_id == golden_id and decision.actor_name == "stella"

    # The other queues: each marked in the navigation, each linking golden records back.
    page.click("[data-nav=approvals]")
    page.wait_for_url("**/steward/approvals")
    expect(page.locator("[data-nav=approvals]")).to_have_class("on")
    expect(page.locator(f"#queue a.golden-link[data-golden-link='{golden_id}']")).to_be_visible()
    shot(page, "journey-5-approvals")
    page.locator("#queue tbody tr a.rec").first.click()
    page.wait_for_url("**/steward/approvals/*")
    expect(page.locator("#record-link")).to_have_attribute(
        "href", f"/steward/records/customer/{golden_id}"
    )
    shot(page, "journey-6-approval")
    page.click("[data-nav=exceptions]")
    page.wait_for_url("**/steward/exceptions")
    expect(page.locator("[data-nav=exceptions]")).to_have_class("on")
    shot(page, "journey-7-exceptions")
    page.click("[data-nav=rules]")
    page.wait_for_url("**/steward/rules")
    expect(page.locator("[data-nav=rules]")).to_have_class("on")
    shot(page, "journey-8-rules")
