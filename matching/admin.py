from django.contrib import admin
from django.db import transaction

from matching.models import (
    CatchUpRequest,
    DedupePair,
    DedupeRun,
    DedupeShard,
    MatchDecision,
    MatchKey,
    MatchProfile,
    MatchReview,
    MatchRuleVersion,
    NeverMatch,
)
from matching.rule_versions import save_rule_version


@admin.register(MatchKey)
class MatchKeyAdmin(admin.ModelAdmin):
    list_display = ["domain", "kind", "value", "golden_id", "source_record"]
    list_filter = ["domain", "kind"]
    search_fields = ["value"]
    raw_id_fields = ["source_record"]


@admin.register(MatchRuleVersion)
class MatchRuleVersionAdmin(admin.ModelAdmin):
    """Rule versions are append-only: adding one stores the next version number; an existing
    version can only be activated (which deactivates the domain's other versions)."""

    list_display = ["domain", "version", "active", "note", "created_by", "created_at"]
    list_filter = ["domain", "active"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["version", "created_by", "created_at"]
        return ["domain", "version", "rules", "created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            if not change:
                from matching.rules import rule_set_from_json

                row = save_rule_version(
                    rule_set_from_json(obj.rules),
                    created_by=request.user.get_username(),
                    note=obj.note,
                    activate=obj.active,
                )
                obj.pk, obj.version = row.pk, row.version
                return
            if obj.active:
                MatchRuleVersion.objects.filter(domain=obj.domain, active=True).exclude(
                    pk=obj.pk
                ).update(active=False)
            obj.save()


class ReadOnlyAdmin(admin.ModelAdmin):
    """The matcher's records are written by services only: the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MatchProfile)
class MatchProfileAdmin(ReadOnlyAdmin):
    list_display = ["source_record", "domain", "fingerprint"]
    list_filter = ["domain"]
    raw_id_fields = ["source_record"]


@admin.register(MatchDecision)
class MatchDecisionAdmin(ReadOnlyAdmin):
    list_display = ["source_record", "outcome", "golden_id", "probability", "rule", "created_at"]
    list_filter = ["domain", "outcome"]
    raw_id_fields = ["source_record"]


@admin.register(MatchReview)
class MatchReviewAdmin(ReadOnlyAdmin):
    list_display = [
        "source_record",
        "candidate_golden_id",
        "probability",
        "status",
        "raised_by",
        "created_at",
    ]
    list_filter = ["domain", "status"]
    raw_id_fields = ["source_record", "candidate_record"]


@admin.register(NeverMatch)
class NeverMatchAdmin(ReadOnlyAdmin):
    list_display = ["left", "right", "decided_by", "reason", "created_at"]
    list_filter = ["domain"]
    raw_id_fields = ["left", "right"]


class DedupeShardInline(admin.TabularInline):
    model = DedupeShard
    extra = 0
    can_delete = False
    readonly_fields = ["phase", "shard", "counts", "finished_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DedupeRun)
class DedupeRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "domain", "status", "phase", "shards", "rule_version", "created_at"]
    list_filter = ["domain", "status"]
    inlines = [DedupeShardInline]


@admin.register(DedupeShard)
class DedupeShardAdmin(ReadOnlyAdmin):
    list_display = ["run", "phase", "shard", "finished_at"]


@admin.register(DedupePair)
class DedupePairAdmin(ReadOnlyAdmin):
    list_display = ["run", "left", "right", "probability"]
    list_filter = ["run"]


@admin.register(CatchUpRequest)
class CatchUpRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "domain", "created_at", "attempts", "done_at", "result"]
    list_filter = ["domain", ("done_at", admin.EmptyFieldListFilter)]
