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
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q

from golden_records.attributes import Reference
from golden_records.bulk import insert_rows
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
SUPERSEDED_BY_SOURCE = (
    "superseded: the source record sent another value since, or now belongs to another record"
)


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
) -> int:
    """Pending approvals for the governed values ``system`` sent in ``written`` (its source
    records this batch created or updated) that differ from the golden value, where ``system``
    does not own the attribute. Pending approvals of these golden records that the batch settled
    are superseded: the golden value came to equal the proposal, or the same source record now
    says something else. An unchanged proposal that is still pending is not raised again.
    Returns how many approvals it raised.
    """
    if not written:
        return 0
    rules = [
        rule
        for rule in OwnershipRule.objects.filter(domain=spec.name, governed=True)
        if rule.attribute in spec.attributes_by_name
    ]
    if not rules:
        return 0
    governed = [rule.attribute for rule in rules]
    proposing = [rule.attribute for rule in rules if not rule.is_owner(system.code)]
    golden_ids = {record.golden_id for record in written}
    # This batch's golden records' proposals, and this batch's records' own (raised for a
    # golden record that was merged since).
    pending = list(
        ChangeApproval.objects.filter(
            Q(golden_id__any=list(golden_ids))
            | Q(source_record_id__any=[record.pk for record in written]),
            domain=spec.name,
            attribute__in=governed,
            state=ChangeApproval.State.PENDING,
        ).values_list("pk", "golden_id", "attribute", "source_record_id", "proposed_value")
    )
    if not proposing and not pending:
        return 0
    golden = golden_values(spec, golden_ids, governed)

    settled_by_golden: list[int] = []
    settled_by_source: list[int] = []
    by_source: dict[tuple[str, int], tuple[int, uuid.UUID, Any]] = {}
    for pk, golden_id, attribute, source_record_id, proposed in pending:
        values = golden.get(golden_id)
        if values is not None and proposed == values.get(attribute):
            settled_by_golden.append(pk)
        elif source_record_id is not None:
            by_source[(attribute, source_record_id)] = (pk, golden_id, proposed)

    new: list[tuple[Any, ...]] = []
    for record in written:
        values = golden.get(record.golden_id)
        if values is None:
            continue
        for name in proposing:
            value = source_value(spec.attribute(name), record)
            earlier = by_source.get((name, record.pk))
            if earlier is not None:
                earlier_pk, earlier_golden_id, earlier_value = earlier
                if earlier_value == value and earlier_golden_id == record.golden_id:
                    continue  # the same proposal is still waiting
                settled_by_source.append(earlier_pk)
            if value is None or value == values[name]:
                continue
            new.append(
                (
                    spec.name,
                    record.golden_id,
                    name,
                    ChangeApproval.Kind.NON_OWNER_CHANGE,
                    ChangeApproval.State.PENDING,
                    value,
                    values[name],
                    record.pk,
                    system.pk,
                    None,
                    system.code,
                    f"{system.code} {record.source_id}"[:500],
                    None,
                    "",
                    None,
                    "",
                    now,
                )
            )
    settled = ((settled_by_golden, SUPERSEDED_BY_GOLDEN), (settled_by_source, SUPERSEDED_BY_SOURCE))
    for ids, note in settled:
        if ids:
            # The state filter is the transition map's pending → superseded, done in SQL.
            ChangeApproval.objects.filter(pk__in=ids, state=ChangeApproval.State.PENDING).update(
                state=ChangeApproval.State.SUPERSEDED, decided_at=now, note=note
            )
    _insert(new)
    return len(new)


# Written as plain rows, not model instances: a batch can raise thousands at once.
INSERT_FIELDS = (
    "domain",
    "golden_id",
    "attribute",
    "kind",
    "state",
    "proposed_value",
    "golden_value",
    "source_record",
    "system",
    "proposed_by",
    "proposed_by_name",
    "reason",
    "decided_by",
    "decided_by_name",
    "decided_at",
    "note",
    "created_at",
)


def _insert(rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    fields = [ChangeApproval._meta.get_field(name) for name in INSERT_FIELDS]
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    golden_id = INSERT_FIELDS.index("golden_id")
    created_at = INSERT_FIELDS.index("created_at")
    sqlite = connection.vendor == "sqlite"
    when = connection.ops.adapt_datetimefield_value(rows[0][created_at]) if sqlite else None
    database_rows = []
    for row in rows:
        values = list(row)
        for i in json_columns:
            if values[i] is not None:
                values[i] = json.dumps(values[i], cls=DjangoJSONEncoder)
        if sqlite:  # SQLite keeps UUIDs as hex and date-times as text
            values[golden_id] = values[golden_id].hex
            values[created_at] = when
        database_rows.append(values)
    insert_rows(ChangeApproval, [f.column for f in fields], database_rows)
