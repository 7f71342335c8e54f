"""Admin for connectors (forms from each provider's schemas, secrets write-only, "Test
connection"), the outbox (read-only) and suppressions."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from connectors import services
from connectors.addresses import normalize_address
from connectors.forms import config_field_names, connector_form_class, credential_field_names
from connectors.health import effective_health, health_filter
from connectors.models import Connector, Health, OutboundMessage, Suppression, SuppressionSource
from connectors.registry import all_paths, get_provider_class
from neonhub.core.errors import InvalidInput

HEALTH_COLOURS = {
    Health.UNTESTED: "#6e7781",
    Health.HEALTHY: "#1a7f37",
    Health.EXPIRING: "#9a6700",
    Health.NEEDS_RECONNECT: "#cf222e",
    Health.RATE_LIMITED: "#9a6700",
    Health.DISABLED: "#6e7781",
}
RUNTIME_FIELDS = ["health_badge", "last_error", "last_error_at", "last_used_at", "last_tested_at"]


class HealthFilter(admin.SimpleListFilter):
    """Health as people see it: a healthy connector whose token expires soon shows as expiring."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return Health.choices

    def queryset(self, request, queryset):
        return queryset.filter(health_filter(self.value())) if self.value() else queryset


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organization",
        "provider",
        "mode_badge",
        "health_badge",
        "last_error",
        "last_used_at",
        "last_tested_at",
        "enabled",
    ]
    list_filter = [HealthFilter, "mode", "provider", "enabled"]
    list_select_related = ["organization"]
    search_fields = ["name", "provider", "organization__name", "organization__slug"]
    actions = ["test_connection"]
    change_form_template = "admin/connectors/connector/change_form.html"

    # --- the provider's form --------------------------------------------------------------

    def _provider_cls(self, request: HttpRequest, obj: Connector | None):
        return get_provider_class(
            obj.provider if obj is not None else request.GET.get("provider", "")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = connector_form_class(self._provider_cls(request, obj), connector=obj)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        cls = self._provider_cls(request, obj)
        main = ["provider", "name", "mode", "enabled", "token_expires_at"]
        main.insert(0, "organization")
        fieldsets = [
            (None, {"fields": main}),
            (f"{cls.label} credentials (write-only)", {"fields": credential_field_names(cls)}),
            (f"{cls.label} settings", {"fields": config_field_names(cls)}),
        ]
        if obj is not None:
            fieldsets.append(("Health", {"fields": ["credentials_set", *RUNTIME_FIELDS]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["provider"]
        return ["organization", "provider", "credentials_set", *RUNTIME_FIELDS]

    def add_view(self, request, form_url="", extra_context=None):
        """Adding starts by choosing a provider: its schemas decide the form."""
        slug = request.GET.get("provider", "")
        if slug not in all_paths():
            return self._choose_provider(request)
        return super().add_view(request, form_url, extra_context)

    def _choose_provider(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        # Plain dicts: a template calls what is callable, and a provider class is.
        providers = [
            {
                "slug": cls.slug,
                "label": cls.label,
                "auth_kind": cls.auth_kind,
                "actions": sorted(cls.actions),
            }
            for cls in (get_provider_class(slug) for slug in sorted(all_paths()))
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "providers": providers,
            "title": "Choose a provider",
        }
        return TemplateResponse(request, "admin/connectors/connector/choose_provider.html", context)

    def save_model(self, request, obj, form, change):
        saved = form.save_connector(created_by=request.user, request=request)
        for field in Connector._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        return None  # no related objects; the connector was saved by its service

    def delete_model(self, request, obj):
        services.connector_delete(connector=obj, request=request)  # audited there

    def delete_queryset(self, request, queryset):
        for connector in queryset:
            services.connector_delete(connector=connector, request=request)

    # --- display ------------------------------------------------------------------------------

    @admin.display(description="Mode", ordering="mode")
    def mode_badge(self, obj: Connector):
        if obj.is_sandbox:
            return format_html('<strong style="color:{}">{}</strong>', "#8250df", "SANDBOX")
        return "live"

    @admin.display(description="Health", ordering="health")
    def health_badge(self, obj: Connector):
        health = effective_health(obj)
        return format_html(
            '<strong style="color:{}">{}</strong>',
            HEALTH_COLOURS.get(health, "#000"),
            Health(health).label,
        )

    @admin.display(description="Credentials set")
    def credentials_set(self, obj: Connector):
        if not obj.credentials_masks:
            return "none"
        return format_html_join(", ", "{}: <code>{}</code>", sorted(obj.credentials_masks.items()))

    # --- "Test connection" ----------------------------------------------------------------------

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for connector in queryset.select_related("organization"):
            self._report(request, connector, services.connector_test(connector=connector))

    def _report(self, request, connector: Connector, result) -> None:
        level = messages.SUCCESS if result.ok else messages.WARNING
        verdict = "passed" if result.ok else "failed"
        self.message_user(request, f"{connector.name}: test {verdict}. {result.message}", level)

    def get_urls(self):
        urls = super().get_urls()
        test = path(
            "<uuid:connector_id>/test/",
            self.admin_site.admin_view(self.test_view),
            name="connectors_connector_test",
        )
        return [test, *urls]

    def test_view(self, request: HttpRequest, connector_id) -> HttpResponse:
        connector = get_object_or_404(
            Connector.objects.select_related("organization"), pk=connector_id
        )
        if request.method != "POST" or not self.has_change_permission(request, connector):
            raise PermissionDenied
        self._report(request, connector, services.connector_test(connector=connector))
        return HttpResponseRedirect(
            reverse("admin:connectors_connector_change", args=[connector.pk])
        )


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The record of side effects: read-only; delivery callbacks and runs write it."""

    list_display = [
        "created_at",
        "organization",
        "provider",
        "action",
        "target",
        "status",
        "sandbox",
        "provider_id",
        "cost",
        "would_cost",
        "run_id",
    ]
    list_filter = ["status", "provider", "purpose", "sandbox"]
    list_select_related = ["organization"]
    search_fields = ["=provider_id", "=idempotency_key", "target", "=run_id"]
    show_full_result_count = False
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ["organization", "channel", "address", "reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("channel") and cleaned.get("address"):
            try:
                cleaned["address"] = normalize_address(
                    channel=cleaned["channel"], address=cleaned["address"]
                )
            except InvalidInput as exc:
                self.add_error("address", exc.message)
        return cleaned


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "channel", "organization", "source", "reason", "created_at"]
    list_filter = ["channel", "source"]
    list_select_related = ["organization"]
    search_fields = ["address"]
    fields = ["organization", "channel", "address", "reason", "source"]
    form = SuppressionForm

    def get_readonly_fields(self, request, obj=None):
        return ["source"] if obj is None else ["organization", "channel", "address", "source"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = SuppressionSource.STAFF
            obj.reason = obj.reason or f"Added by {request.user} on {timezone.now():%Y-%m-%d}"
        super().save_model(request, obj, form, change)
