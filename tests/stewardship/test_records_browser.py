"""The golden-record browser in a real browser (Chromium, headless) against a live server: a
steward searches a customer, opens it, unmerges one source record and finds the new record and
the audit entry on both; a viewer sees no unmerge control and is refused on POST. Screenshots go
to var/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from golden_records.models import SourceRecord
from stewardship.models import StewardDecision
from sync.models import Subscription
from tests.conftest import make_system
from tests.helpers import golden_of, put
from tests.stewardship import factories
from tests.stewardship.test_browser import shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_async_unsafe_allowed"),
]

DUNS = "150483782"


@pytest.fixture
def data(api):
    """Northwind, held by ERP, CRM and the web shop (one DUNS), with a parent, a bill-to and a
    ship-to location; a few other customers and an item with prices; a paused subscription."""
    holding = {"name": "Northwind Holding AG", "city": "Zug", "country": "CH"}
    put(api["erp"], "erp", "customer", "100000", holding)
    put(
        api["crm"],
        "crm",
        "customer",
        "CRM-000",
        {"name": "Northwind Holding", "duns": DUNS[:-1] + "3"},
    )
    customers = [
        (
            "erp",
            "100001",
            {
                "name": "Northwind Traders GmbH",
                "address_line1": "Friedrichstrasse 123",
                "city": "Berlin",
                "postal_code": "10117",
                "country": "DE",
                "phone": "+493023456789",
                "payment_terms": "NET30",
                "credit_limit": "25000.00",
                "credit_currency": "EUR",
                "status": "active",
            },
        ),
        (
            "crm",
            "CRM-001",
            {
                "name": "Northwind Traders",
                "address_line1": "Friedrichstr. 123",
                "city": "Berlin",
                "postal_code": "10117",
                "country": "DE",
                "segment": "Key account",
                "sales_owner": "M. Weber",
                "website": "northwind.example",
                "parent": "CRM-000",
            },
        ),
        (
            "ecom",
            "SHOP-77",
            {
                "name": "Northwind Trading Online",
                "email": "orders@northwind.example",
                "city": "Berlin",
                "country": "DE",
            },
        ),
    ]
    for system, source_id, body in customers:
        response = put(api[system], system, "customer", source_id, {**body, "duns": DUNS})
        assert response.status_code in (200, 201), response.content
    others = [
        ("Contoso Industrial Supply Inc", "Philadelphia"),
        ("Fabrikam Fasteners Ltd", "Leeds"),
        ("Tailspin Tools SARL", "Lyon"),
        ("Northbound Logistics BV", "Rotterdam"),
    ]
    for n, (name, city) in enumerate(others, start=2):
        put(api["erp"], "erp", "customer", f"1000{n:02d}", {"name": name, "city": city})
    for source_id, kind, name in (
        ("L-1", "bill_to", "Northwind billing"),
        ("L-2", "ship_to", "Northwind warehouse dock 3"),
    ):
        address = {"address_line1": "Friedrichstrasse 123", "city": "Berlin", "country": "DE"}
        location = {"name": name, "kind": kind, "customer": "100001", **address}
        put(api["erp"], "erp", "location", source_id, location)
    put(api["erp"], "erp", "item", "I-1", {"sku": "NW-100", "name": "Northwind anvil"})
    Subscription.objects.create(
        system=make_system("crm"),
        name="crm-accounts",
        domains=["customer"],
        endpoint_url="https://crm.example/hooks/mdm",
        state=Subscription.State.PAUSED,  # nothing is sent
    )
    factories.user("stella", "steward")
    factories.user("vic", "viewer")
    return golden_of("erp", "customer", "100001")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/steward/records")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/steward/records")


def test_steward_searches_opens_and_unmerges(page: Page, live_server, data):
    northwind = data
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, live_server.url, "stella")
    expect(page.locator("[data-nav=records]")).to_have_class("on")

    page.fill("#q", "northwind")
    page.press("#q", "Enter")
    page.wait_for_url("**/steward/records?*q=northwind*")
    rows = page.locator("#results tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.locator(f"tr[data-record='{northwind.pk}']")).to_contain_text("Northwind Traders")
    shot(page, "records-search")

    # A filter swaps the results (HTMX) and the URL follows.
    page.select_option("select[name=domain]", "location")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    assert "domain=location" in page.url
    page.select_option("select[name=domain]", "")

    # A system's id finds the record too.
    page.fill("#q", "CRM-001")
    page.press("#q", "Enter")
    expect(page.locator(f"#hits [data-hit='{northwind.pk}']")).to_contain_text("crm id CRM-001")
    page.click(f"#hits [data-hit='{northwind.pk}'] a.rec")
    page.wait_for_url(f"**/steward/records/customer/{northwind.pk}")
    expect(page.locator("tr[data-attr=name] td.val")).to_have_text("Northwind Traders GmbH")
    expect(page.locator("tr[data-attr=name] [data-discrepancy=crm]")).to_contain_text(
        "Northwind Traders"
    )
    expect(page.locator("#xrefs tbody tr")).to_have_count(3)
    expect(page.locator("#hierarchy [data-location]")).to_have_count(2)
    expect(page.locator("[data-subscription=crm-accounts]")).to_be_visible()
    shot(page, "record-detail")

    # Split the web shop's record out.
    expect(page.locator("#unmerge-btn")).to_be_disabled()
    page.check("tr[data-source='ecom/SHOP-77'] input[name=source]")
    expect(page.locator("#split-sel")).to_have_text("1 selected")
    page.click("#unmerge-btn")
    expect(page.locator("h1")).to_contain_text("Split 1 source record out of")
    expect(page.locator("[data-moving='ecom/SHOP-77']")).to_be_visible()
    expect(page.locator("#told")).to_contain_text("crm-accounts")
    shot(page, "record-unmerge-confirm")
    page.fill("input[name=note]", "The web shop account is a different company")
    page.click("button[data-confirm]")

    shop = SourceRecord.objects.get(source_id="SHOP-77")
    page.wait_for_url(f"**/steward/records/customer/{shop.golden_id}")
    assert shop.golden_id != northwind.pk
    expect(page.locator(".messages")).to_contain_text("Split ecom SHOP-77 out of")
    expect(page.locator("h1")).to_have_text("Northwind Trading Online")
    expect(page.locator("#xrefs tbody tr")).to_have_count(1)
    expect(page.locator("#audit [data-decision=unmerge]")).to_contain_text("stella")
    expect(page.locator("#audit [data-decision=unmerge]")).to_contain_text("different company")
    shot(page, "record-after-unmerge")

    # The notice links the original record, which shows the same audit entry.
    page.click(f".messages a[href$='{northwind.pk}']")
    page.wait_for_url(f"**/steward/records/customer/{northwind.pk}")
    expect(page.locator("#xrefs tbody tr")).to_have_count(2)
    expect(page.locator("#audit [data-decision=unmerge]")).to_contain_text("stella")
    expect(page.locator("#history [data-history]").first).to_contain_text("stella")
    decision = StewardDecision.objects.get(action="unmerge")
    assert (decision.golden_id, decision.related_golden_id) == (northwind.pk, shop.golden_id)


def test_viewer_sees_no_unmerge_and_is_refused(page: Page, live_server, data):
    northwind = data
    login(page, live_server.url, "vic")
    page.goto(f"{live_server.url}/steward/records/customer/{northwind.pk}")
    expect(page.locator("#attributes")).to_be_visible()
    expect(page.locator("#unmerge-btn")).to_have_count(0)
    expect(page.locator("input[name=source]")).to_have_count(0)
    shop = SourceRecord.objects.get(source_id="SHOP-77")
    status = page.evaluate(
        """async ([url, id]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token},
                                        body: new URLSearchParams({source: id, confirm: '1'})});
            return r.status;
        }""",
        [f"/steward/records/customer/{northwind.pk}/unmerge", str(shop.pk)],
    )
    assert status == 403
    assert SourceRecord.objects.get(source_id="SHOP-77").golden_id == northwind.pk
    assert not StewardDecision.objects.exists()
