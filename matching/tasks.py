"""Background work of the matching app: dedupe runs, shard by shard.

Tasks take ids, keep their state in the database (DedupeRun, DedupeShard) and are safe to run
twice: a shard that has finished is not run again, an applied run is not applied again; a
catch-up request that is done is not run again (CatchUpRequest.done_at), and the sweep runs
the ones a lost message or a killed worker left pending.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from matching import catch_up as catch_up_service
from matching import dedupe
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
    # round, so PostgreSQL may choose it as a deadlock victim: it runs again (idempotent), and
    # the request stays pending for the sweep if every retry fails.
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def catch_up(request_id: int, *legacy: Any) -> dict[str, int] | None:
    """Run a batch's catch-up request (matching.catch_up); nothing if it is done already.

    ``legacy``: a message queued before requests were rows (domain, record ids, snapshot,
    written) still runs, as it did then."""
    if legacy:
        record_ids, snapshot, *written = legacy
        return catch_up_service.catch_up(
            str(request_id),
            record_ids,
            Snapshot.from_dict(snapshot) if snapshot else None,
            written[0] if written else (),
        )
    return catch_up_service.run_request(request_id)


@shared_task(name="matching.sweep_catch_ups")
def sweep_catch_ups(grace_seconds: float | None = None) -> int:
    """Beat: run catch-up requests whose message was lost or whose worker died."""
    grace = settings.MDM_CATCH_UP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    return catch_up_service.sweep(grace)


@shared_task(name="matching.purge_catch_ups")
def purge_catch_ups() -> int:
    """Beat, hourly: forget catch-up requests done more than a week ago."""
    return catch_up_service.purge_done()
