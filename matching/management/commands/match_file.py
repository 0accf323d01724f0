"""match_file: run the matcher over a CSV file, without touching the database."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from matching.filemode import match_records, read_records, write_clusters
from matching.rules import default_rules, load_rules_file
from matching.training import describe, fit


class Command(BaseCommand):
    help = (
        "Match the records of a CSV file (columns: the domain's attribute names plus "
        "source_system and source_id; other columns are ignored, missing ones are empty) and "
        "write source_system,source_id,cluster_id. Uses the domain's match rules; reads and "
        "writes no database."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("input", help="CSV file (UTF-8, with a header row).")
        parser.add_argument("--domain", required=True)
        parser.add_argument("--out", required=True, help="Where to write the clusters (CSV).")
        parser.add_argument("--pairs", help="Also write the scored pairs with their explanation.")
        parser.add_argument("--rules", help="A rules file (JSON) instead of the domain default.")
        parser.add_argument(
            "--train",
            action="store_true",
            help="First estimate the rule weights from this file (expectation-maximisation).",
        )
        parser.add_argument(
            "--train-scope",
            choices=["m", "all"],
            default="m",
            help="With --train, what the rules take from training: m only (default; u and the "
            "prior stay the rules', the scale their caps and thresholds are set in) or m, u and "
            "prior (the calibrated model).",
        )

    def handle(self, *args, input, domain, out, pairs, rules, train, train_scope, **options):
        started = time.perf_counter()
        try:
            rule_set = load_rules_file(rules) if rules else default_rules(domain)
        except (KeyError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if not Path(input).is_file():
            raise CommandError(f"{input}: no such file.")
        records = read_records(input, rule_set.attributes)
        if train:
            from matching.features import extract

            rule_set, lines = train_rules(
                rule_set, [extract(rule_set.attributes, r) for r in records], train_scope
            )
            for line in lines:
                self.stderr.write(f"  {line}")
        result = match_records(rule_set, records)
        write_clusters(result, out)
        if pairs:
            write_pairs(result, rule_set, pairs)
        clusters = len(set(result.clustering.cluster_of.values()))
        self.stderr.write(
            f"{len(records):,} records → {clusters:,} clusters; {len(result.left):,} candidate "
            f"pairs scored; {len(result.clustering.held_apart):,} links held apart for review; "
            f"{time.perf_counter() - started:.1f}s"
        )


def train_rules(rule_set, features, scope="m"):
    """The rules trained on the file (EM, see matching.training) and lines for the log: what
    training saw, the new weights, and how the trained rules decide the file's candidate pairs
    compared with the rules they were trained from (no labels here, so no way to tell which is
    right: the figures are for the reader)."""
    from matching.blocking import candidate_pairs
    from matching.scoring import score_pairs

    training = fit(rule_set, features, scope=scope)
    trained = training.rules
    left, right = candidate_pairs(rule_set, features)
    before = score_pairs(rule_set, features, left, right)[0]
    after = score_pairs(trained, features, left, right)[0]
    auto_before = before >= rule_set.thresholds.auto_match
    auto_after = after >= trained.thresholds.auto_match
    review_before = (before >= rule_set.thresholds.review) & ~auto_before
    review_after = (after >= trained.thresholds.review) & ~auto_after
    lines = [*training.report.lines(), *describe(trained)]
    lines.append(
        f"auto-match pairs: {int(auto_after.sum()):,} trained, {int(auto_before.sum()):,} with "
        f"rules v{rule_set.version} ({int((auto_after & ~auto_before).sum()):,} only trained, "
        f"{int((auto_before & ~auto_after).sum()):,} only v{rule_set.version}); review pairs: "
        f"{int(review_after.sum()):,} trained, {int(review_before.sum()):,} v{rule_set.version}"
    )
    return trained, lines


def write_pairs(result, rule_set, path: str) -> None:
    from matching.scoring import score_pair

    review = rule_set.thresholds.review
    keep = result.probability >= review
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "left_system",
                "left_id",
                "right_system",
                "right_id",
                "probability",
                "decision",
                "explanation",
            ]
        )
        for a, b in zip(result.left[keep].tolist(), result.right[keep].tolist(), strict=True):
            score = score_pair(rule_set, result.features[a], result.features[b], result.frequencies)
            decision = "match" if score.probability >= rule_set.thresholds.auto_match else "review"
            left, right = result.records[a], result.records[b]
            writer.writerow(
                [
                    left["source_system"],
                    left["source_id"],
                    right["source_system"],
                    right["source_id"],
                    f"{score.probability:.6f}",
                    decision,
                    json.dumps(score.as_dict(), ensure_ascii=False, separators=(",", ":")),
                ]
            )
