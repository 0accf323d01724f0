"""Background work of the golden-records app. Tasks take ids, are idempotent and safe to rerun."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, GoldenStatus, IdempotencyRecord
from golden_records.services import apply_ownership

logger = logging.getLogger(__name__)

RECOMPUTE_BATCH = 500


@shared_task(name="golden_records.recompute_golden_records")
def recompute_golden_records(domain: str, after: str | None = None, reason: str = "") -> int:
    """Re-apply ownership to one keyset batch of a domain's active golden records, then enqueue
    the next batch. Records whose values do not change get no new version, so a second run (or a
    redelivered message) changes nothing."""
    get_domain(domain)
    model = GOLDEN_MODELS[domain]
    query = model.objects.filter(record_status=GoldenStatus.ACTIVE).order_by("pk")
    if after:
        query = query.filter(pk__gt=uuid.UUID(after))
    ids = list(query.values_list("pk", flat=True)[:RECOMPUTE_BATCH])
    if not ids:
        return 0
    origin = ChangeOrigin.task(
        "recompute_golden_records", reason=reason or "ownership rules changed"
    )
    apply_ownership(domain, ids, origin)
    if len(ids) == RECOMPUTE_BATCH:
        recompute_golden_records.delay(domain, str(ids[-1]), reason)
    return len(ids)


@shared_task(name="golden_records.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Drop Idempotency-Key records older than their retention (48 hours by default)."""
    cutoff = timezone.now() - timedelta(hours=settings.MDM_IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        logger.info("purged %d idempotency records", deleted)
    return deleted
