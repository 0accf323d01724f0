from django.contrib import admin
from django.db import transaction

from matching.models import MatchKey, MatchRuleVersion
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
