"""Request and response shapes of the ingest API (explicit fields: they are a contract)."""

from rest_framework import serializers


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
