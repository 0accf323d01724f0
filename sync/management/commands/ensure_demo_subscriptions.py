"""ensure_demo_subscriptions: the demo's downstream systems erp and ecom, subscribed to the
reference receiver that `make run` starts, so a new user sees propagation happen.

The signing secret is made once and kept in var/demo-webhook-secret (the receiver reads it from
there). When a subscription is created, everything that exists already is sent to it once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import SourceSystem
from sync.models import SigningSecret, Subscription
from sync.services import create_subscription, resync
from sync.signing import new_secret

DEMO = {
    # system: (domains, field names in its schema)
    "erp": (["customer", "item", "price", "location"], {}),
    "ecom": (
        ["customer", "item", "price"],
        {
            "customer": {"name": "displayName", "email": "email", "phone": "phone"},
            "item": {"sku": "sku", "name": "title", "description": "body", "gtin": "gtin"},
        },
    ),
}


def demo_secret() -> str:
    path = Path(settings.VAR_DIR) / "demo-webhook-secret"
    if not path.exists():
        path.write_text(new_secret())
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Subscribe the demo systems erp and ecom to the reference receiver. Safe to rerun."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--receiver", default="http://127.0.0.1:9000")
        add_actor_argument(parser)

    def handle(self, *args: Any, receiver: str, **options: Any) -> None:
        secret = demo_secret()
        origin = command_origin("ensure_demo_subscriptions", options)
        for code, (domains, fields) in DEMO.items():
            system = SourceSystem.objects.filter(code=code).first()
            if system is None:
                self.stdout.write(f"No source system {code!r}: run seed_demo first.")
                continue
            name = f"{code}-demo"
            existing = Subscription.objects.filter(name=name).first()
            if existing is not None:
                # The receiver's current address and the secret it knows (var/ may be new).
                SigningSecret.objects.filter(subscription=existing).update(secret=secret)
                Subscription.objects.filter(pk=existing.pk).update(
                    endpoint_url=f"{receiver}/{code}"
                )
                continue
            sub = create_subscription(
                system, name, f"{receiver}/{code}", domains, fields, secret, origin
            )
            sent = sum(resync(sub, domain, "initial load")["sent"] for domain in domains)
            self.stdout.write(f"Subscribed {name} to {sub.endpoint_url}; {sent} records queued.")
        self.stdout.write(
            f"Reference receiver secret in {Path(settings.VAR_DIR)}/demo-webhook-secret"
        )
