"""The steward pages: permissions on every view, the queue's filters, sort, pages and counts,
the review page's comparison and previews, actions, and what the second of two stewards sees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from golden_records.models import GOLDEN_MODELS, AttributeOverride, GoldenStatus
from matching.models import MatchReview, ReviewStatus
from stewardship import queue, services
from stewardship.models import ReviewTask, StewardDecision
from sync.models import Subscription
from tests.conftest import make_system
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def review():
    return factories.pair(1, probability=0.83)


@pytest.fixture
def steward():
    return factories.user("stella", "steward")


@pytest.fixture
def viewer():
    return factories.user("vic", "viewer")


def urls(review_id: int) -> dict[str, tuple[str, str, dict]]:
    """Every view: name -> (method, url, data)."""
    return {
        "queue": ("get", reverse("stewardship:queue"), {}),
        "review": ("get", reverse("stewardship:review", args=[review_id]), {}),
        "bulk": (
            "post",
            reverse("stewardship:bulk"),
            {"action": "reject", "ids": [review_id], "confirm": "1"},
        ),
        "decide": (
            "post",
            reverse("stewardship:decide", args=[review_id]),
            {"decision": "reject"},
        ),
        "defer": ("post", reverse("stewardship:defer", args=[review_id]), {"until": ""}),
        "assign": ("post", reverse("stewardship:assign", args=[review_id]), {"assignee": "me"}),
        "comment": ("post", reverse("stewardship:comment", args=[review_id]), {"text": "hi"}),
    }


READS = {"queue", "review"}


class TestPermissions:
    @pytest.mark.parametrize("view", list(urls(1)))
    def test_anonymous_goes_to_the_login_page(self, review, view):
        method, url, data = urls(review.pk)[view]
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    @pytest.mark.parametrize("view", list(urls(1)))
    def test_a_user_without_a_role_gets_403(self, review, view):
        method, url, data = urls(review.pk)[view]
        nobody = factories.user("nobody")
        assert getattr(client_for(nobody), method)(url, data).status_code == 403

    @pytest.mark.parametrize("view", list(urls(1)))
    def test_viewer_reads_but_does_not_act(self, review, viewer, view):
        method, url, data = urls(review.pk)[view]
        response = getattr(client_for(viewer), method)(url, data)
        assert response.status_code == (200 if view in READS else 403)
        review.refresh_from_db()
        assert review.status == ReviewStatus.OPEN
        assert not StewardDecision.objects.exists()

    @pytest.mark.parametrize(
        "groups,superuser", [(("steward",), False), (("admin",), False), ((), True)]
    )
    @pytest.mark.parametrize("view", list(urls(1)))
    def test_steward_admin_and_superuser_act(self, review, view, groups, superuser):
        method, url, data = urls(review.pk)[view]
        actor = factories.user("actor", *groups, superuser=superuser)
        response = getattr(client_for(actor), method)(url, data)
        assert response.status_code in (200, 302)
        if view not in READS and view != "defer":
            assert StewardDecision.objects.filter(actor=actor).exists()

    def test_viewer_sees_no_action_buttons(self, review, viewer):
        page = client_for(viewer).get(reverse("stewardship:review", args=[review.pk])).content
        assert b'id="merge-btn"' not in page and b'name="keep_' not in page
        assert b"deciding needs the steward role" in page
        queue = client_for(viewer).get(reverse("stewardship:queue")).content
        assert b'name="ids"' not in queue and b"Merge selected" not in queue

    def test_actions_need_post_and_csrf(self, review, steward):
        url = reverse("stewardship:decide", args=[review.pk])
        assert client_for(steward).get(url).status_code == 405
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(steward)
        assert strict.post(url, {"decision": "merge"}).status_code == 403
        review.refresh_from_db()
        assert review.status == ReviewStatus.OPEN


class TestQueue:
    def test_open_reviews_with_counts_in_the_navigation(self, steward):
        for n in range(3):
            factories.pair(n)
        response = client_for(steward).get(reverse("stewardship:queue"))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-nav="reviews">Reviews' in html
        assert html.count('data-review="') == 3
        assert response.context["counts"] == {"open": 3, "mine": 0, "unassigned": 3, "deferred": 0}

    def test_filters(self, steward):
        old = factories.pair(1, age_days=10)
        new = factories.pair(2, system="wms")
        mine = factories.pair(3)
        services.assign_review(mine.pk, steward, steward)
        deferred = factories.pair(4)
        services.defer_review(deferred.pk, steward, timezone.now() + dt.timedelta(days=2))

        def ids(**params):
            response = client_for(steward).get(reverse("stewardship:queue"), params)
            return {r.pk for r in response.context["rows"]}

        assert ids() == {old.pk, new.pk, mine.pk}
        assert ids(system="wms") == {new.pk}
        assert ids(system="erp") == {old.pk, new.pk, mine.pk}
        assert ids(age="older7d") == {old.pk}
        assert ids(age="1d") == {new.pk, mine.pk}
        assert ids(assignee=str(steward.pk)) == {mine.pk}
        assert ids(assignee="none") == {old.pk, new.pk}
        assert ids(view="mine") == {mine.pk}
        assert ids(view="deferred") == {deferred.pk}
        assert ids(domain="item") == set()
        assert ids(domain="nonsense", age="x") == {old.pk, new.pk, mine.pk}  # ignored

    def test_sort_and_pages(self, steward, settings):
        reviews = [factories.pair(n, probability=0.6 + n / 100, age_days=n) for n in range(5)]
        get = lambda **p: client_for(steward).get(reverse("stewardship:queue"), p)  # noqa: E731
        assert [r.pk for r in get().context["rows"]] == [r.pk for r in reversed(reviews)]
        assert [r.pk for r in get(sort="probability").context["rows"]] == [r.pk for r in reviews]
        assert get(sort="age").context["rows"][0].pk == reviews[-1].pk

        original, queue.PER_PAGE = queue.PER_PAGE, 2
        try:
            page = get(page=3)
        finally:
            queue.PER_PAGE = original
        assert [r.pk for r in page.context["rows"]] == [reviews[0].pk]

    def test_htmx_gets_the_table_only(self, steward, review):
        response = client_for(steward).get(reverse("stewardship:queue"), HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="queue">')
        assert "<html" not in html

    def test_bounded_queries(self, steward):
        for n in range(3):
            factories.pair(n)
        client = client_for(steward)
        client.get(reverse("stewardship:queue"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("stewardship:queue"))
        for n in range(3, 12):
            factories.pair(n)
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("stewardship:queue"))
        assert len(many) == len(few) <= 12


class TestBulk:
    def test_confirm_then_apply(self, steward):
        a, b, c = (factories.pair(n) for n in range(3))
        client = client_for(steward)
        url = reverse("stewardship:bulk")
        confirm = client.post(url, {"action": "merge", "ids": [a.pk, b.pk]})
        assert confirm.status_code == 200
        assert b"Merge 2 pairs?" in confirm.content
        assert MatchReview.objects.filter(status="open").count() == 3  # nothing yet

        done = client.post(url, {"action": "merge", "ids": [a.pk, b.pk], "confirm": "1"})
        assert done.status_code == 302
        statuses = dict(MatchReview.objects.values_list("pk", "status"))
        assert statuses == {a.pk: "merged", b.pk: "merged", c.pk: "open"}
        assert StewardDecision.objects.filter(bulk=True, action="merge").count() == 2

        client.post(url, {"action": "reject", "ids": [a.pk, c.pk], "confirm": "1"})
        assert MatchReview.objects.get(pk=c.pk).status == "rejected"
        assert MatchReview.objects.get(pk=a.pk).status == "merged"  # not applied twice

    def test_nothing_selected(self, steward):
        response = client_for(steward).post(reverse("stewardship:bulk"), {"action": "merge"})
        assert response.status_code == 302


class TestReviewPage:
    def test_side_by_side_with_explanation_and_previews(self, steward, review):
        make_system("ecom", "ecommerce")
        Subscription.objects.create(
            system=make_system("crm"),
            name="crm-accounts",
            domains=["customer"],
            fields={"customer": {"name": "AccountName", "segment": "Segment"}},
            endpoint_url="https://crm.example/hook",
        )
        response = client_for(steward).get(reverse("stewardship:review", args=[review.pk]))
        assert response.status_code == 200
        preview = response.context["preview"]
        rows = {r.name: r for r in preview.rows}
        assert rows["name"].state == "differ"
        assert rows["name"].contribution == -2.1 and rows["name"].similarity == 0.62
        assert rows["phone"].state == "same" and rows["phone"].contribution == 5.0
        assert rows["segment"].state == "left_only"
        # Survivorship: ERP first for the name; CRM's segment is kept.
        assert rows["name"].result == "Northwind Traders 1 GmbH"
        assert rows["name"].result_system == "erp"
        assert rows["segment"].result == "Key account"
        assert [c.label for c in rows["name"].choices] == [
            "Northwind Traders 1 GmbH · erp",
            "Northwind Traders 1 · crm",
        ]
        [sub] = preview.subscribers
        assert sub.their_id == "A-1"  # the CRM record moves to the survivor
        assert dict((k, v) for k, v, _ in sub.fields) == {
            "AccountName": "Northwind Traders 1 GmbH",
            "Segment": "Key account",
        }
        assert dict((k, c) for k, _, c in sub.fields) == {"AccountName": False, "Segment": True}
        html = response.content.decode()
        assert 'id="merge-btn"' in html and "<kbd>m</kbd>" in html and "<kbd>j</kbd>" in html
        # Nothing was written.
        assert Customer.objects.filter(record_status=GoldenStatus.ACTIVE).count() == 2

    def test_bounded_queries(self, steward, review):
        client = client_for(steward)
        url = reverse("stewardship:review", args=[review.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= 25

    def test_merge_with_a_chosen_value_then_next(self, steward, review):
        other = factories.pair(2, probability=0.7)
        response = client_for(steward).post(
            reverse("stewardship:decide", args=[review.pk]),
            {"decision": "merge", "keep_name": f"s{review.source_record_id}", "keep_city": ""},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("stewardship:review", args=[other.pk])
        survivor = review.candidate_record.golden_id
        assert Customer.objects.get(pk=survivor).name == "Northwind Traders 1"
        assert AttributeOverride.objects.get(golden_id=survivor).attribute == "name"

    def test_a_chosen_value_comes_from_the_records_not_the_form(self, steward, review):
        stranger = factories.pair(9)
        client_for(steward).post(
            reverse("stewardship:decide", args=[review.pk]),
            {"decision": "merge", "keep_name": f"s{stranger.source_record_id}"},
        )
        assert not AttributeOverride.objects.exists()

    def test_second_steward_sees_it_was_decided_and_by_whom(self, steward, review):
        other = factories.user("otto", "steward")
        client_for(steward).post(
            reverse("stewardship:decide", args=[review.pk]), {"decision": "merge"}
        )
        late = client_for(other)
        response = late.post(
            reverse("stewardship:decide", args=[review.pk]), {"decision": "reject"}, follow=True
        )
        html = response.content.decode()
        assert "already merged by stella" in html
        assert "data-decided-by>stella<" in html
        assert 'id="merge-btn"' not in html
        assert StewardDecision.objects.filter(action__in=["merge", "reject"]).count() == 1
        assert MatchReview.objects.get(pk=review.pk).status == "merged"

    def test_defer_hides_until_the_date(self, steward, review):
        url = reverse("stewardship:defer", args=[review.pk])
        client = client_for(steward)
        assert client.post(url, {"until": str(timezone.localdate())}).status_code == 302
        assert not ReviewTask.objects.exists()  # today is refused
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        client.post(url, {"until": str(tomorrow)})
        assert ReviewTask.objects.get().deferred_until.date() == tomorrow
        queue = client.get(reverse("stewardship:queue"))
        assert queue.context["counts"]["open"] == 0 and queue.context["counts"]["deferred"] == 1

    def test_assign_and_comment_with_htmx_return_the_side_panel(self, steward, review):
        client = client_for(steward)
        response = client.post(
            reverse("stewardship:assign", args=[review.pk]),
            {"assignee": str(steward.pk)},
            HTTP_HX_REQUEST="true",
        )
        assert response.content.decode().lstrip().startswith('<div id="side">')
        assert "stella" in response.content.decode()
        response = client.post(
            reverse("stewardship:comment", args=[review.pk]),
            {"text": "Checked the tax office."},
            HTTP_HX_REQUEST="true",
        )
        assert "Checked the tax office." in response.content.decode()

    def test_assign_only_to_a_steward(self, steward, viewer, review):
        client_for(steward).post(
            reverse("stewardship:assign", args=[review.pk]), {"assignee": str(viewer.pk)}
        )
        assert not ReviewTask.objects.filter(assignee=viewer).exists()

    def test_neighbours_follow_the_queue(self, steward):
        low, mid, high = (factories.pair(n, probability=p) for n, p in enumerate((0.6, 0.7, 0.8)))
        response = client_for(steward).get(reverse("stewardship:review", args=[mid.pk]))
        assert response.context["previous_url"].endswith(f"/{high.pk}")
        assert response.context["next_url"].endswith(f"/{low.pk}")
        response = client_for(steward).get(
            reverse("stewardship:review", args=[mid.pk]), {"sort": "probability"}
        )
        assert (
            response.context["next_url"]
            == reverse("stewardship:review", args=[high.pk]) + "?sort=probability"
        )

    def test_unknown_review_is_404(self, steward):
        assert client_for(steward).get(reverse("stewardship:review", args=[999])).status_code == 404
