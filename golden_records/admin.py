"""Admin for every golden-records model. Golden records are read-only here: their values come
from ownership rules and steward overrides, never from a free edit that would skip lineage."""

from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from golden_records.history import ChangeOrigin
from golden_records.models import (
    GOLDEN_MODELS,
    ApiToken,
    AttributeOverride,
    Channel,
    IdempotencyRecord,
    IngestLock,
    OwnershipRule,
    PendingReference,
    RejectedRecord,
    SourceRecord,
    SourceSystem,
)
from golden_records.services.rules import save_ownership_rule
from golden_records.services.tokens import revoke_token


@admin.register(SourceSystem)
class SourceSystemAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "default_country", "active", "created_at"]
    list_filter = ["kind", "active", "default_country"]
    search_fields = ["code", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(SimpleHistoryAdmin):
    """Tokens are listed, renamed and revoked here (revoking through ``revoke_token``, with the
    admin user in the history); created with the ``create_token`` command."""

    list_display = ["hint", "name", "system", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", "system"]
    readonly_fields = [
        "system",
        "scope",
        "digest",
        "hint",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        # A token is shown once at creation, which the admin cannot do: use create_token.
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the row keeps the token's history and last use.
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        origin = ChangeOrigin.steward(request.user, Channel.ADMIN)
        ids = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        for token_id in ids:
            revoke_token(token_id, origin)
        self.message_user(request, f"Revoked {len(ids)} token(s).", messages.SUCCESS)


@admin.register(SourceRecord)
class SourceRecordAdmin(SimpleHistoryAdmin):
    list_display = ["source_id", "system", "domain", "golden_id", "link_rule", "received_at"]
    list_filter = ["domain", "system", "link_rule"]
    search_fields = ["source_id", "=golden_id"]
    list_select_related = ["system"]
    readonly_fields = [f.name for f in SourceRecord._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OwnershipRule)
class OwnershipRuleAdmin(SimpleHistoryAdmin):
    list_display = [
        "domain",
        "attribute",
        "strategy",
        "systems",
        "fallback_to_any",
        "governed",
        "four_eyes",
        "updated_at",
    ]
    list_filter = ["domain", "strategy", "governed", "four_eyes"]
    search_fields = ["attribute"]

    def get_readonly_fields(self, request, obj=None):
        return ["domain", "attribute"] if obj else []

    def save_model(self, request, obj, form, change):
        save_ownership_rule(obj)


@admin.register(AttributeOverride)
class AttributeOverrideAdmin(SimpleHistoryAdmin):
    list_display = ["domain", "golden_id", "attribute", "value", "set_by", "set_at"]
    list_filter = ["domain"]
    readonly_fields = ["domain", "golden_id", "attribute", "value", "reason", "set_by", "set_at"]

    def has_add_permission(self, request):
        return False


@admin.register(PendingReference)
class PendingReferenceAdmin(admin.ModelAdmin):
    list_display = [
        "source_record",
        "attribute",
        "target_system",
        "target_domain",
        "target_source_id",
    ]
    list_filter = ["target_domain", "target_system"]
    search_fields = ["target_source_id"]


@admin.register(RejectedRecord)
class RejectedRecordAdmin(admin.ModelAdmin):
    """Data-quality exceptions are shown here; stewards correct or dismiss them in the steward
    UI (/steward/exceptions), which audits the action."""

    list_display = ["pk", "system", "domain", "source_id", "error_codes", "state", "last_seen"]
    list_filter = ["state", "domain", "system", "channel"]
    search_fields = ["source_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "system", "state", "status_code", "created_at"]
    list_filter = ["state", "system"]


@admin.register(IngestLock)
class IngestLockAdmin(admin.ModelAdmin):
    list_display = ["key"]


class GoldenRecordAdmin(SimpleHistoryAdmin):
    list_filter = ["record_status"]
    search_fields = ["=golden_id"]
    history_list_display = ["actor_type", "actor", "channel", "changed_fields"]

    def get_list_display(self, request):
        return ["golden_id", "__str__", "version", "record_status", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model in GOLDEN_MODELS.values():
    admin.site.register(_model, GoldenRecordAdmin)
