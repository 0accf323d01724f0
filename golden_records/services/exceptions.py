"""Data-quality exceptions: the records ingest rejected, kept so that a steward can correct them.

Ingest itself is unchanged: an invalid record is reported with its errors and nothing of it is
written to golden or source records. The callers that already hold the outcome (the API views,
the import command) hand it to ``keep_rejections``, which stores the rejected records in
``RejectedRecord`` set-wise: one ``INSERT … ON CONFLICT`` per batch, plus one ``UPDATE`` that
supersedes older exceptions of the same records. A batch whose records are all valid never
calls it, so the ingest hot path runs no extra query.

What is kept: records that parsed as JSON objects and failed validation, with their own errors.
A record refused only because another record of its batch failed (``batch_rejected``) has
nothing to correct and is not kept; neither is a body that is not a list of objects at all, nor
a record the database cannot store as JSON (a lone surrogate or a NUL character in it).

Superseded: an open exception is superseded once its system sends that record again, valid
(the source record was received at or after the exception was last seen) or invalid with
another payload. Batches with rejections supersede at once; a batch of valid records does not
look (no query on the hot path), so ``supersede_resolved`` catches those up in one ``UPDATE``
before the queue is read. A valid record sent again unchanged is not received again (its
source record keeps its date), so it does not supersede a later rejection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from golden_records.domains import DomainSpec, get_domain
from golden_records.models import RejectedRecord, SourceRecord, SourceSystem
from golden_records.pipeline import META_FIELDS, PreparedRecord

BATCH_REJECTED = "batch_rejected"
"""The code of a record refused only because its batch failed (services/ingest.py)."""

SUPERSEDING_ACTIONS = ("created", "linked", "updated", "unchanged")
UPSERT_CHUNK = 1000

State = RejectedRecord.State


def payload_hash(raw: Any) -> str:
    """Hash of the record exactly as sent (meta fields included)."""
    body = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def own_errors(record: PreparedRecord) -> list[dict[str, str]]:
    """The record's errors, without "not written because another record failed"."""
    return [e for e in record.errors_as_list() if e["code"] != BATCH_REJECTED]


def keep_rejections(
    system: SourceSystem,
    domain: str,
    records: Sequence[PreparedRecord],
    payloads: Sequence[Any],
    channel: str,
) -> int:
    """Store the rejected ``records`` (``payloads``: what was sent, in the same order) as open
    exceptions, and supersede older exceptions of the same records. Returns how many were kept.

    Call it outside the ingest transaction, after a rollback too (``reject_all``): the point is
    to keep what was refused. No query when every record is valid.
    """
    if all(r.ok for r in records):
        return 0
    now = timezone.now()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    valid_ids: set[str] = set()
    for record, raw in zip(records, payloads, strict=True):
        if record.ok:
            if record.action in SUPERSEDING_ACTIONS and record.source_id:
                valid_ids.add(record.source_id)
            continue
        errors = own_errors(record)
        if not errors or not isinstance(raw, dict) or not _storable(raw, errors):
            continue
        digest = payload_hash(raw)
        key = (record.source_id, digest)
        if key in rows:  # the same record twice in one batch: seen twice
            rows[key]["times_seen"] += 1
            continue
        rows[key] = {
            "system_id": system.pk,
            "domain": domain,
            "source_id": record.source_id,
            "payload": raw,
            "payload_hash": digest,
            "errors": errors,
            "error_codes": _codes(errors),
            "channel": channel,
            "first_seen": now,
            "last_seen": now,
            "times_seen": 1,
            "state": State.OPEN,
            "resolved_at": None,
            "resolved_by_id": None,
            "resolved_by_name": "",
            "note": "",
            "golden_id": None,
        }
    if rows:
        values = list(rows.values())
        for start in range(0, len(values), UPSERT_CHUNK):
            _upsert(values[start : start + UPSERT_CHUNK])
    rejected_ids = {source_id for source_id, _ in rows if source_id}
    if valid_ids or rejected_ids:
        RejectedRecord.objects.filter(
            Q(source_id__in=valid_ids) | Q(source_id__in=rejected_ids, last_seen__lt=now),
            system=system,
            domain=domain,
            state=State.OPEN,
        ).update(state=State.SUPERSEDED, resolved_at=now)
    return len(rows)


def _storable(*values: Any) -> bool:
    """False for JSON that PostgreSQL refuses (a lone surrogate, a NUL character): such a
    record is still refused with its errors, only not kept."""
    try:
        text = json.dumps(values, default=str, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError):
        return False
    return "\\u0000" not in text


def _codes(errors: Sequence[dict[str, str]]) -> str:
    codes = sorted({e["code"] for e in errors})
    return f",{','.join(codes)},"[:500]


