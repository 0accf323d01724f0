"""Governed attributes on ingest: a non-owner's differing value waits for a steward's approval.

Ownership already keeps a non-owner's value off the golden record (it stays on its source
record, a discrepancy). For attributes whose ownership rule is ``governed``, ingest also puts
that value in the stewards' change-approvals queue (``stewardship.ChangeApproval``), where a
steward approves it (it becomes a steward override) or rejects it (it stays a discrepancy).

``record_non_owner_changes`` runs once per batch, after ownership is applied, set-wise: one
query for the domain's governed rules (and nothing else when there are none), one for the
pending approvals of the batch's golden records, one for their golden values, then at most
two updates (superseded approvals) and one insert — however many records the batch holds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from golden_records.attributes import Reference
from golden_records.bulk import bulk_insert
from golden_records.domains import DomainSpec
from golden_records.models import (
    GOLDEN_MODELS,
    GoldenStatus,
    OwnershipRule,
    SourceRecord,
    SourceSystem,
)
from stewardship.models import ChangeApproval

SUPERSEDED_BY_GOLDEN = "superseded: the golden value already equals the proposed value"
SUPERSEDED_BY_SOURCE = "superseded: the source record sent another value since"


def _canonical(attribute: Any, raw: Any) -> Any:
    """A value read from the golden table (``values_list``) in canonical (JSON) form."""
    if isinstance(attribute, Reference):
        return str(raw) if raw else None
    return attribute.to_json(raw)


def source_value(attribute: Any, record: SourceRecord) -> Any:
    """What a source record says for ``attribute`` (a reference: the golden id it resolves to)."""
    if isinstance(attribute, Reference):
        return (record.references or {}).get(attribute.name)
    return (record.canonical or {}).get(attribute.name)


def golden_values(
    spec: DomainSpec, golden_ids: Sequence[uuid.UUID] | set[uuid.UUID], names: Sequence[str]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The active golden records' canonical values of ``names``: one query."""
    attributes = [spec.attribute(name) for name in names]
    columns = [f"{a.name}_id" if isinstance(a, Reference) else a.name for a in attributes]
    rows = (
        GOLDEN_MODELS[spec.name]
        .objects.filter(pk__any=list(golden_ids), record_status=GoldenStatus.ACTIVE)
        .values_list("pk", *columns)
    )
    return {
        row[0]: {a.name: _canonical(a, raw) for a, raw in zip(attributes, row[1:], strict=True)}
        for row in rows
    }


def record_non_owner_changes(
    spec: DomainSpec, system: SourceSystem, written: Sequence[SourceRecord], now: dt.datetime
) -> list[ChangeApproval]:
    """Pending approvals for the governed values ``system`` sent in ``written`` (its source
    records this batch created or updated) that differ from the golden value, where ``system``
    does not own the attribute. Pending approvals of these golden records that the batch settled
    are superseded: the golden value came to equal the proposal, or the same source record now
    says something else. An unchanged proposal that is still pending is not raised again.
    Returns the new approvals.
    """
    if not written:
        return []
    rules = [
        rule
        for rule in OwnershipRule.objects.filter(domain=spec.name, governed=True)
        if rule.attribute in spec.attributes_by_name
    ]
    if not rules:
        return []
    governed = [rule.attribute for rule in rules]
    proposing = [rule.attribute for rule in rules if not rule.is_owner(system.code)]
    golden_ids = {record.golden_id for record in written}
    pending = list(
        ChangeApproval.objects.filter(
            domain=spec.name,
            golden_id__any=list(golden_ids),
            attribute__in=governed,
            state=ChangeApproval.State.PENDING,
        )
    )
    if not proposing and not pending:
        return []
    golden = golden_values(spec, golden_ids, governed)

    settled_by_golden: list[int] = []
    settled_by_source: list[int] = []
    by_source: dict[tuple[uuid.UUID, str, int], ChangeApproval] = {}
    for approval in pending:
        values = golden.get(approval.golden_id)
        if values is None:
            continue  # merged or retired meanwhile: the steward sees it on the approval page
        if approval.proposed_value == values.get(approval.attribute):
            settled_by_golden.append(approval.pk)
        elif approval.source_record_id is not None:
            by_source[(approval.golden_id, approval.attribute, approval.source_record_id)] = (
                approval
            )

    new: list[ChangeApproval] = []
    for record in written:
        values = golden.get(record.golden_id)
        if values is None:
            continue
        for name in proposing:
            value = source_value(spec.attribute(name), record)
            earlier = by_source.get((record.golden_id, name, record.pk))
            if earlier is not None:
                if earlier.proposed_value == value:
                    continue  # the same proposal is still waiting
                settled_by_source.append(earlier.pk)
            if value is None or value == values[name]:
                continue
            new.append(
                ChangeApproval(
                    domain=spec.name,
                    golden_id=record.golden_id,
                    attribute=name,
                    kind=ChangeApproval.Kind.NON_OWNER_CHANGE,
                    state=ChangeApproval.State.PENDING,
                    proposed_value=value,
                    golden_value=values[name],
                    source_record_id=record.pk,
                    system_id=system.pk,
                    proposed_by_name=system.code,
                    reason=f"{system.code} {record.source_id}",
                    created_at=now,
                )
            )
    for ids, note in (
        (settled_by_golden, SUPERSEDED_BY_GOLDEN),
        (settled_by_source, SUPERSEDED_BY_SOURCE),
    ):
        if ids:
            ChangeApproval.objects.filter(pk__in=ids, state=ChangeApproval.State.PENDING).update(
                state=ChangeApproval.State.SUPERSEDED, decided_at=now, note=note
            )
    bulk_insert(ChangeApproval, new)
    return new
