"""Staff view of email templates.  Marketers edit them on their own pages; staff may look,
search and fix a name, and saving checks the template compiles like every other write."""

from __future__ import annotations

from django.contrib import admin, messages

from agents.mailtemplates import services
from agents.mailtemplates.models import EmailTemplate
from neonhub.core.errors import InvalidInput


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "layout", "subject", "advanced", "updated_at")
    list_filter = ("layout", "advanced", "organization")
    search_fields = ("name", "subject")
    raw_id_fields = ("organization", "created_by")
    readonly_fields = ("created_at", "updated_at", "written_by_run")

    def save_model(self, request, obj, form, change):
        try:
            services.template_compile(template=obj)
        except InvalidInput as exc:
            messages.warning(request, f"Saved, but it does not compile: {exc.message}")
        super().save_model(request, obj, form, change)
