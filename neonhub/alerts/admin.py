from django.contrib import admin

from neonhub.alerts.models import AlertDelivery, AlertDestination, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "kind", "state", "state_changed_at", "enabled")
    list_filter = ("kind", "state", "enabled")
    search_fields = ("name",)
    readonly_fields = (
        "state",
        "state_changed_at",
        "value",
        "summary",
        "evaluated_at",
        "notified_at",
    )


@admin.register(AlertDestination)
class AlertDestinationAdmin(admin.ModelAdmin):
    # The secret is never shown (editable=False keeps it out of the form); only its mask is.
    list_display = ("name", "organization", "kind", "target", "secret_mask", "enabled")
    list_filter = ("kind", "enabled")
    readonly_fields = ("secret_mask",)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "organization",
        "rule",
        "destination",
        "event",
        "status",
        "attempts",
    )
    list_filter = ("event", "status")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