def _upsert(rows: Sequence[dict[str, Any]]) -> None:
    """One ``INSERT … ON CONFLICT DO UPDATE`` (PostgreSQL, SQLite): a payload seen before bumps
    its count and dates, and is open again unless a steward dismissed it."""
    meta = RejectedRecord._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = [meta.get_field(name) for name in rows[0]]
    columns = [f.column for f in fields]
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    params = [f.get_db_prep_save(row[f.attname], connection) for row in rows for f in fields]
    dismissed = f"{table}.{quote('state')} = '{State.DISMISSED.value}'"

    def unless_dismissed(column: str, reopened: str) -> str:
        return (
            f"{quote(column)} = CASE WHEN {dismissed} THEN {table}.{quote(column)} "
            f"ELSE {reopened} END"
        )

    assignments = [
        f"{quote('times_seen')} = {table}.{quote('times_seen')} + excluded.{quote('times_seen')}",
        f"{quote('last_seen')} = excluded.{quote('last_seen')}",
        f"{quote('errors')} = excluded.{quote('errors')}",
        f"{quote('error_codes')} = excluded.{quote('error_codes')}",
        f"{quote('channel')} = excluded.{quote('channel')}",
        unless_dismissed("state", f"'{State.OPEN.value}'"),
        unless_dismissed("resolved_at", "NULL"),
        unless_dismissed("resolved_by_id", "NULL"),
        unless_dismissed("resolved_by_name", "''"),
        unless_dismissed("note", "''"),
        unless_dismissed("golden_id", "NULL"),
    ]
    conflict = ", ".join(quote(c) for c in ("system_id", "domain", "source_id", "payload_hash"))
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES {', '.join([row_sql] * len(rows))} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {', '.join(assignments)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _newer_source_record() -> Exists:
    return Exists(
        SourceRecord.objects.filter(
            system_id=OuterRef("system_id"),
            domain=OuterRef("domain"),
            source_id=OuterRef("source_id"),
            received_at__gte=OuterRef("last_seen"),
        )
    )


def supersede_resolved() -> int:
    """Open exceptions whose record the system has since sent valid become superseded: one
    ``UPDATE`` (see the module docstring for why ingest does not do it for valid batches)."""
    return (
        RejectedRecord.objects.filter(state=State.OPEN)
        .filter(_newer_source_record())
        .update(state=State.SUPERSEDED, resolved_at=timezone.now())
    )


def open_exceptions() -> QuerySet:
    """Open exceptions, counting those a later valid record has superseded already as not open
    (for counts on pages that do not run ``supersede_resolved``)."""
    return RejectedRecord.objects.filter(state=State.OPEN).exclude(_newer_source_record())


# -- the correction form's values ---------------------------------------------------------------


def display_value(value: Any) -> str:
    """How a sent value shows in a text field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class CorrectionField:
    """One attribute of the correction form: what the system sent, and its errors."""

    name: str
    label: str
    value: str
    errors: tuple[str, ...]
    required: bool
    choices: tuple[str, ...] = ()
    multiline: bool = False
    known: bool = True
    """False for a key the domain does not have (dropped on resubmit)."""


def correction_fields(
    spec: DomainSpec, payload: dict[str, Any], errors: Sequence[dict[str, str]]
) -> list[CorrectionField]:
    """The domain's attributes in declaration order, then any unknown keys that were sent."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error["field"], []).append(error["message"])
    fields = []
    for attribute in spec.attributes:
        choices = tuple(getattr(attribute, "choices", ()) or ())
        fields.append(
            CorrectionField(
                name=attribute.name,
                label=attribute.verbose_name,
                value=display_value(payload.get(attribute.name)),
                errors=tuple(by_field.get(attribute.name, ())),
                required=attribute.required,
                choices=choices,
                multiline=bool(getattr(attribute, "multiline", False)),
            )
        )
    for name, value in payload.items():
        if name not in spec.attributes_by_name and name not in META_FIELDS:
            fields.append(
                CorrectionField(
                    name=name,
                    label=name,
                    value=display_value(value),
                    errors=tuple(by_field.get(name, ())),
                    required=False,
                    known=False,
                )
            )
    return fields


def corrected_payload(rejected: RejectedRecord, values: dict[str, str]) -> dict[str, Any]:
    """The record to resubmit: the domain's attributes from ``values`` (empty: not sent), a
    value left as the system sent it keeping its JSON type; ``source_updated_at`` likewise.
    Keys the domain does not have are dropped."""
    spec = get_domain(rejected.domain)
    sent = rejected.payload if isinstance(rejected.payload, dict) else {}
    payload: dict[str, Any] = {}
    for name in (*spec.attribute_names, "source_updated_at"):
        value = (values.get(name) or "").strip()
        if not value:
            continue
        original = sent.get(name)
        payload[name] = original if display_value(original) == value else value
    return payload
