"""Idempotency-Key for POST requests (draft-ietf-httpapi-idempotency-key-header).

The key row is written in the same transaction as the work it guards: a concurrent request with
the same key waits on the unique index and then replays the stored response, so the work runs
once. Same key with another body → 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from golden_records.api.errors import ApiError
from golden_records.models import IdempotencyRecord, SourceSystem

REPLAY_HEADER = "Idempotent-Replayed"


def request_fingerprint(method: str, path: str, data: Any) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def _replay(stored: IdempotencyRecord, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise ApiError(
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request body.",
            status_code=422,
        )
    if stored.state != IdempotencyRecord.State.DONE:
        raise ApiError(
            "idempotency_key_in_progress",
            "A request with this Idempotency-Key is still running.",
            status_code=409,
        )
    return Response(stored.response, status=stored.status_code, headers={REPLAY_HEADER: "true"})


def run_once(
    system: SourceSystem, key: str | None, fingerprint: str, work: Callable[[], Response]
) -> Response:
    """Run ``work`` unless a request with ``key`` already ran; then replay its response."""
    if not key:
        return work()
    if len(key) > 255:
        raise ApiError("invalid_idempotency_key", "Idempotency-Key has at most 255 characters.")
    expiry = timezone.now() - timedelta(hours=settings.MDM_IDEMPOTENCY_KEY_TTL_HOURS)
    IdempotencyRecord.objects.filter(system=system, key=key, created_at__lt=expiry).delete()
    stored = IdempotencyRecord.objects.filter(system=system, key=key).first()
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                system=system, key=key, request_hash=fingerprint
            )
            response = work()
            record.state = IdempotencyRecord.State.DONE
            record.status_code = response.status_code
            record.response = response.data
            record.save(update_fields=["state", "status_code", "response"])
            return response
    except IntegrityError:
        stored = IdempotencyRecord.objects.get(system=system, key=key)
        return _replay(stored, fingerprint)
