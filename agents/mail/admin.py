"""Staff views of the emails sent and what happened to them: read-only (the services write)."""

from __future__ import annotations

from django.contrib import admin

from agents.mail.models import EmailEvent, EmailMessage, MailSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = EmailEvent
    fields = ("at", "kind", "machine", "url", "detail", "user_agent")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "to", "subject", "status", "opens", "clicks")
    list_filter = ("status", "organization")
    search_fields = ("to", "message_id", "token")
    raw_id_fields = ("campaign", "contact", "ab_test")
    inlines = [EventInline]


@admin.register(EmailEvent)
class EmailEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "organization", "kind", "machine", "message", "url")
    list_filter = ("kind", "machine", "organization")
    raw_id_fields = ("message", "contact", "campaign")


@admin.register(MailSettings)
class MailSettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "track_opens", "track_clicks", "add_utm", "updated_at")
    raw_id_fields = ("organization",)
