from django.contrib import admin

from matching.models import MatchKey


@admin.register(MatchKey)
class MatchKeyAdmin(admin.ModelAdmin):
    list_display = ["domain", "kind", "value", "golden_id", "source_record"]
    list_filter = ["domain", "kind"]
    search_fields = ["value"]
    raw_id_fields = ["source_record"]
