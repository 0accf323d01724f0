"""The operations dashboard: who may see and act, the figures, the actions and their audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from sync.models import Delivery, Subscription
from sync.stats import percentile, subscription_figures
from tests.sync import factories
from tests.sync.factories import EXPECTED, ago, delivery, seed_figures


@pytest.fixture
def seeded(db):
    return seed_figures(timezone.now())


def login(django_user_model, name: str, *, group: str | None = None, **flags) -> Client:
    user = django_user_model.objects.create_user(name, password="pw", **flags)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def steward(django_user_model) -> Client:
    return login(django_user_model, "stella", group="steward")


def pages(subs) -> list[str]:
    d = Delivery.objects.filter(subscription=subs["erp"], status="dead").first()
    return [
        "/ops/deliveries",
        "/ops/deliveries/failed",
        "/ops/deliveries/replay",
        f"/ops/deliveries/{d.pk}",
        f"/ops/subscriptions/{subs['erp'].pk}",
    ]


def actions(subs) -> list[tuple[str, dict]]:
    d = Delivery.objects.filter(subscription=subs["erp"], status="dead").first()
    return [
        (f"/ops/deliveries/{d.pk}/replay", {}),
        ("/ops/deliveries/replay", {"status": "dead", "action": "confirm"}),
        (f"/ops/subscriptions/{subs['erp'].pk}/state", {"state": "paused"}),
    ]


# -- who may see and act --------------------------------------------------------------------------


def test_anonymous_users_go_to_the_login_page(client, seeded):
    for url in pages(seeded):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")
    for url, data in actions(seeded):
        response = client.post(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert client.get("/accounts/login/").status_code == 200


def test_users_without_a_role_get_403(django_user_model, seeded):
    client = login(django_user_model, "nobody")
    for url in pages(seeded):
        assert client.get(url).status_code == 403, url
    for url, data in actions(seeded):
        assert client.post(url, data).status_code == 403, url
    assert Subscription.objects.get(pk=seeded["erp"].pk).state == "active"
    assert not Delivery.objects.exclude(replayed_by__in=["", "steward:x"]).exists()


@pytest.mark.parametrize("who", ["staff", "viewer"])
def test_staff_users_and_viewers_read_but_do_not_act(django_user_model, seeded, who):
    if who == "staff":
        client = login(django_user_model, "ops", is_staff=True)
    else:
        client = login(django_user_model, "vic", group="viewer")
    for url in pages(seeded):
        assert client.get(url).status_code == 200, url
    assert b"Replay deliveries" not in client.get("/ops/deliveries").content
    for url, data in actions(seeded):
        assert client.post(url, data).status_code == 403, url
    assert Subscription.objects.get(pk=seeded["erp"].pk).state == "active"


@pytest.mark.parametrize("who", ["steward", "admin", "superuser"])
def test_stewards_admins_and_superusers_see_and_act(django_user_model, seeded, who):
    if who == "superuser":
        client = login(django_user_model, who, is_superuser=True)
    else:
        client = login(django_user_model, who, group=who)
    for url in pages(seeded):
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"Replay deliveries" in client.get("/ops/deliveries").content
    for url, data in actions(seeded):
        assert client.post(url, data).status_code == 302, url
    assert Subscription.objects.get(pk=seeded["erp"].pk).state == "paused"


def test_actions_need_a_csrf_token(django_user_model, seeded):
    user = django_user_model.objects.create_user("csrf", password="pw", is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/ops/subscriptions/{seeded['erp'].pk}/state"
    assert client.post(url, {"state": "paused"}).status_code == 403
    assert Subscription.objects.get(pk=seeded["erp"].pk).state == "active"


def test_the_login_page_logs_in_and_goes_back(django_user_model, seeded):
    user = django_user_model.objects.create_user("stella", password="pw")
    user.groups.add(Group.objects.get_or_create(name="steward")[0])
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "stella", "password": "pw", "next": "/ops/deliveries"}
    )
    assert response.status_code == 302 and response["Location"] == "/ops/deliveries"
    assert client.get("/ops/deliveries").status_code == 200
    bad = Client().post("/accounts/login/", {"username": "stella", "password": "no"})
    assert bad.status_code == 200 and b"Wrong user name or password" in bad.content


# -- figures ------------------------------------------------------------------------------------


def test_figures_per_subscription(seeded):
    figures = {f.subscription.name: f for f in subscription_figures()}
    assert set(figures) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        f = figures[name]
        got = {
            "backlog": f.backlog,
            "delivering": f.delivering,
            "oldest": f.oldest_waiting_seconds,
            "dead": f.dead,
            "delivered_hour": f.delivered_hour,
            "delivered_day": f.delivered_day,
            "failed_hour": f.failed_hour,
            "failed_day": f.failed_day,
            "p50": f.latency_p50,
            "p95": f.latency_p95,
            "latency_count": f.latency_count,
        }
        assert got == pytest.approx(expected, abs=1.5), name  # seconds pass while it runs


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([5], 0.95) == 5
    assert percentile(range(1, 101), 0.95) == pytest.approx(95.05)


def test_the_dashboard_shows_states_figures_and_failures(steward, seeded):
    response = steward.get("/ops/deliveries")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("erp-items", "ecom-all", "wms-gone", "ERP maintenance", "Disabled endpoints"):
        assert text in html
    assert "The endpoint answered 410 Gone." in html
    totals = response.context["totals"]
    assert totals["backlog"] == 7 and totals["dead"] == 2 and totals["disabled"] == 1
    failing = response.context["failing"]
    # two dead, one retrying (erp) and the 410'd one waiting (wms)
    assert {d.status for d in failing} == {"dead", "pending"} and len(failing) == 4
    assert response.context["failing_count"] == 4
    assert "HTTP 503" in html and "10 min" in html


def test_the_failed_list_filters_and_pages(steward, seeded):
    response = steward.get("/ops/deliveries/failed", {"status": "dead"})
    assert [d.status for d in response.context["page"].object_list] == ["dead", "dead"]
    response = steward.get("/ops/deliveries/failed", {"subscription": seeded["wms"].pk})
    assert [d.subscription.name for d in response.context["page"]] == ["wms-gone"]


def test_the_delivery_page_lists_every_attempt(steward, seeded):
    d = Delivery.objects.get(subscription=seeded["erp"], last_error="HTTP 500")
    response = steward.get(f"/ops/deliveries/{d.pk}")
    html = response.content.decode()
    assert [a.number for a in response.context["attempts"]] == [2, 1]
    assert "Internal Server Error" in html and "HTTP 500" in html and "120 ms" in html
    assert html.count("<form") >= 2  # replay (and log out)
    assert steward.get("/ops/deliveries/999999").status_code == 404


# -- actions ------------------------------------------------------------------------------------


def test_replaying_one_delivery_queues_it_and_records_who(steward, seeded):
    d = Delivery.objects.filter(subscription=seeded["erp"], status="dead").first()
    response = steward.post(f"/ops/deliveries/{d.pk}/replay", follow=True)
    assert "queued for replay" in response.content.decode()
    d.refresh_from_db()
    assert d.status == "pending" and d.replayed_by == "steward:stella"
    assert d.replayed_at is not None and d.last_error == ""
    # a pending delivery is not replayed
    response = steward.post(f"/ops/deliveries/{d.pk}/replay", follow=True)
    assert "only delivered or dead" in response.content.decode()


def test_replaying_many_previews_then_queues(steward, seeded):
    form = {"system": "erp", "status": "dead", "action": "preview"}
    response = steward.post("/ops/deliveries/replay", form)
    assert response.status_code == 200
    assert response.context["preview"] == {"total": 2, "by_status": {"dead": 2}}
    assert Delivery.objects.filter(status="dead").count() == 2  # nothing happened yet
    response = steward.post("/ops/deliveries/replay", {**form, "action": "confirm"}, follow=True)
    assert "Queued 2 deliveries for replay." in response.content.decode()
    replayed = Delivery.objects.filter(replayed_by="steward:stella")
    assert replayed.count() == 2 and {d.status for d in replayed} == {"pending"}


def test_replaying_many_by_time_range_and_domain(steward, seeded):
    now = timezone.now()
    since = ago(2 * 3600, now).strftime("%Y-%m-%dT%H:%M")
    form = {"status": "dead", "since": since, "action": "confirm"}
    steward.post("/ops/deliveries/replay", form)
    assert Delivery.objects.filter(replayed_by="steward:stella").count() == 1
    form = {"domain": "item", "status": "", "action": "preview"}
    assert steward.post("/ops/deliveries/replay", form).context["preview"]["total"] == 0
    bad = {"since": "2026-01-02T00:00", "until": "2026-01-01T00:00", "action": "preview"}
    assert steward.post("/ops/deliveries/replay", bad).status_code == 400


def test_pause_and_resume_are_in_the_subscription_history(steward, seeded):
    sub = seeded["erp"]
    url = f"/ops/subscriptions/{sub.pk}/state"
    steward.post(url, {"state": "paused", "reason": "ERP upgrade tonight"})
    sub.refresh_from_db()
    assert (sub.state, sub.state_reason) == ("paused", "ERP upgrade tonight")
    steward.post(url, {"state": "active"})
    sub.refresh_from_db()
    assert sub.state == "active" and sub.state_reason == "resumed from the dashboard"
    rows = list(sub.history.order_by("history_date")[1:])
    assert [(h.state, h.actor_type, h.actor, h.channel) for h in rows] == [
        ("paused", "steward", "stella", "ui"),
        ("active", "steward", "stella", "ui"),
    ]
    assert rows[0].history_change_reason == "ERP upgrade tonight"
    assert rows[0].history_user.username == "stella"
    page = steward.get(f"/ops/subscriptions/{sub.pk}").content.decode()
    assert "ERP upgrade tonight" in page and "stella" in page
    # nothing but paused and active from here
    steward.post(url, {"state": "disabled"})
    assert Subscription.objects.get(pk=sub.pk).state == "active"


def test_a_disabled_subscription_is_resumed_from_the_dashboard(steward, seeded):
    sub = seeded["wms"]
    steward.post(
        f"/ops/subscriptions/{sub.pk}/state", {"state": "active", "next": "/ops/deliveries"}
    )
    sub.refresh_from_db()
    assert sub.state == "active"


# -- bounded queries ----------------------------------------------------------------------------


def many(start: int, count: int) -> None:
    now = timezone.now()
    for n in range(start, start + count):
        sub = factories.subscription(f"sub-{n:03}", f"sys{n % 7}")
        for i in range(6):
            at = ago(60 * (i + 1), now)
            delivery(sub, "delivered", at - dt.timedelta(seconds=i + 1), at, [("delivered", at)])
        delivery(sub, "pending", ago(30, now))
        delivery(sub, "dead", ago(600, now), attempts=[("dead", ago(500, now))], last_error="x")


def test_the_dashboard_runs_a_fixed_number_of_queries(
    steward, db, django_assert_max_num_queries, django_assert_num_queries
):
    many(0, 2)
    with django_assert_max_num_queries(12) as small:
        assert steward.get("/ops/deliveries").status_code == 200
    many(2, 40)
    with django_assert_num_queries(len(small.captured_queries)):
        response = steward.get("/ops/deliveries")
    assert len(response.context["figures"]) == 42
    with django_assert_max_num_queries(12):
        assert steward.get("/ops/deliveries/failed").status_code == 200
