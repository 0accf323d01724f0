"""Request and response shapes of the ingest API (explicit fields: they are a contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from golden_records.attributes import Attribute, Boolean, Choice, Date, Integer, Number, Reference
from golden_records.domains import DomainSpec


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class RecordResultSerializer(serializers.Serializer):
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField(allow_null=True)
    action = serializers.ChoiceField(
        choices=["created", "linked", "updated", "unchanged", "stale", "rejected"]
    )
    version = serializers.IntegerField(allow_null=True)
    errors = FieldErrorSerializer(many=True)
    warnings = FieldErrorSerializer(
        many=True,
        help_text="Values accepted as sent that the sender should know about (never a reason to "
        "reject): `tax_id_without_country` (a tax id with no prefix, no country in the record and "
        "no default country of the system is kept, but not used to match).",
    )


class BatchRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=1000,
        help_text="Up to 1,000 records, each with source_id and the domain's attributes.",
    )
    on_error = serializers.ChoiceField(
        choices=["reject_failed", "reject_all"],
        default="reject_failed",
        help_text="reject_failed writes the valid records; reject_all writes nothing if any fails.",
    )


class BatchSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    linked = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    stale = serializers.IntegerField()
    rejected = serializers.IntegerField()


class BatchResponseSerializer(serializers.Serializer):
    results = RecordResultSerializer(many=True)
    summary = BatchSummarySerializer()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = FieldErrorSerializer(many=True, required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class BatchErrorSerializer(ErrorSerializer):
    results = RecordResultSerializer(many=True, required=False)


class SourceRecordSerializer(serializers.Serializer):
    system = serializers.CharField(source="system.code")
    domain = serializers.CharField()
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField()
    payload = serializers.DictField()
    canonical = serializers.DictField()
    references = serializers.DictField()
    payload_hash = serializers.CharField()
    source_updated_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField()
    linked_at = serializers.DateTimeField()
    link_rule = serializers.CharField()


# -- cross-reference lookups (golden_records/api/xref.py) ------------------------------------------

GOLDEN_STATUSES = ["active", "merged", "retired"]  # GoldenStatus; GoldenStatusEnum in the schema


class XrefIdSerializer(serializers.Serializer):
    system = serializers.CharField()
    source_id = serializers.CharField()
    linked_at = serializers.DateTimeField(
        help_text="When this record was linked to the golden one."
    )
    link_rule = serializers.CharField(help_text="How it was linked (identifier, match, merge, …).")


class XrefSerializer(serializers.Serializer):
    domain = serializers.CharField()
    system = serializers.CharField(
        help_text="The system of the id asked about (`golden`: the hub)."
    )
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField(
        help_text="The golden record the id stands for (after merges)."
    )
    status = serializers.ChoiceField(choices=GOLDEN_STATUSES)
    resolved_from = serializers.UUIDField(
        allow_null=True,
        help_text="The golden id the key was linked to (or asked for) when that record was merged "
        "away into `golden_id`; null otherwise.",
    )
    as_of = serializers.DateTimeField(allow_null=True)
    xrefs = XrefIdSerializer(many=True, help_text="Every system's ids for it, oldest link first.")


class XrefTargetSerializer(serializers.Serializer):
    domain = serializers.CharField()
    system = serializers.CharField()
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=GOLDEN_STATUSES)
    resolved_from = serializers.UUIDField(allow_null=True)
    as_of = serializers.DateTimeField(allow_null=True)
    target_system = serializers.CharField()
    ids = XrefIdSerializer(many=True, help_text="The target system's ids, oldest link first.")


class XrefKeySerializer(serializers.Serializer):
    system = serializers.CharField(help_text="A source system code, or `golden` for a golden id.")
    source_id = serializers.CharField()


class XrefLookupRequestSerializer(serializers.Serializer):
    lookups = XrefKeySerializer(many=True, help_text="Up to 1,000 keys.")
    target_system = serializers.CharField(
        required=False, help_text="Answer with this system's ids only."
    )


class XrefLookupErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            "unknown_system",
            "source_record_not_found",
            "not_found_as_of",
            "golden_record_not_found",
            "no_id_in_target_system",
        ]
    )
    message = serializers.CharField()


class XrefLookupResultSerializer(serializers.Serializer):
    system = serializers.CharField()
    source_id = serializers.CharField()
    found = serializers.BooleanField(help_text="The key resolved to a golden record.")
    golden_id = serializers.UUIDField(allow_null=True)
    status = serializers.ChoiceField(choices=GOLDEN_STATUSES, allow_null=True)
    resolved_from = serializers.UUIDField(allow_null=True)
    xrefs = XrefIdSerializer(many=True)
    error = XrefLookupErrorSerializer(allow_null=True)


class XrefLookupSummarySerializer(serializers.Serializer):
    found = serializers.IntegerField()
    not_found = serializers.IntegerField()
    no_id_in_target_system = serializers.IntegerField()


class XrefLookupResponseSerializer(serializers.Serializer):
    domain = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    target_system = serializers.CharField(allow_null=True)
    results = XrefLookupResultSerializer(many=True, help_text="In the order of the lookups.")
    summary = XrefLookupSummarySerializer()


# -- golden-record reads (golden_records/api/golden.py) --------------------------------------------
#
# One factory builds each domain's shapes from its declaration (golden_records/domains.py), so the
# schema names every attribute with its type and a new attribute shows up without another edit.


KIND_FORMS = {
    "Country": "ISO 3166-1 alpha-2",
    "Currency": "ISO 4217",
    "Phone": "E.164, an extension as `;ext=`",
    "Gtin": "GTIN-14",
    "Duns": "9 digits",
    "TaxId": "compact, with the country prefix where known",
    "Website": "URL with scheme",
    "Code": "upper case",
    "Coordinate": "decimal degrees",
}
"""Canonical forms a client needs to know, by kind (golden_records/attributes.py)."""


def attribute_field(attribute: Attribute) -> serializers.Field:
    """The serializer field of one attribute's golden value (canonical JSON form; null when
    empty). Decimals are strings, exactly as stored; references are golden ids."""
    kind = KIND_FORMS.get(type(attribute).__name__, "")
    text = attribute.help_text or attribute.verbose_name.capitalize()
    common = {"allow_null": True, "help_text": f"{text}{f' ({kind})' if kind else ''}."}
    if isinstance(attribute, Reference):
        common["help_text"] = f"Golden id of the {attribute.domain} it refers to."
        return serializers.UUIDField(**common)
    if isinstance(attribute, Number):
        return serializers.DecimalField(
            max_digits=attribute.max_digits,
            decimal_places=attribute.decimal_places,
            coerce_to_string=True,
            **common,
        )
    if isinstance(attribute, Integer):
        return serializers.IntegerField(**common)
    if isinstance(attribute, Boolean):
        return serializers.BooleanField(**common)
    if isinstance(attribute, Date):
        return serializers.DateField(**common)
    if isinstance(attribute, Choice):
        return serializers.ChoiceField(choices=list(attribute.choices), **common)
    return serializers.CharField(**common)


class LineageEntrySerializer(serializers.Serializer):
    source_record = serializers.IntegerField(
        required=False, help_text="The source record that supplied the value."
    )
    system = serializers.CharField(required=False)
    source_id = serializers.CharField(required=False)
    steward = serializers.CharField(
        required=False, allow_null=True, help_text="For a steward override: who set it."
    )
    at = serializers.DateTimeField(help_text="When the value was received (or set).")
    rule = serializers.CharField(help_text="The ownership strategy, or `override`.")


class OverrideSerializer(serializers.Serializer):
    attribute = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    set_by = serializers.CharField(allow_null=True)
    set_at = serializers.DateTimeField()


class DiscrepancySerializer(serializers.Serializer):
    attribute = serializers.CharField()
    system = serializers.CharField()
    source_id = serializers.CharField()
    value = serializers.JSONField(help_text="The value that system holds (canonical form).")
    golden_value = serializers.JSONField(allow_null=True)


@dataclass(frozen=True)
class GoldenSerializers:
    """The response shapes of one domain's golden-record reads."""

    attributes: type[serializers.Serializer]
    lineage: type[serializers.Serializer]
    item: type[serializers.Serializer]
    detail: type[serializers.Serializer]
    page: type[serializers.Serializer]


