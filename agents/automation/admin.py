"""Staff views of triggers, deliveries (rejected ones with their reasons), schedules and batches.

Secrets never show: a generic trigger's signing secret appears only as its mask.  Actions go
through the services, like every other write.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from agents.automation import batches, schedules
from agents.automation.models import Batch, BatchItem, RecurringSchedule, Trigger, WebhookDelivery
from agents.automation.services import trigger_snapshot
from agents.automation.sources import trigger_sources
from neonhub.core.audit import audit_record, changes_between
from neonhub.core.errors import NeonHubError


class AuditedAdmin(admin.ModelAdmin):
    """Staff's changes and deletions are in the organization's audit log like everyone's
    (as "system": staff act outside the organization's roles), in the change's transaction."""

    audit_area = ""

    @staticmethod
    def snapshot(obj) -> dict:
        raise NotImplementedError

    def _record(self, request, obj, verb: str, before: dict, after: dict) -> None:
        audit_record(
            action=f"{self.audit_area}.{verb}",
            organization=obj.organization,
            target=obj,
            changes=changes_between(before, after, secret={"secret"}),
            request=request,
        )

    def save_model(self, request, obj, form, change):
        stored = type(obj).objects.filter(pk=obj.pk).first() if change else None
        before = self.snapshot(stored) if stored is not None else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            self._record(request, obj, "update" if change else "create", before, self.snapshot(obj))

    def delete_model(self, request, obj):
        with transaction.atomic():
            self._record(request, obj, "delete", self.snapshot(obj), {})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Trigger)
class TriggerAdmin(AuditedAdmin):
    audit_area = "trigger"
    snapshot = staticmethod(trigger_snapshot)
    list_display = (
        "name",
        "organization",
        "source",
        "connector",
        "agent",
        "intent",
        "enabled",
        "last_delivery_at",
    )
    list_filter = ("source", "enabled", "organization")
    search_fields = ("name", "agent", "intent")
    list_select_related = ("organization", "connector")
    readonly_fields = (
        "secret_mask",
        "legacy_signatures_until",
        "last_delivery_at",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ("connector", "created_by")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # The sources come from the provider registry, not model choices (no migration per event).
        if db_field.name == "source":
            return forms.ChoiceField(choices=lambda: list(trigger_sources().items()))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery, accepted or refused; the reason says why a refused one was refused."""

    list_display = (
        "created_at",
        "source",
        "status",
        "http_status",
        "reason",
        "organization",
        "event_id",
    )
    list_filter = ("status", "http_status", "source")
    search_fields = ("event_id", "reason", "remote_addr")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.action(description="Pause the selected schedules")
def pause_schedules(modeladmin, request, queryset) -> None:
    for schedule in queryset:
        schedules.schedule_pause(schedule=schedule, request=request)


@admin.action(description="Resume the selected schedules (from now)")
def resume_schedules(modeladmin, request, queryset) -> None:
    for schedule in queryset:
        schedules.schedule_resume(schedule=schedule, request=request)


@admin.register(RecurringSchedule)
class RecurringScheduleAdmin(AuditedAdmin):
    audit_area = "schedule"
    snapshot = staticmethod(schedules.schedule_snapshot)
    list_display = (
        "name",
        "organization",
        "agent",
        "intent",
        "expression",
        "timezone",
        "paused",
        "next_run_at",
        "last_run_at",
        "skipped",
    )
    list_filter = ("paused", "kind", "organization")
    search_fields = ("name", "agent", "intent")
    readonly_fields = (
        "next_run_at",
        "last_run",
        "last_run_at",
        "skipped",
        "last_skip_reason",
        "created_at",
    )
    raw_id_fields = ("created_by",)
    actions = [pause_schedules, resume_schedules]


def _batch_action(request, queryset, act, verb: str) -> None:
    for batch in queryset:
        try:
            act(batch=batch)
        except NeonHubError as exc:
            messages.warning(request, f"{batch.name}: {exc.message}")
        else:
            messages.success(request, f"{batch.name}: {verb}")


@admin.action(description="Pause the selected batches")
def pause_batches(modeladmin, request, queryset) -> None:
    _batch_action(request, queryset, batches.batch_pause, "paused")


@admin.action(description="Resume the selected batches")
def resume_batches(modeladmin, request, queryset) -> None:
    _batch_action(request, queryset, batches.batch_resume, "resumed")


@admin.action(description="Cancel the selected batches")
def cancel_batches(modeladmin, request, queryset) -> None:
    _batch_action(request, queryset, batches.batch_cancel, "cancelled")


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "agent",
        "intent",
        "source",
        "status",
        "total",
        "done",
        "failed",
        "pause_reason",
        "started_at",
    )
    list_filter = ("status", "source", "organization")
    search_fields = ("name", "agent", "intent")
    list_select_related = ("organization",)
    readonly_fields = (
        "total",
        "fed",
        "feed_cursor",
        "fed_all",
        "done",
        "failed",
        "cancelled",
        "rate_base_finished",
        "rate_base_failed",
        "feed_pending",
        "feed_requested_at",
        "started_at",
        "finished_at",
        "pause_reason",
        "source_file",
        "created_at",
    )
    raw_id_fields = ("contact_list", "created_by")
    actions = [pause_batches, resume_batches, cancel_batches]


@admin.register(BatchItem)
class BatchItemAdmin(admin.ModelAdmin):
    """A batch's inputs: filter by status to see what failed and why."""

    list_display = ("batch", "index", "status", "run", "error")
    list_filter = ("status",)
    search_fields = ("=batch__id", "error")
    raw_id_fields = ("batch", "run")
    list_select_related = ("batch",)
