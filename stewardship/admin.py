from django.contrib import admin

from stewardship.models import ChangeApproval, ReviewComment, ReviewTask, StewardDecision


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ["review", "assignee", "deferred_until", "updated_at"]
    list_filter = ["assignee"]
    raw_id_fields = ["review"]


@admin.register(ReviewComment)
class ReviewCommentAdmin(admin.ModelAdmin):
    list_display = ["review", "author_name", "created_at"]
    raw_id_fields = ["review"]
    readonly_fields = ["review", "author", "author_name", "text", "created_at"]


@admin.register(StewardDecision)
class StewardDecisionAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is written by stewardship/services.py only."""

    list_display = ["created_at", "actor_name", "action", "review", "domain", "bulk"]
    list_filter = ["action", "domain", "bulk"]
    search_fields = ["actor_name", "note"]
    raw_id_fields = ["review"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeApproval)
class ChangeApprovalAdmin(admin.ModelAdmin):
    """Read-only: approvals are raised by ingest and decided in the steward UI
    (stewardship/approvals.py), which audits every decision."""

    list_display = ["created_at", "domain", "attribute", "kind", "state", "proposed_by_name"]
    list_filter = ["state", "kind", "domain"]
    search_fields = ["=golden_id", "attribute", "proposed_by_name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
