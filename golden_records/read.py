"""Read models of golden records: attributes, lineage, cross-references and discrepancies, now or
as of a moment.

Now: the golden row, its source records and overrides (three queries). A golden id that was
merged away reads as the record it was merged into (followed to an active or retired one), naming
the id asked for in ``resolved_from``, as cross-reference lookups do (golden_records/xref.py).

As of a moment: every part from the history tables, as it was then. The id's status and
``merged_into`` then decide which record it stood for (merges followed as they were then); that
record's attributes, version and lineage are those of its latest history row at or before the
moment; its cross-references, and the values behind its discrepancies, those of the source
records linked to it then; its overrides those in force then.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from golden_records import xref
from golden_records.domains import DomainSpec
from golden_records.models import (
    GOLDEN_MODELS,
    AttributeOverride,
    GoldenRecord,
    SourceRecord,
    SourceSystem,
)
from golden_records.survivorship import SourceView, candidate_value
from golden_records.values import golden_attributes


class GoldenNotFound(Exception):
    """``code``: ``golden_record_not_found`` (no such id, ever) or ``not_found_as_of`` (the id
    exists now, but did not at that moment)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _views(sources: list[Any], codes: dict[int, str]) -> list[SourceView]:
    return [
        SourceView(
            sr.id, codes[sr.system_id], sr.source_id, sr.canonical, sr.references, sr.received_at
        )
        for sr in sources
    ]


def _discrepancies(
    spec: DomainSpec, values: dict[str, Any], views: list[SourceView]
) -> list[dict[str, Any]]:
    found = []
    for view in views:
        for attribute in spec.attributes:
            value = candidate_value(attribute, view)
            if value is not None and value != values[attribute.name]:
                found.append(
                    {
                        "attribute": attribute.name,
                        "system": view.system,
                        "source_id": view.source_id,
                        "value": value,
                        "golden_value": values[attribute.name],
                    }
                )
    return found


def discrepancies(obj: GoldenRecord, sources: list[SourceRecord]) -> list[dict[str, Any]]:
    """Values a linked system holds that differ from the golden record's: a non-owner's change,
    kept on its source record, shown here, never applied silently."""
    codes = {sr.system_id: sr.system.code for sr in sources}
    return _discrepancies(obj.domain, golden_attributes(obj), _views(sources, codes))


def _xref(code: str, sr: Any) -> dict[str, str]:
    return {
        "system": code,
        "source_id": sr.source_id,
        "linked_at": sr.linked_at.isoformat(),
        "link_rule": sr.link_rule,
    }


def _override(o: Any) -> dict[str, Any]:
    try:
        user = o.set_by
    except ObjectDoesNotExist:  # a history row naming a user deleted since
        user = None
    return {
        "attribute": o.attribute,
        "value": o.value,
        "reason": o.reason,
        "set_by": user.get_username() if user else None,
        "set_at": o.set_at.isoformat(),
    }


def _detail(
    spec: DomainSpec,
    row: Any,
    sources: list[Any],
    codes: dict[int, str],
    overrides: list[Any],
    resolved_from: uuid.UUID | None,
    as_of: dt.datetime | None,
) -> dict[str, Any]:
    values = golden_attributes(row, spec)
    return {
        "domain": spec.name,
        "golden_id": str(row.golden_id),
        "version": row.version,
        "status": row.record_status,
        "merged_into": str(row.merged_into) if row.merged_into else None,
        "resolved_from": str(resolved_from) if resolved_from else None,
        "as_of": as_of.isoformat() if as_of else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "attributes": values,
        "lineage": row.lineage,
        "overrides": [_override(o) for o in overrides],
        "xrefs": [_xref(codes[sr.system_id], sr) for sr in sources],
        "discrepancies": _discrepancies(spec, values, _views(sources, codes)),
    }


def golden_detail(obj: GoldenRecord, resolved_from: uuid.UUID | None = None) -> dict[str, Any]:
    """The golden record now, with lineage, overrides, every system's ids and discrepancies."""
    spec = obj.domain
    sources = list(
        SourceRecord.objects.select_related("system")
        .filter(domain=spec.name, golden_id=obj.pk)
        .order_by("linked_at", "id")
    )
    overrides = (
        AttributeOverride.objects.filter(domain=spec.name, golden_id=obj.pk)
        .select_related("set_by")
        .order_by("attribute")
    )
    codes = {sr.system_id: sr.system.code for sr in sources}
    return _detail(spec, obj, sources, codes, list(overrides), resolved_from, None)


