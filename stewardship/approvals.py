"""Change approvals: what stewards approve before it reaches a golden record.

Two kinds wait in one queue (``ChangeApproval``):

* a governed attribute's differing value from a system that does not own it, raised by ingest
  (golden_records/services/governance.py). ``approve_change`` makes it the golden value as a
  steward override (``set_override``, whose new version reaches subscribers through the outbox);
  ``reject_change`` leaves it a discrepancy on its source record.
* a steward's edit of a four-eyes attribute (``propose_edit``): nothing changes on the golden
  record until a second steward approves it; the proposer cannot approve their own edit.
  ``propose_edit`` of an attribute that is not four-eyes applies the override at once.

Each action runs in one transaction that locks the approval row first and writes a
``StewardDecision`` (who, when, what, before and after). Two stewards deciding the same approval:
the second finds it decided and gets ``ApprovalAlreadyDecided`` naming who and when; nothing is
applied twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from golden_records.attributes import AttributeValueError, Reference
from golden_records.domains import DOMAINS, get_domain
from golden_records.models import GOLDEN_MODELS, Channel, GoldenStatus, OwnershipRule
from golden_records.services import resolve_golden_id, set_override
from golden_records.values import golden_attributes, golden_value
from stewardship.models import ChangeApproval, StewardDecision
from stewardship.services import BulkOutcome, StewardshipError, each_apart

Action = StewardDecision.Action
State = ChangeApproval.State
Kind = ChangeApproval.Kind

APPROVE = "approve"
REJECT = "reject"


class ApprovalAlreadyDecided(StewardshipError):
    """Someone (or a newer proposal) decided the approval first."""

    def __init__(self, approval: ChangeApproval):
        when = timezone.localtime(approval.decided_at) if approval.decided_at else None
        at = f" at {when:%Y-%m-%d %H:%M}" if when else ""
        if approval.state == State.SUPERSEDED:
            message = f"Change {approval.pk} was already superseded{at}."
        else:
            who = approval.decided_by_name or "someone"
            message = f"Change {approval.pk} was already {approval.state} by {who}{at}."
        super().__init__("approval_not_pending", message)
        self.approval = approval
        self.decided_by = approval.decided_by_name
        self.decided_at = approval.decided_at


class InvalidValue(StewardshipError):
    """A proposed value the attribute does not accept; ``field`` names the attribute."""

    def __init__(self, field: str, code: str, message: str):
        super().__init__(code, message)
        self.field = field


@dataclass(frozen=True)
class EditOutcome:
    """What ``propose_edit`` did: applied at once (``version``) or waiting (``approval``)."""

    applied: bool
    decision: StewardDecision
    approval: ChangeApproval | None = None
    version: int | None = None


def clean_value(domain: str, attribute: str, raw: Any) -> Any:
    """``raw`` in canonical form, validated as a source value would be, or ``InvalidValue``."""
    spec = DOMAINS.get(domain)
    if spec is None:
        raise StewardshipError("invalid_domain", f"No domain {domain!r}.")
    attr = spec.attributes_by_name.get(attribute)
    if attr is None:
        raise InvalidValue(
            "attribute", "invalid_attribute", f"{domain} has no attribute {attribute!r}."
        )
    if isinstance(attr, Reference):
        raise InvalidValue(
            attribute, "reference_not_editable", "References change through their source records."
        )
    try:
        return attr.clean(raw, {})
    except AttributeValueError as exc:
        raise InvalidValue(attribute, exc.code, f"{attr.verbose_name}: {exc.message}") from exc


def rule_for(domain: str, attribute: str) -> OwnershipRule | None:
    return OwnershipRule.objects.filter(domain=domain, attribute=attribute).first()


def _lock_pending(approval_id: int) -> ChangeApproval:
    approval = (
        ChangeApproval.objects.select_for_update(of=("self",))
        .select_related("source_record", "system")
        .filter(pk=approval_id)
        .first()
    )
    if approval is None:
        raise StewardshipError("approval_not_found", f"No change approval {approval_id}.")
    if approval.state != State.PENDING:
        raise ApprovalAlreadyDecided(approval)
    return approval


def _lock_golden(domain: str, golden_id: uuid.UUID) -> Any:
    model = GOLDEN_MODELS[domain]
    obj = model.objects.select_for_update().filter(pk=golden_id).first()
    if obj is None:
        raise StewardshipError("golden_record_not_found", f"No {domain} golden record {golden_id}.")
    if obj.record_status != GoldenStatus.ACTIVE:
        raise StewardshipError(
            "golden_record_not_active",
            f"{domain} golden record {golden_id} is {obj.record_status}.",
        )
    return obj


def _audit(
    action: str,
    user: Any,
    domain: str,
    golden_id: uuid.UUID,
    approval: ChangeApproval | None,
    before: dict[str, Any],
    after: dict[str, Any],
    note: str = "",
    bulk: bool = False,
) -> StewardDecision:
    return StewardDecision.objects.create(
        approval=approval,
        golden_id=golden_id,
        domain=domain,
        action=action,
        actor=user,
        actor_name=user.get_username(),
        channel=Channel.UI,
        bulk=bulk,
        note=note[:500],
        before=before,
        after=after,
    )


def _decide(approval: ChangeApproval, state: str, user: Any, note: str) -> None:
    approval.move_to(state)
    approval.decided_by = user
    approval.decided_by_name = user.get_username()
    approval.decided_at = timezone.now()
    approval.note = note[:500]
    approval.save(update_fields=["state", "decided_by", "decided_by_name", "decided_at", "note"])


def _supersede_settled(
    domain: str, golden_id: uuid.UUID, attribute: str, value: Any, keep: int | None = None
) -> int:
    """Pending proposals for the attribute that the new golden value already equals."""
    pending = ChangeApproval.objects.filter(
        domain=domain, golden_id=golden_id, attribute=attribute, state=State.PENDING
    ).values_list("pk", "proposed_value")
    # Compared here, not in SQL: JSON equality differs between PostgreSQL and SQLite.
    ids = [pk for pk, proposed in pending if proposed == value and pk != keep]
    if not ids:
        return 0
    return ChangeApproval.objects.filter(pk__in=ids, state=State.PENDING).update(
        state=State.SUPERSEDED,
        decided_at=timezone.now(),
        note="superseded: the golden value already equals the proposed value",
    )


def _source_label(approval: ChangeApproval) -> str:
    if approval.kind == Kind.FOUR_EYES_EDIT:
        return f"steward {approval.proposed_by_name}"
    source_id = approval.source_record.source_id if approval.source_record else "?"
    return f"{approval.system.code if approval.system else approval.proposed_by_name} {source_id}"


def approve_change(
    approval_id: int, user: Any, note: str = "", bulk: bool = False
) -> StewardDecision:
    """Apply a pending change as a steward override on its golden record (the survivor, if it
    was merged since). A four-eyes edit needs a steward other than the one who proposed it."""
    with transaction.atomic():
        approval = _lock_pending(approval_id)
        if approval.kind == Kind.FOUR_EYES_EDIT and approval.proposed_by_id == user.pk:
            raise StewardshipError(
                "four_eyes_self_approval",
                f"You proposed change {approval.pk}: a second steward must approve it.",
            )
        golden_id = resolve_golden_id(approval.domain, approval.golden_id)
        obj = _lock_golden(approval.domain, golden_id)
        attribute = get_domain(approval.domain).attribute(approval.attribute)
        before_value = golden_value(obj, attribute)
        reason = f"approved change {approval.pk} from {_source_label(approval)}"
        version = set_override(
            approval.domain,
            golden_id,
            approval.attribute,
            approval.proposed_value,
            user,
            reason=reason[:500],
            channel=Channel.UI,
        )
        _decide(approval, State.APPROVED, user, note)
        _supersede_settled(
            approval.domain, golden_id, approval.attribute, approval.proposed_value, approval.pk
        )
        return _audit(
            Action.APPROVE_CHANGE,
            user,
            approval.domain,
            golden_id,
            approval,
            {"attribute": approval.attribute, "value": before_value, "version": obj.version},
            {
                "attribute": approval.attribute,
                "value": approval.proposed_value,
                "version": version,
                "kind": approval.kind,
                "proposed_by": approval.proposed_by_name,
                "override": True,
            },
            note,
            bulk,
        )


def reject_change(
    approval_id: int, user: Any, note: str = "", bulk: bool = False
) -> StewardDecision:
    """Refuse a pending change: the golden record keeps its value (a non-owner's value stays a
    discrepancy on its source record). A four-eyes proposer may withdraw their own edit."""
    with transaction.atomic():
        approval = _lock_pending(approval_id)
        _decide(approval, State.REJECTED, user, note)
        return _audit(
            Action.REJECT_CHANGE,
            user,
            approval.domain,
            approval.golden_id,
            approval,
            {"attribute": approval.attribute, "value": approval.golden_value},
            {
                "attribute": approval.attribute,
                "rejected_value": approval.proposed_value,
                "kind": approval.kind,
                "proposed_by": approval.proposed_by_name,
            },
            note,
            bulk,
        )


def decide_many(
    approval_ids: Iterable[int], decision: str, user: Any, note: str = ""
) -> list[BulkOutcome]:
    """Approve or reject each approval in its own transaction: one decided meanwhile (or the
    user's own four-eyes edit) is reported, not applied, and does not stop the others."""
    if decision not in (APPROVE, REJECT):
        raise StewardshipError("invalid_decision", "Decide 'approve' or 'reject'.")
    act = approve_change if decision == APPROVE else reject_change
    return each_apart(approval_ids, lambda pk: act(pk, user, note, bulk=True))


def _open_four_eyes(
    domain: str,
    golden_id: uuid.UUID,
    attribute: str,
    canonical: Any,
    current: Any,
    user: Any,
    reason: str = "",
) -> ChangeApproval:
    """A pending four-eyes proposal of ``canonical`` (``current``: the golden value now) by
    ``user``, superseding their earlier pending one for the attribute. Call it in a transaction
    that holds the golden record's lock; the caller writes the audit row."""
    now = timezone.now()
    earlier = list(
        ChangeApproval.objects.select_for_update().filter(
            domain=domain,
            golden_id=golden_id,
            attribute=attribute,
            proposed_by=user,
            kind=Kind.FOUR_EYES_EDIT,
            state=State.PENDING,
        )
    )
    for approval in earlier:
        approval.move_to(State.SUPERSEDED)
        approval.decided_at = now
        approval.note = "superseded: a newer edit by the same steward"
        approval.save(update_fields=["state", "decided_at", "note"])
    return ChangeApproval.objects.create(
        domain=domain,
        golden_id=golden_id,
        attribute=attribute,
        kind=Kind.FOUR_EYES_EDIT,
        proposed_value=canonical,
        golden_value=current,
        proposed_by=user,
        proposed_by_name=user.get_username(),
        reason=reason[:500],
        created_at=now,
    )


def hold_four_eyes(
    domain: str, golden_id: uuid.UUID, attribute: str, canonical: Any, user: Any, reason: str = ""
) -> ChangeApproval | None:
    """``canonical`` (clean already) as a pending four-eyes proposal by ``user`` on the golden
    record (the survivor, if merged), whatever the attribute's rule says: for a change that
    must wait although it came another way than ``propose_edit`` (a steward's correction of a
    rejected record). ``None`` when the golden value already is ``canonical``. No audit row:
    the caller's decision names the proposal."""
    golden_id = resolve_golden_id(domain, golden_id)
    obj = _lock_golden(domain, golden_id)
    current = golden_value(obj, get_domain(domain).attribute(attribute))
    if canonical == current:
        return None
    return _open_four_eyes(domain, golden_id, attribute, canonical, current, user, reason)


def propose_edit(
    domain: str, golden_id: uuid.UUID, attribute: str, value: Any, user: Any, note: str = ""
) -> EditOutcome:
    """A steward's new value for one golden attribute. Four-eyes attributes wait for a second
    steward (a pending approval; nothing changes yet, nothing is sent); others become a steward
    override at once. A newer proposal by the same steward supersedes their pending one."""
    canonical = clean_value(domain, attribute, value)
    rule = rule_for(domain, attribute)
    with transaction.atomic():
        golden_id = resolve_golden_id(domain, golden_id)
        obj = _lock_golden(domain, golden_id)
        current = golden_value(obj, get_domain(domain).attribute(attribute))
        if canonical == current:
            raise InvalidValue(
                attribute, "value_unchanged", f"The golden {attribute} already is {current!r}."
            )
        before = {"attribute": attribute, "value": current, "version": obj.version}
        if rule is not None and rule.four_eyes:
            approval = _open_four_eyes(domain, golden_id, attribute, canonical, current, user, note)
            decision = _audit(
                Action.PROPOSE_EDIT,
                user,
                domain,
                golden_id,
                approval,
                before,
                {"attribute": attribute, "value": canonical, "four_eyes": True},
                note,
            )
            return EditOutcome(applied=False, decision=decision, approval=approval)
        version = set_override(
            domain,
            golden_id,
            attribute,
            canonical,
            user,
            reason=(note or f"steward edit of {attribute}")[:500],
            channel=Channel.UI,
        )
        _supersede_settled(domain, golden_id, attribute, canonical)
        decision = _audit(
            Action.EDIT,
            user,
            domain,
            golden_id,
            None,
            before,
            {"attribute": attribute, "value": canonical, "version": version, "override": True},
            note,
        )
        return EditOutcome(applied=True, decision=decision, version=version)


def golden_snapshot(domain: str, golden_id: uuid.UUID) -> dict[str, Any]:
    """The golden record's attributes now (for pages and tests)."""
    return golden_attributes(GOLDEN_MODELS[domain].objects.get(pk=golden_id))
