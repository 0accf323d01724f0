"""dedupe: re-match a whole domain, merge clear duplicates, send unclear ones to review."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from matching import dedupe
from matching.models import DedupeRun, DedupeShard
from matching.rule_versions import rules_if_any


class Command(BaseCommand):
    help = (
        "Re-match every source record of a domain: clusters of duplicates (connected "
        "components of auto-matches, guarded against chaining) are merged into their oldest "
        "golden record, unclear pairs become match reviews. Existing golden ids stay valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True)
        parser.add_argument(
            "--shards",
            type=int,
            default=None,
            help=f"Split the work (default: one shard per {dedupe.RECORDS_PER_SHARD:,} records).",
        )
        parser.add_argument(
            "--celery",
            action="store_true",
            help="Run the shards on Celery workers in parallel; this command follows progress.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would merge; change nothing."
        )
        parser.add_argument("--timeout", type=int, default=6 * 3600, help="With --celery.")

    def handle(self, *args, domain, shards, celery, dry_run, timeout, **options):
        if rules_if_any(domain) is None:
            raise CommandError(f"Domain {domain!r} has no match rules (price records link by key).")
        if shards is not None and shards < 1:
            raise CommandError("--shards must be at least 1.")
        run = dedupe.start_run(domain, "command:dedupe", shards=shards, dry_run=dry_run)
        self.stdout.write(
            f"Dedupe run {run.pk}: {domain}, {run.shards} shard(s), rules v{run.rule_version}"
        )
        total = 2 * run.shards + 1
        started = time.monotonic()
        with tqdm(total=total, unit="step", disable=None) as bar:
            if celery:
                from matching.tasks import start_dedupe

                start_dedupe(run.pk, run.shards)
                run = self._follow(run, bar, timeout)
            else:
                run = dedupe.run_inline(run, lambda phase, done, of: bar.update(1))
        elapsed = time.monotonic() - started
        if run.status != DedupeRun.Status.DONE:
            raise CommandError(f"Dedupe run {run.pk} {run.status}: {run.error or 'see worker log'}")
        counts = run.counts
        self.stdout.write(
            f"{'Would merge' if dry_run else 'Merged'} {counts.get('golden_records_merged', 0)} "
            f"golden records in {counts.get('clusters_merged', 0)} clusters; "
            f"{counts.get('reviews_raised', 0)} reviews raised, "
            f"{counts.get('held_apart', 0)} auto-matches held apart by the chaining guard; "
            f"{counts.get('pairs_scored', 0)} pairs scored over {counts.get('records', 0)} "
            f"records ({counts.get('reindexed', 0)} re-standardised) in {elapsed:.1f} s."
        )

    def _follow(self, run: DedupeRun, bar: tqdm, timeout: int) -> DedupeRun:
        deadline = time.monotonic() + timeout
        shown = 0
        while time.monotonic() < deadline:
            run.refresh_from_db()
            done = DedupeShard.objects.filter(run=run).count()
            done += 1 if run.status == DedupeRun.Status.DONE else 0
            bar.update(done - shown)
            shown = done
            if run.status != DedupeRun.Status.RUNNING:
                return run
            time.sleep(0.5)
        raise CommandError(f"Dedupe run {run.pk} still running after {timeout} s.")
