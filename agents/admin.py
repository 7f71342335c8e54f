from __future__ import annotations

from django.contrib import admin

from agents.models import ABTest, Brand, ContentDraft, KnowledgeArticle


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "organization", "tone", "website")
    list_filter = ("organization",)
    search_fields = ("name", "slug")
    list_select_related = ("organization",)


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "active", "updated_at")
    list_filter = ("active", "organization")
    search_fields = ("title", "body")
    list_select_related = ("organization",)


@admin.register(ContentDraft)
class ContentDraftAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "status", "primary_keyword", "model", "created_at")
    list_filter = ("status", "organization")
    search_fields = ("title", "topic", "primary_keyword")
    list_select_related = ("organization",)
    readonly_fields = (
        "run_id",
        "meta",
        "schema",
        "quality",
        "keyword_insights",
        "model",
        "created_at",
    )


@admin.register(ABTest)
class ABTestAdmin(admin.ModelAdmin):
    list_display = ("name", "campaign", "organization", "status", "winner", "started_at")
    list_filter = ("status", "organization")
    search_fields = ("name", "campaign_label")
    list_select_related = ("organization", "campaign")
    raw_id_fields = ("campaign", "segment", "contact_list", "created_by")
    readonly_fields = ("run_id", "split", "result", "started_at", "window_ends_at", "decided_at")
