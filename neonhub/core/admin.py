from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from neonhub.core import services
from neonhub.core.auth import Principal
from neonhub.core.models import ApiKey, AuditEvent, Membership, Organization, Role


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ["name", "prefix", "role", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "last_used_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # keys are created with `createapikey` or the API, so the secret is shown once

    def has_change_permission(self, request, obj=None):
        return False  # changes go through the services, which write the audit log


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "member_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, ApiKeyInline]

    def get_queryset(self, request):
        # The member count comes with the page's one query instead of one query per row.
        return (
            super().get_queryset(request).annotate(member_total=Count("memberships", distinct=True))
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj) -> int:
        return obj.member_total


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__name", "organization__slug"]
    autocomplete_fields = ["user", "organization"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "organization",
        "role",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["role", "organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "prefix", "organization__name"]
    readonly_fields = ["prefix", "last_used_at", "organization"]
    exclude = ["hashed_secret"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Keys change only through their services, which write the audit log; staff revoke
        # with the action below, owners and admins on the API keys page.
        return False

    @admin.action(description="Revoke selected keys", permissions=["view"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("organization"):
            staff = Principal(organization=key.organization, role=Role.OWNER, user=request.user)
            services.api_key_revoke(api_key=key, principal=staff, request=request)
            revoked += 1
        self.message_user(request, f"{revoked} key(s) revoked.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Every organization's audit log, for staff: read only, as the record must stay true."""

    list_display = ("created_at", "organization", "actor", "action", "target_label", "ip_address")
    list_filter = ("organization", "action")
    search_fields = ("actor", "action", "target_label", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
