"""The exceptions queue and the rules page in a real browser (Chromium, headless) against a live
server: a steward corrects a rejected record's country and resubmits it, an admin reorders an
ownership rule's systems and finds the change in the history, a viewer finds nothing to click.
Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from golden_records.domains import DOMAINS
from golden_records.models import GOLDEN_MODELS, ActorType, OwnershipRule, RejectedRecord
from tests.conftest import client_for, make_system, make_token
from tests.helpers import batch, put
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
    """Rejections as systems send them: through the API and its validation."""
    clients = {}
    for code, kind in (("erp", "erp"), ("crm", "crm"), ("ecom", "ecommerce"), ("wms", "wms")):
        clients[code] = client_for(make_token(make_system(code, kind)))
    northwind = {
        "name": "Northwind Traders GmbH",
        "address_line1": "Friedrichstrasse 123",
        "city": "Berlin",
        "postal_code": "10117",
        "country": "Germny",
        "phone": "+49 30 2345678",
        "payment_terms": "NET30",
        "credit_limit": 25000,
        "credit_currency": "EUR",
    }
    put(clients["erp"], "erp", "customer", "100201", northwind)
    for _ in range(2):  # sent again by the nightly job
        put(clients["crm"], "crm", "customer", "CRM-0042", {"city": "Lyon", "country": "FR"})
    put(
        clients["ecom"],
        "ecom",
        "customer",
        "web-88213",
        {"name": "Contoso Industrial", "email": "buy(at)contoso", "country": "US"},
    )
    batch(
        clients["wms"],
        "wms",
        "item",
        {
            "records": [
                {"source_id": "SKU-1", "sku": "SKU-1", "name": "Hex bolt M8", "weight_kg": "0.02"},
                {"source_id": "SKU-2", "sku": "SKU-2", "name": "Hex nut M8", "weight_kg": "light"},
                {"source_id": "SKU-1003", "name": "Washer M8"},
            ]
        },
    )  # fmt: skip
    # The rules the data migration seeds (a transactional test flushes them), from the same
    # declarations and, as there, without history rows.
    OwnershipRule.objects.all().delete()
    OwnershipRule.objects.bulk_create(
        OwnershipRule(
            domain=name,
            attribute=attribute.name,
            strategy=spec.ownership_for(attribute.name).strategy,
            systems=list(spec.ownership_for(attribute.name).systems),
            fallback_to_any=spec.ownership_for(attribute.name).fallback_to_any,
        )
        for name, spec in DOMAINS.items()
        for attribute in spec.attributes
    )
    factories.user("stella", "steward")
    factories.user("vic", "viewer")
    factories.user("ada", "admin")
    return RejectedRecord.objects.get(source_id="100201")


def login(page: Page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}/accounts/login/?next={then}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"**{then}")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # sticky table headers stay at the top
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_steward_corrects_and_resubmits(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "stella", "/steward/exceptions")
    expect(page.locator("[data-nav=exceptions] .count")).to_have_text("5")
    expect(page.locator("#queue tbody tr")).to_have_count(5)
    expect(page.locator(f"tr[data-exception='{data.pk}']")).to_contain_text("country")
    shot(page, "exceptions-queue")

    # Filter by error code through HTMX: the table is swapped, the URL follows.
    page.select_option("select[name=code]", "invalid_country")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    assert "code=invalid_country" in page.url

    page.click(f"tr[data-exception='{data.pk}'] a.rec")
    page.wait_for_url(f"**/steward/exceptions/{data.pk}*")
    row = page.locator("tr[data-field=country]")
    expect(row).to_have_class("bad")
    expect(row).to_contain_text("is not an ISO 3166-1 country code")
    expect(page.locator("input[name=attr_country]")).to_have_value("Germny")
    expect(page.locator("#raw-json")).to_contain_text('"country": "Germny"')
    shot(page, "exception")

    # A wrong correction first: the new error shows, nothing is written.
    page.fill("input[name=attr_country]", "Germania")
    page.click("#resubmit-btn")
    expect(page.locator(".messages")).to_contain_text("Still not valid")
    expect(page.locator("tr[data-field=country]")).to_contain_text("'Germania'")
    assert not Customer.objects.exists()

    page.fill("input[name=attr_country]", "DE")
    page.click("#resubmit-btn")
    expect(page.locator(".messages")).to_contain_text(f"Resubmitted exception #{data.pk}")
    expect(page.locator("#handled")).to_contain_text("stella")
    expect(page.locator("#golden")).to_contain_text("Northwind Traders GmbH")
    expect(page.locator("#golden")).to_contain_text("DE")
    expect(page.locator("[data-decision=resubmit]")).to_contain_text("created")
    shot(page, "exception-resubmitted")

    golden = Customer.objects.get()
    assert golden.country == "DE" and str(golden.pk) in page.inner_text("#golden")
    history = golden.history.get()
    assert (history.actor_type, history.actor) == (ActorType.STEWARD, "stella")
    expect(page.locator("[data-nav=exceptions] .count")).to_have_text("4")


def test_steward_dismisses_a_selection(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "stella", "/steward/exceptions")
    items = RejectedRecord.objects.filter(domain="item").order_by("source_id")
    bar = page.locator("#queue .bulkbar")
    expect(bar.locator("button[value=dismiss]")).to_be_disabled()
    for rejected in items:
        page.check(f"tr[data-exception='{rejected.pk}'] input[name=ids]")
    expect(bar.locator(".sel")).to_have_text("2 selected")
    shot(page, "exceptions-selected")
    bar.locator("button[value=dismiss]").click()

    page.wait_for_url("**/steward/exceptions/bulk")
    expect(page.locator("h1")).to_have_text("Dismiss 2 exceptions?")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.fill("input[name=note]", "WMS test load, re-sent correctly")
    page.click("button[data-confirm]")

    page.wait_for_url("**/steward/exceptions*")
    expect(page.locator(".messages")).to_contain_text("Dismissed 2 exceptions.")
    expect(page.locator("#queue tbody tr")).to_have_count(3)
    expect(page.locator("[data-nav=exceptions] .count")).to_have_text("3")
    assert {r.state for r in items.all()} == {RejectedRecord.State.DISMISSED}
    assert {r.note for r in items.all()} == {"WMS test load, re-sent correctly"}


def test_admin_reorders_an_ownership_rule(page: Page, live_server, data):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "ada", "/steward/rules")
    expect(page.locator("tr[data-rule=name] .order")).to_have_attribute("data-systems", "erp,crm")
    shot(page, "rules")
    page.click("[data-edit=name]")
    page.wait_for_url("**/steward/rules/ownership/*")
    expect(page.locator("#system-order li")).to_have_count(2)
    page.locator("#system-order li[data-system=erp] button[data-move='1']").click()
    expect(page.locator("#system-order li").first).to_have_attribute("data-system", "crm")
    page.fill("input[name=note]", "CRM keeps the legal names now")
    page.click("#save-rule")
    page.wait_for_url("**/steward/rules?domain=customer#history")
    expect(page.locator(".messages")).to_contain_text("Saved customer.name")
    expect(page.locator("tr[data-rule=name] .order")).to_have_attribute("data-systems", "crm,erp")
    change = page.locator("#history li[data-history=name]").first
    expect(change).to_contain_text("ada")
    expect(change.locator("[data-diff=systems]")).to_contain_text(
        "erp › crm → crm › erp"  # noqa: RUF001
    )
    expect(change).to_contain_text("CRM keeps the legal names now")
    shot(page, "rules-changed")
    assert OwnershipRule.objects.get(domain="customer", attribute="name").systems == [
        "crm",
        "erp",
    ]


def test_viewer_sees_no_edit_buttons(page: Page, live_server, data):
    login(page, live_server.url, "vic", "/steward/rules")
    expect(page.locator("#ownership tbody tr")).to_have_count(len(DOMAINS["customer"].attributes))
    expect(page.locator("[data-edit]")).to_have_count(0)
    expect(page.locator("#save-thresholds")).to_have_count(0)
    page.goto(f"{live_server.url}/steward/exceptions/{data.pk}")
    expect(page.locator("#resubmit-btn")).to_have_count(0)
    expect(page.locator("input[name=attr_country]")).to_have_count(0)
    # Even a hand-made POST with a valid CSRF token is refused on the server.
    status = page.evaluate(
        """async (url) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token},
                                        body: new URLSearchParams({attr_country: 'DE'})});
            return r.status;
        }""",
        f"/steward/exceptions/{data.pk}/resubmit",
    )
    assert status == 403
    assert RejectedRecord.objects.get(pk=data.pk).state == "open"
