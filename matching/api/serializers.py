"""Match decisions and reviews as the API shows them: explicit fields, explanations in full."""

from __future__ import annotations

from rest_framework import serializers

from matching.models import MatchDecision, MatchReview


class ComparisonSerializer(serializers.Serializer):
    comparison = serializers.CharField()
    feature = serializers.CharField(allow_null=True)
    left = serializers.CharField(allow_null=True)
    right = serializers.CharField(allow_null=True)
    comparator = serializers.CharField()
    similarity = serializers.FloatField(allow_null=True)
    level = serializers.CharField()
    contribution = serializers.FloatField()


class ExplanationSerializer(serializers.Serializer):
    probability = serializers.FloatField()
    weight = serializers.FloatField()
    reason = serializers.CharField(help_text="weights, decided, excluded, identifier contradicted")
    rule_version = serializers.IntegerField()
    comparisons = ComparisonSerializer(many=True)


class CandidateSerializer(serializers.Serializer):
    golden_id = serializers.UUIDField()
    probability = serializers.FloatField()


class RecordRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    system = serializers.CharField(source="system.code")
    source_id = serializers.CharField()
    golden_id = serializers.UUIDField()


class MatchDecisionSerializer(serializers.ModelSerializer):
    source_record = RecordRefSerializer()
    explanation = ExplanationSerializer(
        source="explanation_or_none",
        allow_null=True,
        help_text="The best candidate's comparisons; null for a clear non-match (see candidates).",
    )
    candidates = CandidateSerializer(many=True)

    class Meta:
        model = MatchDecision
        fields = [
            "id",
            "domain",
            "source_record",
            "outcome",
            "golden_id",
            "probability",
            "rule",
            "rule_version",
            "explanation",
            "candidates",
            "decided_by",
            "created_at",
        ]


class MatchReviewSerializer(serializers.ModelSerializer):
    source_record = RecordRefSerializer()
    candidate_record = RecordRefSerializer()
    explanation = ExplanationSerializer()

    class Meta:
        model = MatchReview
        fields = [
            "id",
            "domain",
            "status",
            "probability",
            "source_record",
            "candidate_record",
            "candidate_golden_id",
            "explanation",
            "rule_version",
            "raised_by",
            "decided_by",
            "decided_at",
            "note",
            "created_at",
        ]


class ReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["merge", "reject"])
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
