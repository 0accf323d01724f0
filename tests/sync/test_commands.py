"""create_subscription, resync and replay_deliveries."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from golden_records.history import os_user
from golden_records.models import SourceRecord
from sync import signing
from sync.models import Delivery, SigningSecret, Subscription
from tests.helpers import put
from tests.sync.factories import ago, delivery, subscription


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# -- create_subscription ------------------------------------------------------------------------


def test_create_subscription_prints_a_generated_secret_once(systems):
    out = run(
        "create_subscription",
        "--system=erp",
        "--name=erp-items",
        "--url=https://erp.example.com/hook",
        "--domains=customer,item",
        "--fields=customer.name=AccountName,customer.credit_limit=CreditLimit",
    )
    sub = Subscription.objects.get(name="erp-items")
    assert (sub.system.code, sub.domains, sub.state) == ("erp", ["customer", "item"], "active")
    assert sub.fields == {"customer": {"name": "AccountName", "credit_limit": "CreditLimit"}}
    secret = SigningSecret.objects.get(subscription=sub).secret
    assert secret.startswith("whsec_") and out.count(secret) == 1
    history = sub.history.get()
    assert (history.actor_type, history.actor, history.channel) == (
        "command",
        os_user(),
        "command",
    )
    assert history.history_change_reason == "create_subscription"


def test_create_subscription_with_a_given_secret_does_not_print_it(systems):
    secret = signing.new_secret()
    out = run(
        "create_subscription",
        "--system=crm",
        "--name=crm-customers",
        "--url=http://127.0.0.1:9000/crm",
        "--domains=customer",
        f"--secret={secret}",
    )
    assert secret not in out
    assert SigningSecret.objects.get(subscription__name="crm-customers").secret == secret


@pytest.mark.parametrize(
    "args, message",
    [
        (["--system=nope"], "No source system"),
        (["--url=ftp://x"], r"not an http\(s\) URL"),
        (["--domains=customer,widget"], "Domains must be some of"),
        (["--fields=customer.colour=Farbe"], "Unknown customer attributes"),
        (["--fields=item.name=Title"], "not subscribed"),
        (["--fields=name"], "domain.attribute=TheirName"),
        (["--secret=whsec_!!"], "--secret"),
    ],
)
def test_create_subscription_refuses_bad_input(systems, args, message):
    base = {
        "--system": "erp",
        "--name": "erp-x",
        "--url": "https://erp.example.com/hook",
        "--domains": "customer",
    }
    for arg in args:
        key, _, val = arg.partition("=")
        base[key] = val
    with pytest.raises(CommandError, match=message):
        run("create_subscription", *(f"{k}={v}" for k, v in base.items()))
    assert not Subscription.objects.exists()


def test_create_subscription_refuses_a_taken_name(systems):
    subscription("erp-x", "erp")
    with pytest.raises(CommandError, match="exists already"):
        run(
            "create_subscription",
            "--system=erp",
            "--name=erp-x",
            "--url=https://e.example.com",
            "--domains=item",
        )


# -- resync -------------------------------------------------------------------------------------


def test_resync_queues_a_snapshot_per_record_for_the_systems_subscriptions(api):
    for n in range(3):
        body = {"name": f"Customer {n}", "duns": f"15048378{n}", "country": "US"}
        assert put(api["crm"], "crm", "customer", f"C{n}", body).status_code in (200, 201)
    erp = subscription("erp-customers", "erp", ["customer"])
    subscription("erp-items", "erp", ["item"])  # does not receive customers
    paused = subscription("erp-mirror", "erp", ["customer"], state="paused")
    out = run("resync", "--system=erp", "--domain=customer")
    assert "3 active customer records" in out
    assert "erp-customers: 3 snapshot deliveries queued." in out
    assert "erp-mirror: 3 snapshot deliveries queued (it is paused: they wait)." in out
    assert "Done: 6 deliveries queued for 2 subscription(s)" in out
    for sub in (erp, paused):
        rows = Delivery.objects.filter(subscription=sub)
        assert rows.count() == 3 and {d.event.type for d in rows} == {"snapshot"}
    assert SourceRecord.objects.count() == 3


def test_resync_of_one_subscription_and_its_errors(api):
    subscription("erp-customers", "erp", ["customer"])
    subscription("erp-mirror", "erp", ["customer"])
    out = run("resync", "--system=erp", "--domain=customer", "--subscription=erp-mirror")
    assert "erp-mirror" in out and "erp-customers" not in out
    with pytest.raises(CommandError, match="No subscription of 'erp' receives item"):
        run("resync", "--system=erp", "--domain=item")
    with pytest.raises(CommandError):
        run("resync", "--system=erp", "--domain=widget")


# -- replay_deliveries --------------------------------------------------------------------------


@pytest.fixture
def finished(db):
    now = timezone.now()
    erp, ecom = subscription("erp-all", "erp"), subscription("ecom-all", "ecom")
    rows = {
        "erp_dead_old": delivery(erp, "dead", ago(3 * 86400, now)),
        "erp_dead_new": delivery(erp, "dead", ago(3600, now), domain="item"),
        "erp_delivered": delivery(erp, "delivered", ago(1800, now), ago(1700, now)),
        "erp_pending": delivery(erp, "pending", ago(60, now)),
        "ecom_dead": delivery(ecom, "dead", ago(3600, now)),
    }
    return rows


def replayed(rows) -> set[str]:
    ids = set(Delivery.objects.filter(replayed_at__isnull=False).values_list("pk", flat=True))
    return {name for name, d in rows.items() if d.pk in ids}


def test_replay_deliveries_by_system_and_status(finished):
    out = run("replay_deliveries", "--system=erp", "--status=dead")
    assert "Queued 2 deliveries for replay." in out
    assert replayed(finished) == {"erp_dead_old", "erp_dead_new"}
    d = Delivery.objects.get(pk=finished["erp_dead_new"].pk)
    assert (d.status, d.replayed_by) == ("pending", "command:replay_deliveries")


def test_replay_deliveries_by_domain_and_time_range(finished):
    since = ago(2 * 86400).isoformat()
    assert "Queued 1 " in run(
        "replay_deliveries", "--system=erp", f"--since={since}", "--domain=item"
    )
    assert replayed(finished) == {"erp_dead_new"}
    until = ago(86400).strftime("%Y-%m-%dT%H:%M")  # no offset: UTC
    assert "Queued 1 " in run("replay_deliveries", "--system=erp", f"--until={until}")
    assert replayed(finished) == {"erp_dead_new", "erp_dead_old"}


def test_replay_deliveries_dry_run_and_errors(finished):
    out = run("replay_deliveries", "--system=erp", "--dry-run")
    assert "Would queue 3 deliveries (2 dead, 1 delivered)." in out
    assert replayed(finished) == set()
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run("replay_deliveries", "--system=erp", "--since=yesterday")
    with pytest.raises(CommandError, match="before --until"):
        run("replay_deliveries", "--system=erp", "--since=2026-02-01", "--until=2026-01-01")
    with pytest.raises(CommandError, match="No source system"):
        run("replay_deliveries", "--system=nope")
    assert "Queued 0 " in run("replay_deliveries", "--system=erp", "--since=2099-01-01Z")
