"""Staff views of contacts, their lists and the messages they sent us.

Secrets never show: a generic trigger's signing secret appears only as its mask.  Actions go
through the services, like every other write.
"""

from __future__ import annotations

from django.contrib import admin

from agents.audience.models import (
    ConsentEvent,
    Contact,
    ContactList,
    ContactListMembership,
    InboundMessage,
)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "channel", "address", "contact", "body")
    list_filter = ("channel", "organization")
    search_fields = ("address", "provider_id")
    raw_id_fields = ("connector", "contact")
    readonly_fields = ("created_at",)


class MembershipInline(admin.TabularInline):
    model = ContactListMembership
    raw_id_fields = ("contact",)
    extra = 0


class ConsentEventInline(admin.TabularInline):
    """The consent history is evidence: read here, written only by the services."""

    model = ConsentEvent
    fields = ("at", "channel", "status", "source", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "phone", "email", "timezone", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "email", "phone")
    list_select_related = ("organization",)
    readonly_fields = ("erased_at",)
    inlines = [ConsentEventInline]


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "description", "created_at")
    list_filter = ("organization",)
    search_fields = ("name",)
    inlines = [MembershipInline]
