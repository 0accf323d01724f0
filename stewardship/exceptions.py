"""Steward actions on data-quality exceptions (records ingest rejected), each in one transaction
with its audit row (``StewardDecision`` with ``rejected_record``).

``resubmit_exception`` runs the corrected record through the same pipeline as the source
system's own sends (``ingest_record``), on the system's behalf, with an origin naming the
steward; still invalid, nothing is written and the new errors come back. ``dismiss_exception``
closes it with a note; ``dismiss_many`` closes a selection, each in its own transaction. The
exception row is locked first: the second of two stewards finds it handled and gets
``AlreadyHandled`` naming who handled it and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from golden_records.history import ChangeOrigin
from golden_records.models import Channel, RejectedRecord
from golden_records.pipeline import PreparedRecord
from golden_records.services import ingest_record
from golden_records.services.exceptions import corrected_payload
from golden_records.services.ingest import Action as IngestAction
from stewardship.models import StewardDecision
from stewardship.services import BulkOutcome, StewardshipError, each_apart

State = RejectedRecord.State


class AlreadyHandled(StewardshipError):
    """Someone resubmitted or dismissed the exception first (or the system superseded it)."""

    def __init__(self, rejected: RejectedRecord):
        who = rejected.resolved_by_name or (
            "the source system" if rejected.state == State.SUPERSEDED else "someone"
        )
        when = timezone.localtime(rejected.resolved_at) if rejected.resolved_at else None
        at = f" on {when:%d %b %Y at %H:%M}" if when else ""
        super().__init__(
            "exception_not_open",
            f"Exception #{rejected.pk} was already {rejected.get_state_display()} by {who}{at}.",
        )
        self.rejected = rejected
        self.handled_by = who


@dataclass
class ResubmitOutcome:
    ok: bool
    rejected: RejectedRecord
    record: PreparedRecord | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    decision: StewardDecision | None = None


def _lock_open(rejected_id: int) -> RejectedRecord:
    rejected = (
        RejectedRecord.objects.select_for_update().select_related("system").filter(pk=rejected_id)
    ).first()
    if rejected is None:
        raise StewardshipError("exception_not_found", f"No data-quality exception #{rejected_id}.")
    if rejected.state != State.OPEN:
        raise AlreadyHandled(rejected)
    return rejected


def _audit(
    rejected: RejectedRecord,
    action: str,
    user: Any,
    before: dict[str, Any],
    after: dict[str, Any],
    note: str = "",
    bulk: bool = False,
) -> StewardDecision:
    return StewardDecision.objects.create(
        rejected_record=rejected,
        domain=rejected.domain,
        golden_id=rejected.golden_id,  # a resubmit's record: its decision shows on it
        action=action,
        actor=user,
        actor_name=user.get_username(),
        channel=Channel.UI,
        note=note[:500],
        before=before,
        after=after,
        bulk=bulk,
    )


def _close(rejected: RejectedRecord, state: str, user: Any, note: str = "") -> None:
    rejected.state = state
    rejected.resolved_at = timezone.now()
    rejected.resolved_by = user
    rejected.resolved_by_name = user.get_username()
    rejected.note = note[:500]
    rejected.save(
        update_fields=[
            "state",
            "resolved_at",
            "resolved_by",
            "resolved_by_name",
            "note",
            "golden_id",
        ]
    )


def resubmit_exception(
    rejected_id: int, values: dict[str, str], user: Any, note: str = ""
) -> ResubmitOutcome:
    """Ingest the corrected record for the exception's system; ``values`` maps attribute names
    (and ``source_updated_at``, ``source_id`` where the record had none) to the form's text.

    Valid: the source record is written (history says the steward did it, through the UI),
    the exception is resubmitted, linked to the golden record. Not valid, or older than what
    the hub has (stale): nothing is written, the errors come back."""
    with transaction.atomic():
        rejected = _lock_open(rejected_id)
        payload = corrected_payload(rejected, values)
        source_id = rejected.source_id or (values.get("source_id") or "").strip()
        origin = ChangeOrigin.steward(
            user, Channel.UI, reason=f"corrected rejected record #{rejected.pk}"
        )
        record = ingest_record(rejected.system, rejected.domain, source_id, payload, origin)
        errors = record.errors_as_list()
        if record.ok and record.action == IngestAction.STALE:
            errors = [
                {
                    "field": "source_updated_at",
                    "code": "stale",
                    "message": "The hub has a newer version of this record; dismiss this "
                    "exception, or send a later source_updated_at.",
                }
            ]
        if errors:
            transaction.set_rollback(True)
            return ResubmitOutcome(False, rejected, record, errors)
        before = {"payload": rejected.payload, "errors": rejected.errors, "state": State.OPEN}
        rejected.golden_id = record.golden_id
        _close(rejected, State.RESUBMITTED, user, note)
        after = {
            "state": State.RESUBMITTED,
            "payload": payload,
            "source_id": source_id,
            "action": record.action,
            "golden_id": str(record.golden_id),
            "version": record.version,
        }
        decision = _audit(rejected, StewardDecision.Action.RESUBMIT, user, before, after, note)
        return ResubmitOutcome(True, rejected, record, [], decision)


def _required_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise StewardshipError("note_required", "Say why you dismiss this exception.")
    return note


def dismiss_exception(
    rejected_id: int, user: Any, note: str, bulk: bool = False
) -> StewardDecision:
    """Close an open exception without resubmitting it; the note says why (required)."""
    note = _required_note(note)
    with transaction.atomic():
        rejected = _lock_open(rejected_id)
        _close(rejected, State.DISMISSED, user, note)
        return _audit(
            rejected,
            StewardDecision.Action.DISMISS,
            user,
            {"state": State.OPEN},
            {"state": State.DISMISSED},
            note,
            bulk,
        )


def dismiss_many(rejected_ids: Iterable[int], user: Any, note: str) -> list[BulkOutcome]:
    """Dismiss each selected exception in its own transaction, with one note for all (required):
    one handled meanwhile is reported, not dismissed, and does not stop the others."""
    note = _required_note(note)
    return each_apart(rejected_ids, lambda pk: dismiss_exception(pk, user, note, bulk=True))
