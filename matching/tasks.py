"""Background work of the matching app: dedupe runs, shard by shard.

Tasks take ids, keep their state in the database (DedupeRun, DedupeShard) and are safe to run
twice: a shard that has finished is not run again, an applied run is not applied again.
"""

from __future__ import annotations

from celery import shared_task

from matching import dedupe


@shared_task(name="matching.dedupe_shard", acks_late=True)
def dedupe_shard(run_id: int, phase: str, shard: int) -> bool:
    return dedupe.run_shard(run_id, phase, shard)


@shared_task(name="matching.dedupe_apply", acks_late=True)
def dedupe_apply(run_id: int) -> str:
    return dedupe.apply_run(run_id).status


def start_dedupe(run_id: int, shards: int) -> None:
    """Enqueue the run's first phase; the last shard of each phase enqueues the next."""
    for shard in range(shards):
        dedupe_shard.delay(run_id, dedupe.INDEX, shard)
