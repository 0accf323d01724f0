"""Steward actions on data-quality exceptions (records ingest rejected), each in one transaction
with its audit row (``StewardDecision`` with ``rejected_record``).

``resubmit_exception`` runs the corrected record through the same pipeline as the source
system's own sends (``ingest_record``), on the system's behalf, with an origin naming the
steward; still invalid, nothing is written and the new errors come back. A four-eyes attribute
(``OwnershipRule.four_eyes``) the steward changed from what the system sent is not ingested as
the steward typed it: the system's value is (or, where the system's was invalid, what the hub
already has from the record), and the steward's value becomes a pending four-eyes proposal
(``hold_four_eyes``) that a second steward approves, as a steward edit would. ``dismiss_exception``
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

from golden_records.domains import get_domain
from golden_records.history import ChangeOrigin
from golden_records.models import Channel, OwnershipRule, RejectedRecord, SourceRecord
from golden_records.pipeline import PreparedRecord
from golden_records.services import ingest_record
from golden_records.services.exceptions import corrected_payload
from golden_records.services.ingest import Action as IngestAction
from stewardship.approvals import InvalidValue, clean_value, hold_four_eyes
from stewardship.models import ChangeApproval, StewardDecision
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
    held: list[ChangeApproval] = field(default_factory=list)
    """The steward's four-eyes values waiting for a second steward (pending approvals)."""


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


def _four_eyes_changes(
    rejected: RejectedRecord, payload: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The four-eyes attributes whose value the steward changed from what the system sent
    (canonical values; ``None``: cleared), and errors for changed references (no proposal can
    carry them). A value that is not valid stays in ``payload`` for ingest to report.
    ``payload`` is put back to the system's value of each: its value as sent, or if that was
    not valid, the hub's stored value of the record (or nothing), so that the correction itself
    changes no four-eyes value."""
    spec = get_domain(rejected.domain)
    names = [
        name
        for name in OwnershipRule.objects.filter(
            domain=rejected.domain, four_eyes=True
        ).values_list("attribute", flat=True)
        if name in spec.attributes_by_name
    ]
    sent = rejected.payload if isinstance(rejected.payload, dict) else {}
    changes: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name in names:
        if payload.get(name) == sent.get(name):
            continue  # left as the system sent it (``corrected_payload`` keeps the original)
        try:
            wanted = clean_value(rejected.domain, name, payload.get(name))
        except InvalidValue as exc:
            if exc.code == "reference_not_editable":  # a four-eyes reference: no proposal
                errors.append({"field": name, "code": exc.code, "message": exc.message})
            continue  # not valid: left in the payload, ingest reports it as for any value
        try:
            systems: Any = clean_value(rejected.domain, name, sent.get(name))
            systems_valid = True
        except InvalidValue:
            systems, systems_valid = None, False
        if systems_valid and wanted == systems:
            continue  # written differently, the same value
        changes[name] = wanted
        if systems_valid and name in sent:
            payload[name] = sent[name]
            continue
        payload.pop(name, None)
        if not systems_valid:
            stored = _stored_payload(rejected)
            if stored.get(name) not in (None, ""):
                payload[name] = stored[name]
    return changes, errors


def _stored_payload(rejected: RejectedRecord) -> dict[str, Any]:
    record = SourceRecord.objects.filter(
        system=rejected.system, domain=rejected.domain, source_id=rejected.source_id
    ).first()
    stored = record.payload if record is not None else None
    return stored if isinstance(stored, dict) else {}


def resubmit_exception(
    rejected_id: int, values: dict[str, str], user: Any, note: str = ""
) -> ResubmitOutcome:
    """Ingest the corrected record for the exception's system; ``values`` maps attribute names
    (and ``source_updated_at``, ``source_id`` where the record had none) to the form's text.

    Valid: the source record is written (history says the steward did it, through the UI),
    the exception is resubmitted, linked to the golden record. A four-eyes value the steward
    changed waits for a second steward (``held``; see the module docstring). Not valid, or older
    than what the hub has (stale): nothing is written, the errors come back."""
    with transaction.atomic():
        rejected = _lock_open(rejected_id)
        payload = corrected_payload(rejected, values)
        four_eyes, invalid = _four_eyes_changes(rejected, payload)
        source_id = rejected.source_id or (values.get("source_id") or "").strip()
        origin = ChangeOrigin.steward(
            user, Channel.UI, reason=f"corrected rejected record #{rejected.pk}"
        )
        record = ingest_record(rejected.system, rejected.domain, source_id, payload, origin)
        errors = invalid + record.errors_as_list()
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
        reason = f"correction of rejected record #{rejected.pk}"
        held = [
            approval
            for name, value in four_eyes.items()
            if (
                approval := hold_four_eyes(
                    rejected.domain,
                    record.golden_id,
                    name,
                    value,
                    user,
                    f"{reason}: {note}" if note else reason,
                )
            )
            is not None
        ]
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
        if held:
            after["four_eyes_pending"] = [
                {"attribute": a.attribute, "value": a.proposed_value, "approval": a.pk}
                for a in held
            ]
        decision = _audit(rejected, StewardDecision.Action.RESUBMIT, user, before, after, note)
        return ResubmitOutcome(True, rejected, record, [], decision, held)


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
