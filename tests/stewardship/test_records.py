"""The golden-record browser: permissions on every view, search by name, golden id, merged id and
system id, the detail page's sections, unmerge (moves the chosen records, audit and history, a
second submit does nothing), and a bounded number of queries on the detail page."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord
from golden_records.services import merge_golden, set_override
from matching.models import MatchReview
from stewardship import records
from stewardship.models import StewardDecision
from stewardship.records import RecordSearch
from stewardship.services import StewardshipError
from sync.models import Delivery, OutboxEvent, Subscription
from tests.helpers import golden_of, put
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]
Item = GOLDEN_MODELS["item"]
DUNS = "150483782"


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def steward():
    return factories.user("stella", "steward")


@pytest.fixture
def viewer():
    return factories.user("vic", "viewer")


@pytest.fixture
def acme(api):
    """One customer held by ERP, CRM and the shop (linked by DUNS), and a second customer."""
    for system, source_id, body in (
        ("erp", "C-1", {"name": "Acme Corp", "credit_limit": "5000", "city": "Berlin"}),
        ("crm", "A-1", {"name": "ACME Corporation", "sales_owner": "jane", "city": "Potsdam"}),
        ("ecom", "W-1", {"name": "Acme Webshop", "email": "buy@acme.example"}),
    ):
        response = put(api[system], system, "customer", source_id, {**body, "duns": DUNS})
        assert response.status_code in (200, 201), response.content
    put(api["erp"], "erp", "customer", "C-2", {"name": "Globex Ltd", "city": "Leeds"})
    return golden_of("erp", "customer", "C-1")


def xref(system: str, source_id: str) -> SourceRecord:
    return SourceRecord.objects.get(system__code=system, source_id=source_id)


def detail_url(obj) -> str:
    return reverse("stewardship:record", args=[obj.domain.name, obj.pk])


def unmerge_url(obj) -> str:
    return reverse("stewardship:unmerge", args=[obj.domain.name, obj.pk])


def urls(acme) -> dict[str, tuple[str, str, dict]]:
    crm = xref("crm", "A-1")
    return {
        "search": ("get", reverse("stewardship:records"), {"q": "acme"}),
        "detail": ("get", detail_url(acme), {}),
        "unmerge-confirm": ("post", unmerge_url(acme), {"source": [crm.pk]}),
        "unmerge": ("post", unmerge_url(acme), {"source": [crm.pk], "confirm": "1"}),
    }


VIEWS = ["search", "detail", "unmerge-confirm", "unmerge"]
READS = {"search", "detail"}


class TestPermissions:
    @pytest.mark.parametrize("view", VIEWS)
    def test_anonymous_goes_to_the_login_page(self, acme, view):
        method, url, data = urls(acme)[view]
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    @pytest.mark.parametrize("view", VIEWS)
    def test_a_user_without_a_role_gets_403(self, acme, view):
        method, url, data = urls(acme)[view]
        assert getattr(client_for(factories.user("nobody")), method)(url, data).status_code == 403

    @pytest.mark.parametrize("view", VIEWS)
    def test_viewer_reads_but_does_not_act(self, acme, viewer, view):
        method, url, data = urls(acme)[view]
        response = getattr(client_for(viewer), method)(url, data)
        assert response.status_code == (200 if view in READS else 403)
        assert SourceRecord.objects.filter(golden_id=acme.pk).count() == 3
        assert not StewardDecision.objects.exists()

    @pytest.mark.parametrize(
        "groups,superuser", [(("steward",), False), (("admin",), False), ((), True)]
    )
    @pytest.mark.parametrize("view", VIEWS)
    def test_steward_admin_and_superuser_act(self, acme, view, groups, superuser):
        method, url, data = urls(acme)[view]
        actor = factories.user("actor", *groups, superuser=superuser)
        response = getattr(client_for(actor), method)(url, data)
        assert response.status_code == (302 if view == "unmerge" else 200)
        done = StewardDecision.objects.filter(actor=actor, action="unmerge").exists()
        assert done == (view == "unmerge")

    def test_viewer_sees_no_unmerge_controls(self, acme, viewer):
        page = client_for(viewer).get(detail_url(acme)).content.decode()
        assert 'name="source"' not in page and 'id="unmerge-btn"' not in page
        assert "unmerging needs the steward role" in page

    def test_unmerge_needs_post_and_csrf(self, acme, steward):
        url = unmerge_url(acme)
        assert client_for(steward).get(url).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(steward)
        crm = xref("crm", "A-1")
        assert strict.post(url, {"source": [crm.pk], "confirm": "1"}).status_code == 403
        assert xref("crm", "A-1").golden_id == acme.pk

    def test_records_entry_in_the_navigation(self, acme, viewer):
        html = client_for(viewer).get(reverse("stewardship:records")).content.decode()
        assert 'data-nav="records"' in html
        assert 'class="on" data-nav="records"' in html
        assert 'class="on" data-nav="reviews"' not in html


def search(**params) -> records.SearchResult:
    return records.search(RecordSearch(params), int(params.pop("page", 1)))


class TestSearch:
    def test_by_name_case_insensitive_contains(self, acme):
        result = search(q="acme")
        assert [(r.domain, r.obj.pk) for r in result.rows] == [("customer", acme.pk)]
        assert result.rows[0].systems == [("crm", 1), ("ecom", 1), ("erp", 1)]
        assert not result.hits
        assert [r.obj.name for r in search(q="GLOBEX").rows] == ["Globex Ltd"]

    def test_an_unusable_filter_is_ignored_not_the_search(self, acme):
        assert [r.obj.pk for r in search(q="acme", status="bogus", system="nope").rows] == [acme.pk]

    def test_name_attributes_come_from_the_domain_display(self):
        assert records.search_attributes(records.get_domain("item")) == ("name", "sku")
        assert records.search_attributes(records.get_domain("price")) == ("price_list",)
        assert records.search_attributes(records.get_domain("customer")) == ("name",)

    def test_items_by_sku_and_across_domains(self, api, acme):
        put(api["erp"], "erp", "item", "I-1", {"sku": "ACME-100", "name": "Anvil"})
        found = {(r.domain, str(r.obj)) for r in search(q="acme").rows}
        assert ("item", "Anvil · ACME-100") in found and len(found) == 2
        assert [r.domain for r in search(q="acme", domain="item").rows] == ["item"]

    def test_by_golden_id(self, acme):
        result = search(q=str(acme.pk))
        assert [(h.golden_id, h.how, h.resolved_from) for h in result.hits] == [
            (acme.pk, "golden id", None)
        ]

    def test_a_merged_id_resolves_to_its_survivor(self, acme, steward):
        globex = golden_of("erp", "customer", "C-2")
        merge_golden("customer", acme.pk, [globex.pk], ChangeOrigin.steward(steward))
        result = search(q=str(globex.pk).upper())
        assert [(h.golden_id, h.resolved_from) for h in result.hits] == [(acme.pk, globex.pk)]
        # Active records only by default: the survivor (now named by the newer ERP record).
        assert [r.obj.pk for r in search(q="globex").rows] == [acme.pk]
        merged = search(q="globex", status="merged").rows
        assert [r.obj.pk for r in merged] == [globex.pk]

    def test_by_a_systems_id_optionally_narrowed_by_system(self, acme):
        hits = search(q="A-1").hits
        assert [(h.golden_id, h.how) for h in hits] == [(acme.pk, "crm id A-1")]
        assert not search(q="A-1", system="erp").hits
        assert search(q="A-1", system="crm").hits[0].golden_id == acme.pk

    def test_system_filter_and_paging(self, api, acme):
        for n in range(records.PER_PAGE + 5):
            put(api["wms"], "wms", "customer", f"W-{n}", {"name": f"Wholesale {n:03d}"})
        first = search(system="wms", sort="name")
        assert len(first.rows) == records.PER_PAGE and first.has_next
        assert first.rows[0].obj.name == "Wholesale 000"
        second = search(system="wms", sort="name", page=2)
        assert [r.obj.name for r in second.rows] == [f"Wholesale {n:03d}" for n in range(50, 55)]
        assert not second.has_next
        assert (second.start, second.end) == (51, 55)

    def test_search_page_queries_are_bounded(
        self, api, acme, viewer, django_assert_max_num_queries
    ):
        for n in range(30):
            put(api["wms"], "wms", "customer", f"W-{n}", {"name": f"Acme branch {n}"})
        client = client_for(viewer)
        with django_assert_max_num_queries(20):
            response = client.get(reverse("stewardship:records"), {"q": "acme"})
        assert response.content.decode().count("data-record=") == 31

    def test_search_page_renders_hits_and_the_merged_notice(self, acme, steward, viewer):
        globex = golden_of("erp", "customer", "C-2")
        merge_golden("customer", acme.pk, [globex.pk], ChangeOrigin.steward(steward))
        html = client_for(viewer).get(reverse("stewardship:records"), {"q": str(globex.pk)})
        text = html.content.decode()
        assert f'data-hit="{acme.pk}"' in text
        assert f"<b>{globex.pk}</b> was merged into this record" in text

    def test_htmx_gets_the_results_fragment(self, acme, viewer):
        response = client_for(viewer).get(
            reverse("stewardship:records"), {"q": "acme"}, HTTP_HX_REQUEST="true"
        )
        text = response.content.decode()
        assert text.lstrip().startswith('<div id="results">') and "<html" not in text


class TestDetail:
    def test_sections(self, acme, viewer):
        response = client_for(viewer).get(detail_url(acme))
        assert response.status_code == 200
        html = response.content.decode()
        for section in ("attributes", "xrefs", "hierarchy", "history", "audit", "tasks"):
            assert f'id="{section}"' in html
        rows = {r.name: r for r in response.context["rows"]}
        assert rows["name"].value == "Acme Corp"
        assert rows["name"].lineage["system"] == "erp"
        # Non-owner values that differ from the golden one.
        assert {(o["system"], o["value"]) for o in rows["name"].others} == {
            ("crm", "ACME Corporation"),
            ("ecom", "Acme Webshop"),
        }
        assert 'data-discrepancy="crm"' in html
        assert html.count('data-source="') == 3
        assert "payload_hash" not in html and xref("erp", "C-1").payload_hash[:12] in html
        assert "none (top of its hierarchy)" in html
        assert 'id="deliveries"' in html and "No subscription receives customer records" in html

    def test_steward_override_is_marked(self, acme, steward, viewer):
        set_override("customer", acme.pk, "name", "ACME Corp.", steward, reason="legal name")
        response = client_for(viewer).get(detail_url(acme))
        row = {r.name: r for r in response.context["rows"]}["name"]
        assert row.by_steward and row.value == "ACME Corp."
        assert "steward override" in response.content.decode()

    def test_hierarchy_children_and_locations(self, api, acme, viewer):
        put(api["crm"], "crm", "customer", "K-1", {"name": "Acme Kids", "parent": "A-1"})
        billing = {"name": "Acme billing", "kind": "bill_to", "customer": "C-1", "city": "Berlin"}
        put(api["erp"], "erp", "location", "L-1", billing)
        response = client_for(viewer).get(detail_url(acme))
        hierarchy = response.context["hierarchy"]
        assert [c.name for c in hierarchy["children"]] == ["Acme Kids"]
        assert [(loc.name, loc.kind) for loc in hierarchy["locations"]] == [
            ("Acme billing", "bill_to")
        ]
        kid = golden_of("crm", "customer", "K-1")
        kid_page = client_for(viewer).get(detail_url(kid))
        assert kid_page.context["hierarchy"]["parent"].pk == acme.pk

    def test_item_prices(self, api, viewer):
        put(api["erp"], "erp", "item", "I-1", {"sku": "AN-1", "name": "Anvil"})
        price = {"item": "I-1", "price_list": "LIST", "currency": "EUR", "unit_price": "12.50"}
        put(api["erp"], "erp", "price", "PR-1", {**price, "valid_from": "2026-01-01"})
        item = golden_of("erp", "item", "I-1")
        response = client_for(viewer).get(detail_url(item))
        assert [p.price_list for p in response.context["hierarchy"]["prices"]] == ["LIST"]
        assert 'id="prices"' in response.content.decode()

    def test_open_tasks_and_deliveries(self, acme, viewer):
        crm = xref("crm", "A-1")
        other = SourceRecord.objects.get(source_id="C-2")
        review = factories.review(crm, other, 0.7)
        subscription = Subscription.objects.create(
            system=xref("erp", "C-1").system,
            name="erp-out",
            domains=["customer"],
            endpoint_url="https://erp.example/hook",
        )
        Subscription.objects.create(
            system=other.system,
            name="items-only",
            domains=["item"],
            endpoint_url="https://x.example",
        )
        event = OutboxEvent.objects.filter(golden_id=acme.pk).order_by("-version").first()
        assert event is not None
        Delivery.objects.create(
            event=event,
            subscription=subscription,
            domain="customer",
            golden_id=acme.pk,
            version=event.version,
            status="dead",
            attempts=5,
            next_attempt_at=event.created_at,
            created_at=event.created_at,
            last_status_code=500,
            last_error="boom",
        )
        response = client_for(viewer).get(detail_url(acme))
        assert [r.pk for r in response.context["reviews"]] == [review.pk]
        states = response.context["deliveries"]
        assert [s.subscription.name for s in states] == ["erp-out"]
        assert states[0].delivery.status == "dead"
        html = response.content.decode()
        assert f'data-task="{review.pk}"' in html and "boom" in html

    def test_history_shows_field_diffs_and_origin(self, api, acme, viewer):
        change = {"name": "Acme Corporation GmbH", "credit_limit": "7000", "duns": DUNS}
        put(api["erp"], "erp", "customer", "C-1", change)
        response = client_for(viewer).get(detail_url(acme))
        newest = response.context["history"][0]
        changes = {c.name: (c.old, c.new) for c in newest.changes}
        assert changes["name"] == ("Acme Corp", "Acme Corporation GmbH")
        assert changes["credit limit"] == ("5000", "7000")
        assert (newest.row.actor_type, newest.row.actor) == ("source_system", "erp")
        html = response.content.decode()
        assert "Acme Corporation GmbH" in html and 'class="old"' in html

    def test_a_merged_id_redirects_to_the_survivor_with_a_notice(self, acme, steward, viewer):
        globex = golden_of("erp", "customer", "C-2")
        merge_golden("customer", acme.pk, [globex.pk], ChangeOrigin.steward(steward))
        client = client_for(viewer)
        response = client.get(detail_url(globex))
        assert response.status_code == 302 and response["Location"] == detail_url(acme)
        page = client.get(response["Location"]).content.decode()
        assert f"{globex.pk} was merged into {acme.pk}" in page
        assert str(globex.pk)[:8] in page  # "also known as"

    def test_unknown_domain_or_id_is_404(self, acme, viewer):
        client = client_for(viewer)
        assert client.get(f"/steward/records/widget/{acme.pk}").status_code == 404
        assert client.get(f"/steward/records/customer/{uuid.uuid4()}").status_code == 404
        assert client.get(f"/steward/records/item/{acme.pk}").status_code == 404

    def test_query_count_does_not_grow(
        self, api, acme, steward, viewer, django_assert_max_num_queries
    ):
        client = client_for(viewer)

        def count() -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(detail_url(acme)).status_code == 200
            return len(ctx.captured_queries)

        small = count()
        # Many more source records, history rows and decisions on the same record.
        for n in range(25):
            put(api["wms"], "wms", "customer", f"X-{n}", {"name": f"Acme {n}", "duns": DUNS})
        for n in range(3):
            records.unmerge_records(
                "customer", acme.pk, {xref("wms", f"X-{n}").pk}, steward, f"split {n}"
            )
        for n in range(30):
            change = {"name": "Acme Corp", "credit_limit": str(6000 + n), "duns": DUNS}
            put(api["erp"], "erp", "customer", "C-1", change)
        assert SourceRecord.objects.filter(golden_id=acme.pk).count() == 25
        assert Customer.history.filter(golden_id=acme.pk).count() > 30
        assert StewardDecision.objects.filter(golden_id=acme.pk).count() == 3
        assert count() == small
        with django_assert_max_num_queries(20):
            client.get(detail_url(acme))


class TestUnmerge:
    def test_confirmation_shows_what_will_happen(self, acme, steward):
        Subscription.objects.create(
            system=xref("crm", "A-1").system,
            name="crm-accounts",
            domains=["customer"],
            endpoint_url="https://crm.example/hook",
        )
        crm = xref("crm", "A-1")
        response = client_for(steward).post(unmerge_url(acme), {"source": [crm.pk]})
        assert response.status_code == 200
        preview = response.context["preview"]
        assert [s.source_id for s in preview.moving] == ["A-1"]
        assert {s.source_id for s in preview.staying} == {"C-1", "W-1"}
        new_values = {name: value for name, value, _ in preview.new_values}
        assert new_values["name"] == "ACME Corporation" and new_values["sales owner"] == "jane"
        assert ("sales owner", "jane", "") in preview.changed
        assert [s.name for s in preview.subscriptions] == ["crm-accounts"]
        assert xref("crm", "A-1").golden_id == acme.pk  # nothing written yet
        assert not StewardDecision.objects.exists()

    def test_unmerge_moves_records_writes_audit_and_history(self, acme, steward):
        crm, ecom = xref("crm", "A-1"), xref("ecom", "W-1")
        client = client_for(steward)
        response = client.post(
            unmerge_url(acme),
            {"source": [crm.pk, ecom.pk], "confirm": "1", "note": "different companies"},
        )
        decision = StewardDecision.objects.get(action="unmerge")
        new_id = decision.related_golden_id
        assert response.status_code == 302
        assert response["Location"] == reverse("stewardship:record", args=["customer", new_id])
        moved = SourceRecord.objects.filter(golden_id=new_id).values_list("source_id", flat=True)
        assert set(moved) == {"A-1", "W-1"}
        assert SourceRecord.objects.get(source_id="C-1").golden_id == acme.pk
        assert (decision.golden_id, decision.review_id, decision.actor_name) == (
            acme.pk,
            None,
            "stella",
        )
        assert decision.note == "different companies"
        assert decision.before["attributes"]["sales_owner"] == "jane"
        assert not decision.after["attributes"]["sales_owner"]
        assert decision.after["new_attributes"]["name"] == "ACME Corporation"
        assert [m["source_id"] for m in decision.after["moved"]] == ["A-1", "W-1"]
        # History on both records says who did it, through the UI.
        new = Customer.objects.get(pk=new_id)
        created = new.history.get()
        assert (created.history_type, created.actor_type, created.actor, created.channel) == (
            "+",
            "steward",
            "stella",
            "ui",
        )
        latest = Customer.history.filter(golden_id=acme.pk).order_by("-history_date").first()
        assert (latest.actor, latest.channel) == ("stella", "ui")
        # Downstream hears of both.
        events = OutboxEvent.objects.filter(golden_id__in=[acme.pk, new_id])
        types = set(events.values_list("golden_id", "type"))
        assert (acme.pk, "unmerged") in types and (new_id, "created") in types
        # The notice links both; the audit entry shows on both records.
        page = client.get(response["Location"]).content.decode()
        assert detail_url(acme) in page and "Split crm A-1, ecom W-1 out of" in page
        for obj in (acme, new):
            html = client.get(detail_url(obj)).content.decode()
            assert 'data-decision="unmerge"' in html

    def test_the_old_golden_id_keeps_resolving(self, acme, steward):
        records.unmerge_records("customer", acme.pk, {xref("crm", "A-1").pk}, steward)
        acme.refresh_from_db()
        assert acme.record_status == GoldenStatus.ACTIVE
        assert search(q=str(acme.pk)).hits[0].golden_id == acme.pk

    def test_a_second_submit_does_nothing_twice(self, acme, steward):
        crm = xref("crm", "A-1")
        client = client_for(steward)
        data = {"source": [crm.pk], "confirm": "1"}
        client.post(unmerge_url(acme), data)
        new_id = xref("crm", "A-1").golden_id
        events = OutboxEvent.objects.count()
        response = client.post(unmerge_url(acme), data, follow=True)
        assert StewardDecision.objects.filter(action="unmerge").count() == 1
        assert OutboxEvent.objects.count() == events
        assert xref("crm", "A-1").golden_id == new_id
        text = response.content.decode()
        assert "Nothing was changed: crm A-1 is no longer linked to this record" in text
        assert "already split out by stella" in text

    def test_a_stale_confirmation_page_is_refused(self, acme, steward):
        crm = xref("crm", "A-1")
        records.unmerge_records("customer", acme.pk, {crm.pk}, steward)
        response = client_for(steward).post(unmerge_url(acme), {"source": [crm.pk]}, follow=True)
        assert "Nothing to confirm" in response.content.decode()

    def test_all_or_none_is_refused(self, acme, steward):
        every = set(SourceRecord.objects.filter(golden_id=acme.pk).values_list("pk", flat=True))
        with pytest.raises(StewardshipError) as error:
            records.unmerge_records("customer", acme.pk, every, steward)
        assert error.value.code == "invalid_split"
        with pytest.raises(StewardshipError) as error:
            records.unmerge_records("customer", acme.pk, set(), steward)
        assert error.value.code == "nothing_selected"
        client = client_for(steward)
        response = client.post(unmerge_url(acme), {"source": list(every)}, follow=True)
        assert "Leave at least one source record" in response.content.decode()
        assert not StewardDecision.objects.exists()

    def test_a_merged_record_cannot_be_split(self, acme, steward):
        globex = golden_of("erp", "customer", "C-2")
        merge_golden("customer", globex.pk, [acme.pk], ChangeOrigin.steward(steward))
        with pytest.raises(StewardshipError) as error:
            records.unmerge_records("customer", acme.pk, {xref("crm", "A-1").pk}, steward)
        assert error.value.code == "golden_record_not_active"

    def test_the_review_decision_that_merged_shows_on_the_record(self, steward, viewer):
        review = factories.pair(1)
        from stewardship import services

        services.comment_review(review.pk, steward, "same VAT number on both invoices")
        services.decide_review(review.pk, "merge", steward)
        survivor = Customer.objects.get(pk=SourceRecord.objects.get(source_id="E-1").golden_id)
        html = client_for(viewer).get(detail_url(survivor)).content.decode()
        assert 'data-decision="merge"' in html and 'data-decision="comment"' in html
        assert "same VAT number on both invoices" in html
        assert MatchReview.objects.get(pk=review.pk).status == "merged"


def test_a_record_with_one_source_record_offers_no_unmerge(api, steward):
    put(api["erp"], "erp", "customer", "S-1", {"name": "Solo GmbH"})
    solo = golden_of("erp", "customer", "S-1")
    html = client_for(steward).get(detail_url(solo)).content.decode()
    assert 'name="source"' not in html and "nothing to unmerge" in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_stewards_unmerging_at_once_split_once(api):
    """Both submit the same split at the same moment: the golden row lock makes the second see
    the records gone; one new record, one audit row, the second told who did it."""
    import threading

    from django.db import connections

    for system, source_id in (("erp", "C-1"), ("crm", "A-1"), ("ecom", "W-1")):
        put(api[system], system, "customer", source_id, {"name": "Acme", "duns": DUNS})
    acme = golden_of("erp", "customer", "C-1")
    crm = xref("crm", "A-1")
    alice, bob = factories.user("alice", "steward"), factories.user("bob", "steward")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def split(user):
        try:
            barrier.wait()
            outcomes.append(records.unmerge_records("customer", acme.pk, {crm.pk}, user))
        except StewardshipError as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=split, args=(u,)) for u in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [o for o in outcomes if isinstance(o, StewardshipError)]
    assert len(outcomes) == 2 and len(refused) == 1
    assert refused[0].code == "source_records_moved"
    assert "already split out by" in refused[0].message
    decision = StewardDecision.objects.get(action="unmerge")
    assert xref("crm", "A-1").golden_id == decision.related_golden_id
    assert Customer.objects.filter(record_status="active").count() == 2
