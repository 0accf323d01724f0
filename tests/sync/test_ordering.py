"""A failed delivery does not come back after a newer version of its record was sent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sync.delivery import claim, deliver_due, record_results, send_batch
from sync.models import Delivery
from tests.helpers import put

ACME = {"name": "Acme Corp", "duns": "150483782"}


def test_a_version_queued_while_an_older_one_fails_supersedes_it(
    api, subscribed, endpoint, settings
):
    settings.MDM_WEBHOOK_RETRY_SCHEDULE = [60]
    sub = subscribed["erp"]
    put(api["erp"], "erp", "customer", "C1", ACME)
    token, claimed = claim(sub.pk, 10)  # v1 in flight ...
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme 2"})  # ... v2 queued
    endpoint.answer = lambda r: (500, {}, b"")
    record_results(token, send_batch(claimed))  # v1 failed: it would retry in a minute
    endpoint.answer = lambda r: (200, {}, b"{}")
    while deliver_due(sub.pk):
        pass
    Delivery.objects.filter(subscription=sub).update(next_attempt_at=timezone.now())
    while deliver_due(sub.pk):
        pass
    assert [r.json["version"] for r in endpoint.received] == [1, 2]
    statuses = dict(Delivery.objects.filter(subscription=sub).values_list("version", "status"))
    assert statuses == {1: "superseded", 2: "delivered"}


def test_an_older_version_waiting_for_its_retry_is_superseded_when_a_newer_one_is_sent(
    api, subscribed, endpoint
):
    """The newer version committed after the failed one's check: claim catches it."""
    sub = subscribed["erp"]
    put(api["erp"], "erp", "customer", "C1", ACME)
    put(api["erp"], "erp", "customer", "C1", {**ACME, "name": "Acme 2"})
    later = timezone.now() + dt.timedelta(minutes=1)
    # v1 failed and waits for its retry; v2 is due (as if it committed after v1's check)
    Delivery.objects.filter(subscription=sub, version=1).update(
        status="pending", attempts=1, next_attempt_at=later
    )
    while deliver_due(sub.pk):
        pass
    Delivery.objects.filter(subscription=sub, status="pending").update(
        next_attempt_at=timezone.now()
    )
    while deliver_due(sub.pk):
        pass
    assert [r.json["version"] for r in endpoint.received] == [2]
    statuses = dict(Delivery.objects.filter(subscription=sub).values_list("version", "status"))
    assert statuses == {1: "superseded", 2: "delivered"}
