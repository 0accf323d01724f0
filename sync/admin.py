"""Admin for propagation. Subscriptions are edited here (with history); events, deliveries and
attempts are a record of what happened and are read-only: replay and pause go through the
operations dashboard, which uses sync/services.py."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from sync.models import (
    DeliveredVersion,
    Delivery,
    DeliveryAttempt,
    JobRun,
    OutboxEvent,
    SigningSecret,
    Subscription,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SigningSecretInline(admin.TabularInline):
    model = SigningSecret
    extra = 0
    fields = ["secret", "created_at", "expires_at"]
    readonly_fields = ["created_at"]


@admin.register(Subscription)
class SubscriptionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "system", "domains", "endpoint_url", "state", "failing_since"]
    list_filter = ["state", "system"]
    search_fields = ["name", "endpoint_url"]
    inlines = [SigningSecretInline]


@admin.register(SigningSecret)
class SigningSecretAdmin(admin.ModelAdmin):
    list_display = ["subscription", "created_at", "expires_at"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "domain", "golden_id", "version", "actor", "created_at"]
    list_filter = ["type", "domain"]
    search_fields = ["golden_id"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "subscription", "domain", "golden_id", "version", "status", "attempts"]
    list_filter = ["status", "subscription", "domain"]
    search_fields = ["golden_id"]
    inlines = [AttemptInline]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "number", "started_at", "status_code", "outcome", "duration_ms"]
    list_filter = ["outcome"]


@admin.register(DeliveredVersion)
class DeliveredVersionAdmin(ReadOnlyAdmin):
    list_display = ["subscription", "domain", "golden_id", "version", "delivered_at"]
    list_filter = ["subscription", "domain"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["job", "key", "started_at", "finished_at"]
    list_filter = ["job"]
