"""replay_deliveries: send finished deliveries again (sync.services.replay).

    python manage.py replay_deliveries --system erp [--domain item] [--status dead]
        [--since 2026-11-20T00:00Z] [--until 2026-11-21] [--dry-run]

Delivered and dead deliveries whose change falls in [since, until) are queued again, with the
same webhook id; pending ones are due anyway. Each replayed delivery records
``replayed_by = command:replay_deliveries`` and the time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from golden_records.domains import DOMAINS
from golden_records.models import SourceSystem
from sync import services
from sync.models import DeliveryStatus

REPLAYABLE = [DeliveryStatus.DELIVERED, DeliveryStatus.DEAD]


def parse_moment(value: str | None, option: str) -> dt.datetime | None:
    """ISO 8601 date or date-time; without an offset it is UTC."""
    if not value:
        return None
    try:
        moment = parse_datetime(value.replace("Z", "+00:00"))
        if moment is None:
            day = parse_date(value)
            moment = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"{option}: {value!r} is not an ISO 8601 date or date-time.")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


class Command(BaseCommand):
    help = "Queue delivered or dead deliveries of a system to be sent again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--system", required=True, help="Source system code, e.g. erp.")
        parser.add_argument("--domain", choices=list(DOMAINS))
        parser.add_argument(
            "--status", choices=REPLAYABLE, help="Only dead or delivered ones (default both)."
        )
        parser.add_argument("--since", help="Changes at or after (ISO 8601; UTC if no offset).")
        parser.add_argument("--until", help="Changes before (ISO 8601; UTC if no offset).")
        parser.add_argument("--dry-run", action="store_true", help="Count, queue nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not SourceSystem.objects.filter(code=options["system"]).exists():
            raise CommandError(f"No source system {options['system']!r}.")
        since = parse_moment(options["since"], "--since")
        until = parse_moment(options["until"], "--until")
        if since and until and since >= until:
            raise CommandError("--since must be before --until.")
        replay_filter = services.ReplayFilter(
            system=options["system"],
            domain=options["domain"],
            status=options["status"],
            since=since,
            until=until,
        )
        if options["dry_run"]:
            by_status = dict(
                services.deliveries_matching(replay_filter)
                .filter(status__in=REPLAYABLE)
                .values("status")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("status", "n")
            )
            self.stdout.write(
                f"Would queue {sum(by_status.values())} deliveries "
                f"({by_status.get('dead', 0)} dead, {by_status.get('delivered', 0)} delivered)."
            )
            return
        count = services.replay(replay_filter, "command:replay_deliveries")
        self.stdout.write(f"Queued {count} deliveries for replay.")
