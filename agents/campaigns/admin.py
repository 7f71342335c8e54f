"""Staff see campaigns and their conversions."""

from __future__ import annotations

from django.contrib import admin

from agents.campaigns.models import Campaign, CampaignConversion


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "status", "starts_on", "ends_on", "budget", "currency")
    list_filter = ("status", "organization")
    search_fields = ("name", "goal", "utm_campaign")
    list_select_related = ("organization",)
    readonly_fields = ("id", "created_at", "updated_at", "created_by")


@admin.register(CampaignConversion)
class CampaignConversionAdmin(admin.ModelAdmin):
    list_display = ("campaign", "organization", "value", "currency", "source", "reference", "at")
    list_filter = ("source", "organization")
    search_fields = ("reference", "campaign__name")
    list_select_related = ("campaign", "organization")
    raw_id_fields = ("campaign", "contact", "message")
    readonly_fields = ("id", "created_at", "updated_at")
