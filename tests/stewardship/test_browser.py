"""The steward UI in a real browser (Chromium, headless) against a live server: log in, work the
queue, merge a pair choosing a surviving value, reject another, bulk-approve, and a viewer who
cannot act. Screenshots of the main pages go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from golden_records.models import GOLDEN_MODELS, AttributeOverride
from matching.models import MatchReview
from stewardship.models import StewardDecision
from sync.models import Subscription
from tests.conftest import make_system
from tests.stewardship import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_async_unsafe_allowed"),
]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
Customer = GOLDEN_MODELS["customer"]


@pytest.fixture
def data():
    reviews = factories.realistic()
    Subscription.objects.create(
        system=make_system("crm"),
        name="crm-accounts",
        domains=["customer"],
        fields={"customer": {"name": "AccountName", "segment": "Segment", "city": "City"}},
        endpoint_url="https://crm.example/hooks/mdm",
        state=Subscription.State.PAUSED,  # previewed, never woken: nothing is sent
    )
    Subscription.objects.create(
        system=make_system("ecom"),
        name="shop-customers",
        domains=["customer"],
        endpoint_url="https://shop.example/hooks/mdm",
        state=Subscription.State.PAUSED,
    )
    factories.user("stella", "steward")
    factories.user("vic", "viewer")
    return reviews


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/steward/reviews")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/steward/reviews")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_steward_works_the_queue(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    first, second, *_ = data
    login(page, live_server.url, "stella")
    expect(page.locator("[data-nav=reviews] .count")).to_have_text("6")
    expect(page.locator("#queue tbody tr")).to_have_count(6)
    shot(page, "queue")

    # Filter by system through HTMX: the table is swapped, the URL follows.
    page.select_option("select[name=system]", "ecom")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    assert "system=ecom" in page.url
    page.goto(f"{live_server.url}/steward/reviews")

    # Open the most probable review; choose CRM's name instead of ERP's; merge with "m".
    page.click(f"tr[data-review='{first.pk}'] a.rec")
    page.wait_for_url(f"**/steward/reviews/{first.pk}")
    expect(page.locator("tr[data-attr=name]")).to_have_class("differ")
    expect(page.locator("[data-subscription=crm-accounts]")).to_contain_text("CRM-001")
    shot(page, "review")
    page.select_option("select[name=keep_name]", label="Northwind Traders · crm")
    expect(page.locator("#choice-note")).to_contain_text("1 value chosen")
    page.keyboard.press("m")
    # The next review in the queue opens; reject it.
    page.wait_for_url(f"**/steward/reviews/{second.pk}")
    expect(page.locator(".messages")).to_contain_text(f"Merged review {first.pk}")
    page.click("#reject-btn")
    page.wait_for_url("**/steward/reviews/*")
    expect(page.locator(".messages")).to_contain_text("not a match")

    survivor = Customer.objects.get(pk=first.candidate_record.golden_id)
    assert survivor.name == "Northwind Traders"
    assert AttributeOverride.objects.get(golden_id=survivor.pk).attribute == "name"
    assert MatchReview.objects.get(pk=second.pk).status == "rejected"

    # Bulk-approve two of the remaining four, after the confirmation step.
    page.click("a:has-text('← Match reviews')")
    expect(page.locator("#queue tbody tr")).to_have_count(4)
    rows = page.locator("#queue tbody tr")
    picked = [int(rows.nth(i).get_attribute("data-review")) for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[name=ids]").check()
    expect(page.locator(".bulkbar .sel")).to_have_text("2 selected")
    page.click(".bulkbar button[value=merge]")
    expect(page.locator("h1")).to_have_text("Merge 2 pairs?")
    page.click("button[data-confirm]")
    page.wait_for_url("**/steward/reviews*")
    expect(page.locator(".messages")).to_contain_text("Merged 2 reviews")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    assert set(MatchReview.objects.filter(status="merged").values_list("pk", flat=True)) == {
        first.pk,
        *picked,
    }
    assert StewardDecision.objects.filter(bulk=True).count() == 2

    # The decided review shows who decided it, and its audit trail.
    page.goto(f"{live_server.url}/steward/reviews/{first.pk}")
    expect(page.locator("#decided")).to_contain_text("stella")
    expect(page.locator("[data-decision=merge]")).to_contain_text("name = Northwind Traders")
    shot(page, "review-decided")


def test_viewer_reads_but_cannot_act(page: Page, live_server, data):
    first = data[0]
    login(page, live_server.url, "vic")
    expect(page.locator("#queue tbody tr")).to_have_count(6)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    expect(page.locator(".bulkbar")).to_have_count(0)
    page.goto(f"{live_server.url}/steward/reviews/{first.pk}")
    expect(page.locator("#merge-btn")).to_have_count(0)
    expect(page.locator("select[name=keep_name]")).to_have_count(0)
    page.keyboard.press("m")
    # Even a hand-made POST with a valid CSRF token is refused on the server.
    status = page.evaluate(
        """async (url) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token},
                                        body: new URLSearchParams({decision: 'merge'})});
            return r.status;
        }""",
        f"/steward/reviews/{first.pk}/decide",
    )
    assert status == 403
    assert MatchReview.objects.get(pk=first.pk).status == "open"
    shot(page, "review-viewer")
