"""Step one of ingest: normalise and validate one record against its domain's declaration.

Nothing here touches the database. The result carries either the canonical attributes or the
per-attribute errors (stable codes), so the API, the import command and the steward UI report bad
input the same way; and warnings (stable codes too) about accepted values the sender should know
about.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime

from golden_records.attributes import DEFAULT_COUNTRY, AttributeValueError
from golden_records.domains import DomainSpec

META_FIELDS = ("source_id", "source_updated_at")


@dataclass(frozen=True)
class FieldError:
    """An error, or a warning, about one field."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class PreparedRecord:
    """One incoming record after normalisation, and later what the hub did with it."""

    index: int
    source_id: str
    payload: dict[str, Any]
    canonical: dict[str, Any]
    source_updated_at: dt.datetime | None
    payload_hash: str
    errors: dict[str, list[FieldError]] = field(default_factory=dict)
    warnings: dict[str, list[FieldError]] = field(default_factory=dict)
    """Accepted as sent, but the sender should know (``tax_id_without_country``). They come from
    the input alone, so a rolled-back attempt keeps them, and they never make a record fail."""
    action: str = ""
    link_rule: str = ""
    golden_id: Any = None
    version: int | None = None
    input_errors: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors

    def reset_outcome(self) -> None:
        """Forget what a rolled-back attempt decided, before the batch runs again."""
        self.action = ""
        self.link_rule = ""
        self.golden_id = None
        self.version = None
        self.errors = {k: v for k, v in self.errors.items() if k in self.input_errors}

    def add_error(self, attribute: str, code: str, message: str) -> None:
        self.errors.setdefault(attribute, []).append(FieldError(code, message))

    def add_warning(self, attribute: str, code: str, message: str) -> None:
        self.warnings.setdefault(attribute, []).append(FieldError(code, message))

    def errors_as_list(self) -> list[dict[str, str]]:
        return _as_list(self.errors)

    def warnings_as_list(self) -> list[dict[str, str]]:
        return _as_list(self.warnings)


def _as_list(by_field: dict[str, list[FieldError]]) -> list[dict[str, str]]:
    return [{"field": name, **item.as_dict()} for name, items in by_field.items() for item in items]


def payload_hash(payload: dict[str, Any], source_updated_at: dt.datetime | None) -> str:
    """Hash of what the system asserted: the attributes as sent and when they were current.

    The same attributes with a newer ``source_updated_at`` are a new assertion (most_recent
    ownership depends on it), so they are an update, not ``unchanged``.
    """
    stamp = source_updated_at.isoformat() if source_updated_at else None
    body = json.dumps([payload, stamp], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def parse_source_timestamp(raw: Any) -> dt.datetime:
    if not isinstance(raw, str):
        raise AttributeValueError("invalid_datetime", "Expected an ISO 8601 date-time string.")
    try:
        value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        raise AttributeValueError("invalid_datetime", f"{raw!r} is not an ISO 8601 date-time.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def prepare_record(
    spec: DomainSpec,
    raw: Any,
    index: int = 0,
    source_id: str | None = None,
    *,
    default_country: str = "",
) -> PreparedRecord:
    """Normalise and validate one record. ``source_id`` comes from the URL for a single PUT,
    from the record itself in a batch. ``default_country`` is the sending system's
    (``SourceSystem.default_country``): the attributes that read the record's country read it when
    the record has none; the payload, its hash and the canonical record stay what was sent."""
    record = PreparedRecord(index, "", {}, {}, None, "")
    if not isinstance(raw, dict):
        record.add_error("non_field", "invalid_type", "A record must be a JSON object.")
        return record

    sid = source_id if source_id is not None else raw.get("source_id")
    if sid is None or (isinstance(sid, str) and not sid.strip()):
        record.add_error("source_id", "required", "source_id is required.")
    elif not isinstance(sid, str | int) or isinstance(sid, bool):
        record.add_error("source_id", "invalid_type", "source_id must be a string.")
    elif len(str(sid)) > 255:
        record.add_error("source_id", "too_long", "source_id has at most 255 characters.")
    else:
        record.source_id = str(sid).strip()

    if raw.get("source_updated_at") not in (None, ""):
        try:
            record.source_updated_at = parse_source_timestamp(raw["source_updated_at"])
        except AttributeValueError as exc:
            record.add_error("source_updated_at", exc.code, exc.message)

    attributes = spec.attributes_by_name
    payload = {k: v for k, v in raw.items() if k not in META_FIELDS}
    record.payload = payload
    for name in payload:
        if name not in attributes:
            record.add_error(name, "unknown_attribute", f"{spec.name} has no attribute {name!r}.")

    # What the attributes normalise against: the payload, and the system's default country under
    # a key no attribute has (a sender's own key of that name is overwritten here, and refused
    # above as unknown_attribute).
    context = {**payload, DEFAULT_COUNTRY: default_country or None}
    canonical: dict[str, Any] = {}
    for attribute in spec.attributes:
        try:
            value = attribute.clean(payload.get(attribute.name), context)
        except AttributeValueError as exc:
            record.add_error(attribute.name, exc.code, exc.message)
            continue
        if value is None:
            if attribute.required:
                record.add_error(attribute.name, "required", f"{attribute.name} is required.")
            continue
        canonical[attribute.name] = value
        for warning in attribute.warnings(value, context):
            record.add_warning(attribute.name, warning.code, warning.message)

    for group in spec.required_one_of:
        if not any(canonical.get(name) is not None for name in group) and not any(
            name in record.errors for name in group
        ):
            record.add_error(
                group[0], "required_one_of", f"At least one of {', '.join(group)} is required."
            )

    if record.ok:
        for validator in spec.record_validators:
            for name, error in validator(canonical).items():
                record.add_error(name, error.code, error.message)

    record.canonical = canonical
    record.payload_hash = payload_hash(payload, record.source_updated_at)
    record.input_errors = frozenset(record.errors)
    return record
