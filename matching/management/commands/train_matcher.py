"""train_matcher: estimate a domain's match weights from the hub's source records."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from golden_records.domains import DOMAINS
from golden_records.models import SourceRecord
from matching.features import extract
from matching.rule_versions import active_rules, save_rule_version
from matching.training import describe, fit, labelled_pairs


def steward_decisions(domain: str) -> list[tuple[int, int, bool]]:
    """Stewards' decisions about pairs of the domain's source records, as
    ``(source_record_id_a, source_record_id_b, is_match)``: True for a pair a steward merged,
    False for one a steward kept apart. ``train_matcher`` turns them into labelled pairs
    (``matching.training.labelled_pairs``), which count in training with full weight.

    Merged match reviews are matches; rejected reviews and the never-match memory (rejections,
    unmerges) are non-matches. Rejections are read in full (they are few and say the most);
    reviews that were answered by another one (obsolete) say nothing.
    """
    from matching.models import MatchReview, NeverMatch, ReviewStatus

    decisions: list[tuple[int, int, bool]] = [
        (a, b, status == ReviewStatus.MERGED)
        for a, b, status in MatchReview.objects.filter(
            domain=domain, status__in=[ReviewStatus.MERGED, ReviewStatus.REJECTED]
        )
        .order_by("decided_at", "id")
        .values_list("source_record_id", "candidate_record_id", "status")
    ]
    decisions.extend(
        (a, b, False)
        for a, b in NeverMatch.objects.filter(domain=domain)
        .order_by("created_at", "id")
        .values_list("left_id", "right_id")
    )
    return decisions


class Command(BaseCommand):
    help = (
        "Estimate the m/u weights and the prior of a domain's match rules from its source "
        "records (u from random pairs; m and the prior by expectation-maximisation over the "
        "candidate pairs and steward decisions), and store them as a new, active rule version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, choices=sorted(DOMAINS))
        parser.add_argument("--limit", type=int, default=200_000, help="Records to train on.")
        parser.add_argument("--dry-run", action="store_true", help="Print, do not store.")
        parser.add_argument(
            "--scope",
            choices=["m", "all"],
            default="m",
            help="What the new version takes from training: m only (default; u and the prior stay "
            "the active rules', the scale their caps and thresholds are set in) or m, u and prior.",
        )
        parser.add_argument(
            "--no-activate",
            action="store_true",
            help="Store the trained version without making it the active one (to review first).",
        )

    def handle(self, *args, domain, limit, dry_run, scope, no_activate, **options):
        rules = active_rules(domain)
        rows = list(
            SourceRecord.objects.filter(domain=domain)
            .order_by("id")
            .values_list("id", "canonical")[:limit]
        )
        if len(rows) < 50:
            raise CommandError(f"Only {len(rows)} {domain} records: too few to train on.")
        features = [extract(rules.attributes, canonical) for _, canonical in rows]
        labelled = labelled_pairs([pk for pk, _ in rows], steward_decisions(domain))
        training = fit(rules, features, labelled, scope=scope)
        for line in training.report.lines() + describe(training.rules):
            self.stdout.write(line)
        if dry_run:
            return
        report = training.report
        row = save_rule_version(
            training.rules,
            created_by="train_matcher",
            note=(
                f"Trained from version {rules.version} on {report.records} records, "
                f"{report.candidate_pairs} candidate pairs, {report.labelled_matches} + "
                f"{report.labelled_non_matches} labelled pairs; scope {scope}; calibrated prior "
                f"{report.prior:.6g}"
            )[:500],
            activate=not no_activate,
        )
        self.stdout.write(f"Stored {row}" + ("." if not no_activate else " (not active)."))
