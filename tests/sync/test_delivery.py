"""Delivering to a real HTTP endpoint: signatures, field names, ids, retries, ordering, health."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from golden_records.models import SourceRecord
from sync import signing
from sync.delivery import claim, deliver_due, reap_expired_leases, retry_after_seconds
from sync.models import DeliveredVersion, Delivery, DeliveryAttempt, SigningSecret, Subscription
from tests.helpers import golden_of, put

ACME = {"name": "Acme Corp", "duns": "150483782", "country": "US", "credit_limit": "5000"}


def deliver_all(subscription: Subscription) -> int:
    total = 0
    while count := deliver_due(subscription.pk):
        total += count
    return total


def test_a_delivery_is_signed_renamed_and_recorded(api, subscribed, endpoint):
    put(api["erp"], "erp", "customer", "C1", ACME)
    assert deliver_all(subscribed["erp"]) == 1
    [request] = endpoint.received
    body = request.json
    golden = golden_of("erp", "customer", "C1")
    assert body["record"] == {"AccountName": "Acme Corp", "CreditLimit": "5000"}
    assert (body["golden_id"], body["version"], body["type"]) == (str(golden.pk), 1, "created")
    assert body["id"] == "C1"  # ERP's own id for the record
    delivery = Delivery.objects.get(subscription=subscribed["erp"])
    assert request.headers["webhook-id"] == str(delivery.event_id) == body["event_id"]
    secret = SigningSecret.objects.get(subscription=subscribed["erp"]).secret
    assert signing.verify([secret], request.headers, request.body) == str(delivery.event_id)
    assert delivery.status == "delivered" and delivery.attempts == 1
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert (attempt.outcome, attempt.status_code, attempt.number) == ("delivered", 200, 1)
    assert DeliveredVersion.objects.get(subscription=subscribed["erp"]).version == 1


def test_signatures_verify_with_the_standard_webhooks_library(api, subscribed, endpoint):
    from standardwebhooks.webhooks import Webhook

    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["erp"])
    [request] = endpoint.received
    secret = SigningSecret.objects.get(subscription=subscribed["erp"]).secret
    assert Webhook(secret).verify(request.body, request.headers)["golden_id"]


def test_the_id_a_subscriber_answers_with_becomes_its_cross_reference(api, subscribed, endpoint):
    endpoint.answer = lambda r: (201, {}, json.dumps({"id": "ECOM-77"}).encode())
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["ecom"])
    golden = golden_of("erp", "customer", "C1")
    xref = SourceRecord.objects.get(system__code="ecom", domain="customer", source_id="ECOM-77")
    assert xref.golden_id == golden.pk and xref.link_rule == "delivery_response"
    # the next version carries that id
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme Corporation"})
    deliver_all(subscribed["ecom"])
    assert endpoint.received[-1].json["id"] == "ECOM-77"


def test_failures_retry_on_schedule_then_die(api, subscribed, endpoint, settings):
    settings.MDM_WEBHOOK_RETRY_SCHEDULE = [5, 300]
    settings.MDM_WEBHOOK_RETRY_JITTER = 0
    endpoint.answer = lambda r: (500, {}, b"boom")
    put(api["erp"], "erp", "customer", "C1", ACME)
    sub = subscribed["erp"]
    assert deliver_all(sub) == 1
    delivery = Delivery.objects.get(subscription=sub)
    assert delivery.status == "pending" and delivery.last_error == "HTTP 500"
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 3 < wait <= 5
    assert deliver_all(sub) == 0  # not due yet
    for expected_wait in (300, None):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        before = timezone.now()
        assert deliver_all(sub) == 1
        delivery.refresh_from_db()
        if expected_wait:
            assert (delivery.next_attempt_at - before).total_seconds() == pytest.approx(300, 1)
    assert delivery.status == "dead" and delivery.attempts == 3
    attempts = DeliveryAttempt.objects.filter(delivery=delivery)
    assert list(attempts.values_list("outcome", flat=True)) == ["retry", "retry", "dead"]
    assert DeliveryAttempt.objects.filter(delivery=delivery).first().response_excerpt == "boom"
    assert Subscription.objects.get(pk=sub.pk).failing_since is not None


def test_410_disables_the_subscription_and_keeps_the_delivery(api, subscribed, endpoint):
    endpoint.answer = lambda r: (410, {}, b"")
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["erp"])
    sub = Subscription.objects.get(pk=subscribed["erp"].pk)
    assert sub.state == "disabled" and "410" in sub.state_reason
    assert Delivery.objects.get(subscription=sub).status == "pending"


def test_retry_after_is_honoured(api, subscribed, endpoint):
    endpoint.answer = lambda r: (429, {"Retry-After": "120"}, b"")
    put(api["erp"], "erp", "customer", "C1", ACME)
    before = timezone.now()
    deliver_all(subscribed["erp"])
    delivery = Delivery.objects.get(subscription=subscribed["erp"])
    assert (delivery.next_attempt_at - before).total_seconds() == pytest.approx(120, abs=2)


def test_retry_after_as_an_http_date():
    when = timezone.now() + dt.timedelta(seconds=90)
    header = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds(header) == pytest.approx(90, abs=2)
    assert retry_after_seconds("soon") is None


def test_a_hanging_endpoint_is_recorded_as_a_timeout(api, subscribed, endpoint, settings):
    settings.MDM_WEBHOOK_TIMEOUT_SECONDS = 0.3
    endpoint.delay = 1.0
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["erp"])
    attempt = DeliveryAttempt.objects.get()
    assert attempt.outcome == "retry" and "timeout" in attempt.error


def test_link_local_and_metadata_addresses_are_refused(api, subscribed, settings):
    Subscription.objects.filter(pk=subscribed["erp"].pk).update(
        endpoint_url="http://169.254.169.254/latest/meta-data"
    )
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["erp"])
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("refused") and attempt.status_code is None


def test_redirects_are_not_followed(api, subscribed, endpoint):
    endpoint.answer = lambda r: (302, {"Location": "http://169.254.169.254/"}, b"")
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(subscribed["erp"])
    assert len(endpoint.received) == 1
    assert DeliveryAttempt.objects.get().status_code == 302


def test_one_delivery_in_flight_per_record_in_version_order(api, subscribed, endpoint):
    put(api["erp"], "erp", "customer", "C1", ACME)
    sub = subscribed["erp"]
    _token, claimed = claim(sub.pk, 10)
    assert [d.version for d in claimed] == [1]
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme 2"})
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme 3"})
    # v1 in flight: v3 (which superseded v2) waits for it
    assert claim(sub.pk, 10)[1] == []
    statuses = dict(Delivery.objects.filter(subscription=sub).values_list("version", "status"))
    assert statuses == {1: "delivering", 2: "superseded", 3: "pending"}


def test_an_expired_lease_makes_the_delivery_due_again(api, subscribed, endpoint):
    put(api["erp"], "erp", "customer", "C1", ACME)
    sub = subscribed["erp"]
    _, claimed = claim(sub.pk, 10)  # the worker "dies" here
    Delivery.objects.filter(pk=claimed[0].pk).update(lease_until=timezone.now())
    assert reap_expired_leases() == 1
    assert deliver_all(sub) == 1
    assert len({r.headers["webhook-id"] for r in endpoint.received}) == 1


def test_paused_subscriptions_wait_and_get_the_newest_version(api, subscribed, endpoint):
    from golden_records.history import ChangeOrigin
    from sync.services import set_state

    sub = subscribed["erp"]
    origin = ChangeOrigin.command("test")
    set_state(sub.pk, "paused", "maintenance window", origin)
    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme 2"})
    assert deliver_all(sub) == 0
    set_state(sub.pk, "active", "", origin)
    assert deliver_all(sub) == 1
    assert endpoint.received[-1].json["version"] == 2


def test_references_carry_the_subscribers_id_of_the_referenced_record(
    api, systems, endpoint, subscribed
):
    from sync.services import create_subscription

    sub = create_subscription(systems["erp"], "erp-locations", endpoint.url, ["location"])
    put(api["erp"], "erp", "customer", "C1", ACME)
    ship_to = {"code": "SH-1", "name": "Acme dock", "kind": "ship_to", "customer": "C1"}
    assert put(api["erp"], "erp", "location", "L1", ship_to).status_code in (200, 201)
    deliver_all(sub)
    body = endpoint.received[-1].json
    customer = golden_of("erp", "customer", "C1")
    assert body["record"]["customer"] == str(customer.pk)
    assert body["references"] == {"customer": {"golden_id": str(customer.pk), "id": "C1"}}


def test_a_merge_event_names_the_survivor_and_the_subscribers_ids(api, subscribed, endpoint):
    from django.contrib.auth import get_user_model

    from golden_records.history import ChangeOrigin
    from golden_records.services import merge_golden

    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["erp"], "erp", "customer", "C2", {"name": "Acme Inc", "duns": "804735132"})
    survivor, merged = golden_of("erp", "customer", "C1"), golden_of("erp", "customer", "C2")
    deliver_all(subscribed["erp"])
    steward = get_user_model().objects.create_user("stew")
    merge_golden("customer", survivor.pk, [merged.pk], ChangeOrigin.steward(steward))
    deliver_all(subscribed["erp"])
    bodies = {r.json["golden_id"]: r.json for r in endpoint.received if r.json["version"] > 1}
    retired = bodies[str(merged.pk)]
    assert (retired["type"], retired["status"], retired["id"]) == ("merged", "merged", "C2")
    assert retired["survivor"] == {"golden_id": str(survivor.pk), "id": "C1"}


def test_an_endpoint_failing_for_too_long_is_disabled(api, subscribed, endpoint, settings):
    settings.MDM_WEBHOOK_DISABLE_AFTER_SECONDS = 60
    endpoint.answer = lambda r: (500, {}, b"")
    sub = subscribed["erp"]
    Subscription.objects.filter(pk=sub.pk).update(
        failing_since=timezone.now() - dt.timedelta(seconds=61)
    )
    put(api["erp"], "erp", "customer", "C1", ACME)
    deliver_all(sub)
    sub.refresh_from_db()
    assert sub.state == "disabled" and "failed since" in sub.state_reason
    assert sub.history.first().actor == "sync.deliver"


def test_dispatch_takes_turns_between_subscriptions(api, subscribed, endpoint, settings):
    from sync.tasks import dispatch, subscriptions_with_due_deliveries

    settings.MDM_DELIVERY_BATCH = 1
    for i, name in enumerate(["Zenith Foods", "Harbor Logistics", "Granite Electric"]):
        put(api["erp"], "erp", "customer", f"C{i}", {"name": name})
    erp, ecom = subscribed["erp"], subscribed["ecom"]
    assert subscriptions_with_due_deliveries() == sorted([erp.pk, ecom.pk])
    assert dispatch(ecom.pk) == 6
    # erp receives its own field names, ecom the hub's
    subs = ["erp" if "AccountName" in r.json["record"] else "ecom" for r in endpoint.received]
    assert subs == ["ecom", "erp"] * 3
    assert subscriptions_with_due_deliveries() == []


def test_the_lease_outlasts_a_batch_of_timeouts(settings):
    from sync.delivery import lease_seconds

    settings.MDM_DELIVERY_THREADS = 16
    settings.MDM_WEBHOOK_TIMEOUT_SECONDS = 15
    settings.MDM_DELIVERY_LEASE_SECONDS = 60
    assert lease_seconds(10) == 60
    assert lease_seconds(100) == 7 * 15 + 15


def test_an_id_answered_for_a_merged_record_is_not_stored(api, subscribed, endpoint):
    from django.contrib.auth import get_user_model

    from golden_records.history import ChangeOrigin
    from golden_records.services import merge_golden

    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["crm"], "crm", "customer", "A2", {"name": "Zenith Foods", "duns": "804735132"})
    survivor, merged = golden_of("erp", "customer", "C1"), golden_of("crm", "customer", "A2")
    answer = {"ids_for": {str(survivor.pk)}}
    endpoint.answer = lambda r: (
        200,
        {},
        json.dumps(
            {"id": f"E-{r.json['golden_id']}"} if r.json["golden_id"] in answer["ids_for"] else {}
        ).encode(),
    )
    deliver_all(subscribed["ecom"])  # ecom knows the survivor only
    steward = get_user_model().objects.create_user("stew")
    merge_golden("customer", survivor.pk, [merged.pk], ChangeOrigin.steward(steward))
    answer["ids_for"].add(str(merged.pk))  # and answers an id for the retired record too
    deliver_all(subscribed["ecom"])
    assert any(r.json["type"] == "merged" for r in endpoint.received)
    linked = set(
        SourceRecord.objects.filter(system__code="ecom").values_list("golden_id", flat=True)
    )
    assert merged.pk not in linked and survivor.pk in linked
