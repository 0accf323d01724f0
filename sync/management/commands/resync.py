"""resync: send a system every active golden record of a domain as it is now, on demand.

    python manage.py resync --system erp --domain item [--subscription erp-items]

Each of the system's subscriptions that receives the domain gets a ``snapshot`` delivery per
record it does not have in its current version (sync.services.resync); the workers send them.
The nightly job does the same for every active subscription.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from golden_records.domains import DOMAINS
from golden_records.models import GOLDEN_MODELS, GoldenStatus
from sync import services
from sync.models import Subscription


class Command(BaseCommand):
    help = "Queue a full re-sync of one domain to a system's subscriptions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--system", required=True, help="Source system code, e.g. erp.")
        parser.add_argument("--domain", required=True, choices=list(DOMAINS))
        parser.add_argument("--subscription", help="Only this subscription (by name).")

    def handle(self, *args: Any, system: str, domain: str, **options: Any) -> None:
        subscriptions = Subscription.objects.filter(system__code=system).order_by("name")
        if options["subscription"]:
            subscriptions = subscriptions.filter(name=options["subscription"])
        receiving = [s for s in subscriptions if s.wants(domain)]
        if not receiving:
            raise CommandError(f"No subscription of {system!r} receives {domain}.")
        active = GOLDEN_MODELS[domain].objects.filter(record_status=GoldenStatus.ACTIVE).count()
        self.stdout.write(f"{active} active {domain} records; sending those not already there.")
        total = 0
        for sub in receiving:
            self.stdout.write(f"{sub.name}: queueing…")
            result = services.resync(sub, domain, "resync command")
            total += result["sent"]
            note = (
                "" if sub.state == Subscription.State.ACTIVE else f" (it is {sub.state}: they wait)"
            )
            self.stdout.write(f"{sub.name}: {result['sent']} snapshot deliveries queued{note}.")
        self.stdout.write(
            f"Done: {total} deliveries queued for {len(receiving)} subscription(s); "
            "follow them at /ops/deliveries."
        )
