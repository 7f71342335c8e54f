"""Staff views of segments: their rules read here; changes go through the pages and the API,
which check the rules (an id of another organization's list or campaign is refused there)."""

from __future__ import annotations

from django.contrib import admin

from agents.segments.models import Segment
from agents.segments.selectors import segment_count


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "created_at", "updated_at")
    list_filter = ("organization",)
    search_fields = ("name", "description")
    raw_id_fields = ("organization", "created_by")
    readonly_fields = ("rules", "matching_now", "created_at", "updated_at")

    @admin.display(description="Contacts matching now")
    def matching_now(self, obj: Segment) -> int | str:
        return segment_count(segment=obj) if obj.pk else "–"
