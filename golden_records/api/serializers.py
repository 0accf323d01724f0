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
