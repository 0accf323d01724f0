"""Background work of the matching app: dedupe runs, shard by shard.

Tasks take ids, keep their state in the database (DedupeRun, DedupeShard) and are safe to run
twice: a shard that has finished is not run again, an applied run is not applied again; a
catch-up match leaves alone the pairs it merged or raised a review for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from celery import shared_task
from django.db import OperationalError

from matching import dedupe

if TYPE_CHECKING:
    from matching.online import Snapshot

logger = logging.getLogger(__name__)


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


@shared_task(
    name="matching.catch_up",
    acks_late=True,
    # Its merges lock golden records, then source records; ingest locks them the other way
    # round, so PostgreSQL may choose it as a deadlock victim: it runs again (idempotent).
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def catch_up(
    domain: str, record_ids: list[int], snapshot: dict | None, written: list[int] | None = None
) -> dict[str, int]:
    from matching.catch_up import catch_up as run
    from matching.online import Snapshot

    snapshot_ = Snapshot.from_dict(snapshot) if snapshot else None
    return run(domain, record_ids, snapshot_, written or ())


def enqueue_catch_up(
    domain: str, record_ids: list[int], snapshot: Snapshot, written: list[int]
) -> None:
    """After a batch commits: match its new records against what its read could not see
    (matching.catch_up). A broker that is down loses only this check; the ``dedupe`` command
    finds such pairs too."""
    try:
        catch_up.delay(domain, record_ids, snapshot.as_dict(), written)
    except Exception:
        logger.warning("Could not enqueue the catch-up match of %s new records", len(record_ids))
