"""Staff see sequences, their steps and enrollments; marketers build them on the pages."""

from __future__ import annotations

from django.contrib import admin

from agents.sequences.models import Enrollment, Sequence, SequenceStep


class StepInline(admin.TabularInline):
    model = SequenceStep
    fields = ("position", "wait_days", "wait_hours", "condition", "template", "subject")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "status", "campaign", "created_at")
    list_filter = ("status", "organization")
    search_fields = ("name",)
    list_select_related = ("organization", "campaign")
    readonly_fields = ("organization", "campaign", "segment", "created_by", "source_run_id")
    inlines = [StepInline]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("contact", "sequence", "status", "exit_reason", "position", "next_step_at")
    list_filter = ("status", "exit_reason", "source")
    list_select_related = ("contact", "sequence")
    readonly_fields = (
        "organization",
        "sequence",
        "contact",
        "status",
        "exit_reason",
        "position",
        "next_step_at",
        "waiting_since",
        "enrolled_at",
        "finished_at",
        "source",
        "claim",
    )
    search_fields = ("contact__email",)
