"""train_matcher: estimate a domain's match weights from the hub's source records."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from golden_records.domains import DOMAINS
from golden_records.models import SourceRecord
from matching.features import extract
from matching.rule_versions import active_rules, save_rule_version
from matching.training import describe, train


class Command(BaseCommand):
    help = (
        "Estimate the m/u weights and the prior of a domain's match rules from its source "
        "records (expectation-maximisation), and store them as a new, active rule version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, choices=sorted(DOMAINS))
        parser.add_argument("--limit", type=int, default=200_000, help="Records to train on.")
        parser.add_argument("--dry-run", action="store_true", help="Print, do not store.")

    def handle(self, *args, domain, limit, dry_run, **options):
        rules = active_rules(domain)
        rows = (
            SourceRecord.objects.filter(domain=domain)
            .order_by("id")
            .values_list("canonical", flat=True)[:limit]
        )
        features = [extract(rules.attributes, canonical) for canonical in rows]
        if len(features) < 50:
            raise CommandError(f"Only {len(features)} {domain} records: too few to train on.")
        trained = train(rules, features)
        for line in describe(trained):
            self.stdout.write(line)
        if dry_run:
            return
        row = save_rule_version(
            trained, created_by="train_matcher", note=f"EM on {len(features)} records"
        )
        self.stdout.write(f"Stored {row}.")
