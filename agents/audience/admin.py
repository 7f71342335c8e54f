"""Staff views of contacts, their lists and the messages they sent us.

Secrets never show: a generic trigger's signing secret appears only as its mask.  Actions go
through the services, like every other write.
"""

from __future__ import annotations

from django.contrib import admin

from agents.audience.models import Contact, ContactList, ContactListMembership, InboundMessage


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


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "phone", "email", "timezone", "created_at")
    list_filter = ("organization",)
    search_fields = ("name", "email", "phone")
    list_select_related = ("organization",)


@admin.register(ContactList)
class ContactListAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "description", "created_at")
    list_filter = ("organization",)
    search_fields = ("name",)
    inlines = [MembershipInline]
