"""make run's demo subscriptions: created once with everything queued, then left alone."""

from __future__ import annotations

import io

from django.core.management import call_command

from sync.models import Delivery, SigningSecret, Subscription
from tests.helpers import put


def test_demo_subscriptions_are_created_once_and_load_what_exists(api, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    put(api["erp"], "erp", "customer", "C1", {"name": "Acme Corp", "duns": "150483782"})
    call_command("ensure_demo_subscriptions", stdout=io.StringIO())
    subs = {s.name: s for s in Subscription.objects.all()}
    assert set(subs) == {"erp-demo", "ecom-demo"}
    secret = (tmp_path / "demo-webhook-secret").read_text()
    assert {s.secret for s in SigningSecret.objects.all()} == {secret}
    assert Delivery.objects.filter(subscription=subs["erp-demo"]).count() == 1
    queued = Delivery.objects.count()
    call_command("ensure_demo_subscriptions", stdout=io.StringIO())
    assert Subscription.objects.count() == 2 and Delivery.objects.count() == queued
