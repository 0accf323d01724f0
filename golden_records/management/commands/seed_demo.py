"""seed_demo: load the demo distributor (``golden_records.demo``) through the ingest pipeline."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from golden_records.demo.loader import (
    golden_summary,
    ingest_payloads,
    record_count,
    rejection_message,
    summary_lines,
)
from golden_records.demo.payloads import build_payloads
from golden_records.management.actor import add_actor_argument, command_origin
from golden_records.models import SourceRecord

COMMAND = "seed_demo"


class Command(BaseCommand):
    help = (
        "Load a realistic demo distributor (customers, items, locations, prices from CRM, ERP, "
        "WMS, web shop and EDI) through the ingest pipeline. Deterministic for --seed; running it "
        "again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Do nothing if any source record exists already."
        )
        parser.add_argument("--customers", type=int, default=2000, help="Customer companies.")
        parser.add_argument("--items", type=int, default=5000, help="Products in the ERP.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed.")
        add_actor_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        seed, customers, items = options["seed"], options["customers"], options["items"]
        if customers < 1 or items < 1:
            raise CommandError("--customers and --items must be at least 1.")
        if options["once"] and SourceRecord.objects.exists():
            self.stdout.write("Demo data already loaded; skipping.")
            return
        started = time.monotonic()
        payloads = build_payloads(seed, customers, items)
        self.stdout.write(
            f"Seeding {record_count(payloads):,} demo records (seed {seed}, "
            f"{customers:,} customers, {items:,} items; "
            f"generated in {time.monotonic() - started:.1f}s)."
        )
        # One transaction: a rejected record leaves the database as it was, so that
        # `seed_demo --once` never skips a half-loaded demo.
        with transaction.atomic():
            result = ingest_payloads(payloads, command_origin(COMMAND, options))
            for line in summary_lines(result):
                self.stdout.write(line)
            if result.rejected:
                raise CommandError(rejection_message(result))
        self.stdout.write(f"{golden_summary()}. Done in {time.monotonic() - started:.1f}s.")
