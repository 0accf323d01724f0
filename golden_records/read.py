"""Read models of golden records: attributes, lineage, cross-references and discrepancies."""

from __future__ import annotations

from typing import Any

from golden_records.models import AttributeOverride, GoldenRecord, SourceRecord
from golden_records.services.ownership import golden_value
from golden_records.survivorship import SourceView, candidate_value


def golden_attributes(obj: GoldenRecord) -> dict[str, Any]:
    return {a.name: golden_value(obj, a) for a in obj.domain.attributes}


def discrepancies(obj: GoldenRecord, sources: list[SourceRecord]) -> list[dict[str, Any]]:
    """Values a linked system holds that differ from the golden record's: a non-owner's change,
    kept on its source record, shown here, never applied silently."""
    values = golden_attributes(obj)
    found = []
    for sr in sources:
        view = SourceView(
            sr.pk, sr.system.code, sr.source_id, sr.canonical, sr.references, sr.received_at
        )
        for attribute in obj.domain.attributes:
            value = candidate_value(attribute, view)
            if value is not None and value != values[attribute.name]:
                found.append(
                    {
                        "attribute": attribute.name,
                        "system": sr.system.code,
                        "source_id": sr.source_id,
                        "value": value,
                        "golden_value": values[attribute.name],
                    }
                )
    return found


def golden_detail(obj: GoldenRecord) -> dict[str, Any]:
    spec = obj.domain
    sources = list(
        SourceRecord.objects.select_related("system")
        .filter(domain=spec.name, golden_id=obj.pk)
        .order_by("linked_at", "id")
    )
    overrides = AttributeOverride.objects.filter(domain=spec.name, golden_id=obj.pk).select_related(
        "set_by"
    )
    return {
        "golden_id": str(obj.pk),
        "domain": spec.name,
        "version": obj.version,
        "status": obj.record_status,
        "merged_into": str(obj.merged_into) if obj.merged_into else None,
        "created_at": obj.created_at.isoformat(),
        "updated_at": obj.updated_at.isoformat(),
        "attributes": golden_attributes(obj),
        "lineage": obj.lineage,
        "overrides": [
            {
                "attribute": o.attribute,
                "value": o.value,
                "reason": o.reason,
                "set_by": o.set_by.get_username() if o.set_by else None,
                "set_at": o.set_at.isoformat(),
            }
            for o in overrides
        ],
        "xrefs": [
            {
                "system": sr.system.code,
                "source_id": sr.source_id,
                "linked_at": sr.linked_at.isoformat(),
                "link_rule": sr.link_rule,
            }
            for sr in sources
        ],
        "discrepancies": discrepancies(obj, sources),
    }
