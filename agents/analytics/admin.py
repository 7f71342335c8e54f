"""Staff see tracked posts and their readings; nothing here is edited by hand."""

from __future__ import annotations

from django.contrib import admin

from agents.analytics.models import MetricsCollection, TrackedPost


class CollectionInline(admin.TabularInline):
    model = MetricsCollection
    fields = ("hours_after", "due_at", "status", "collected_at", "attempts", "calls", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TrackedPost)
class TrackedPostAdmin(admin.ModelAdmin):
    list_display = ("platform", "provider_post_id", "organization", "published_at", "sandbox")
    list_filter = ("platform", "sandbox", "organization")
    search_fields = ("provider_post_id", "url")
    list_select_related = ("organization",)
    readonly_fields = (
        "organization",
        "connector",
        "platform",
        "provider_post_id",
        "url",
        "action",
        "run",
        "published_at",
        "sandbox",
        "latest_collection",
    )
    inlines = [CollectionInline]

    def has_add_permission(self, request) -> bool:
        return False