def _serializer(name: str, fields: dict[str, Any], doc: str) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), {**fields, "__doc__": doc})


def golden_serializers(spec: DomainSpec) -> GoldenSerializers:
    """Explicit per-domain serializers, generated from the domain's declaration."""
    name = spec.model_name
    attributes = _serializer(
        f"{name}AttributesSerializer",
        {a.name: attribute_field(a) for a in spec.attributes},
        f"Every attribute of a golden {spec.label}, in canonical form (null when empty).",
    )
    lineage = _serializer(
        f"{name}LineageSerializer",
        {a.name: LineageEntrySerializer(required=False) for a in spec.attributes},
        "Where each non-empty attribute's value came from.",
    )
    head = {
        "golden_id": serializers.UUIDField(),
        "version": serializers.IntegerField(help_text="Grows by one on every change."),
        "status": serializers.ChoiceField(choices=GOLDEN_STATUSES),
        "merged_into": serializers.UUIDField(allow_null=True),
        "created_at": serializers.DateTimeField(),
        "updated_at": serializers.DateTimeField(),
    }
    item = _serializer(
        f"{name}GoldenSerializer",
        {**head, "attributes": attributes()},
        f"A golden {spec.label} as listed.",
    )
    detail = _serializer(
        f"{name}GoldenDetailSerializer",
        {
            "domain": serializers.CharField(),
            **head,
            "resolved_from": serializers.UUIDField(
                allow_null=True,
                help_text="The id asked for, when it had been merged into `golden_id`; null "
                "otherwise.",
            ),
            "as_of": serializers.DateTimeField(allow_null=True),
            "attributes": attributes(),
            "lineage": lineage(),
            "overrides": OverrideSerializer(many=True),
            "xrefs": XrefIdSerializer(many=True, help_text="Every system's ids, oldest first."),
            "discrepancies": DiscrepancySerializer(
                many=True, help_text="Values linked systems hold that did not win."
            ),
        },
        f"A golden {spec.label} with its lineage, overrides, cross-references and discrepancies.",
    )
    page = _serializer(
        f"{name}GoldenPageSerializer",
        {
            "domain": serializers.CharField(),
            "results": item(many=True),
            "next_cursor": serializers.CharField(
                allow_null=True, help_text="Pass as `cursor` for the next page; null at the end."
            ),
            "next": serializers.CharField(
                allow_null=True, help_text="The next page's path and query; null at the end."
            ),
        },
        f"One page of golden {spec.label} records, oldest change first.",
    )
    return GoldenSerializers(attributes, lineage, item, detail, page)