def read_golden(spec: DomainSpec, golden_id: uuid.UUID) -> dict[str, Any]:
    """The detail of ``golden_id`` now; a merged-away id reads as its survivor."""
    model = GOLDEN_MODELS[spec.name]
    obj = model.objects.filter(pk=golden_id).first()
    if obj is None:
        raise GoldenNotFound(
            "golden_record_not_found", f"No {spec.name} golden record {golden_id}."
        )
    if obj.record_status != "merged" or not obj.merged_into:
        return golden_detail(obj)
    states = {golden_id: (obj.record_status, obj.merged_into)}
    target, _ = xref._follow_merges(states, lambda ids: xref._golden_states(spec.name, ids))[
        golden_id
    ]
    survivor = model.objects.filter(pk=target).first() or obj
    return golden_detail(survivor, resolved_from=golden_id if survivor is not obj else None)


# -- as of a moment ------------------------------------------------------------------------------


def _golden_row_as_of(spec: DomainSpec, golden_id: uuid.UUID, as_of: dt.datetime) -> Any:
    history = GOLDEN_MODELS[spec.name].history
    row = (
        history.filter(golden_id=golden_id, history_date__lte=as_of)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if row is None:
        # Links are stamped a moment before the golden row of the same transaction
        # (see xref._golden_states_as_of): a record linked by then counts from its first row.
        row = history.filter(golden_id=golden_id).order_by("history_date", "history_id").first()
    return None if row is None or row.history_type == "-" else row


def _sources_as_of(spec: DomainSpec, golden_id: uuid.UUID, as_of: dt.datetime) -> list[Any]:
    """History rows of the source records linked to ``golden_id`` at ``as_of``, as they were."""
    history = SourceRecord.history.model  # type: ignore[attr-defined]
    ever_linked = history.objects.filter(
        domain=spec.name, golden_id=golden_id, history_date__lte=as_of
    ).values("id")
    latest: dict[int, Any] = {}
    for row in history.objects.filter(id__in=ever_linked, history_date__lte=as_of).order_by(
        "id", "-history_date", "-history_id"
    ):
        latest.setdefault(row.id, row)
    return sorted(
        (r for r in latest.values() if r.golden_id == golden_id), key=lambda r: (r.linked_at, r.id)
    )


def _overrides_as_of(spec: DomainSpec, golden_id: uuid.UUID, as_of: dt.datetime) -> list[Any]:
    history = AttributeOverride.history.model  # type: ignore[attr-defined]
    latest: dict[str, Any] = {}
    for row in (
        history.objects.filter(domain=spec.name, golden_id=golden_id, history_date__lte=as_of)
        .select_related("set_by")
        .order_by("attribute", "-history_date", "-history_id")
    ):
        latest.setdefault(row.attribute, row)
    return [r for r in latest.values() if r.history_type != "-"]


def read_golden_as_of(spec: DomainSpec, golden_id: uuid.UUID, as_of: dt.datetime) -> dict:
    """The detail of ``golden_id`` as it was at ``as_of`` (see the module docstring)."""
    domain = spec.name
    states = xref._golden_states_as_of(domain, {golden_id}, as_of)
    if golden_id not in states:
        if GOLDEN_MODELS[domain].objects.filter(pk=golden_id).exists():
            raise GoldenNotFound(
                "not_found_as_of",
                f"{domain} golden record {golden_id} did not exist yet at {as_of.isoformat()}.",
            )
        raise GoldenNotFound("golden_record_not_found", f"No {domain} golden record {golden_id}.")
    resolved = xref._follow_merges(
        states, lambda ids: xref._golden_states_as_of(domain, ids, as_of)
    )
    target, _ = resolved[golden_id]
    row = _golden_row_as_of(spec, target, as_of)
    if row is None:  # merged into a record without history: show the id asked for
        target, row = golden_id, _golden_row_as_of(spec, golden_id, as_of)
    sources = _sources_as_of(spec, target, as_of)
    codes = dict(SourceSystem.objects.values_list("id", "code"))
    overrides = _overrides_as_of(spec, target, as_of)
    resolved_from = golden_id if target != golden_id else None
    return _detail(spec, row, sources, codes, overrides, resolved_from, as_of)
