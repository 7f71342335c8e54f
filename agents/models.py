"""What the agents keep: brands and their voice, drafts, the support knowledge base, A/B tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class Brand(BaseModel):
    """A brand and its voice; shapes what both the LLM and the built-in writer produce."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64)
    description = models.TextField(blank=True, default="")
    tone = models.CharField(
        max_length=64, blank=True, default="", help_text="e.g. friendly, witty, authoritative"
    )
    vocabulary = models.JSONField(
        default=list, blank=True, help_text="Words and phrases the brand uses"
    )
    do_examples = models.JSONField(
        default=list, blank=True, help_text="Sentences that sound like the brand"
    )
    dont_examples = models.JSONField(
        default=list, blank=True, help_text="Sentences the brand would never write"
    )
    website = models.URLField(blank=True, default="")
    slogan = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="brand_unique_org_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class DraftStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    GENERATED = "generated", "Generated"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class ContentDraft(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="content_drafts"
    )
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.SET_NULL, related_name="drafts"
    )
    title = models.CharField(max_length=300)
    topic = models.CharField(max_length=300)
    body = models.TextField()
    tone = models.CharField(max_length=32, default="professional")
    audience = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=DraftStatus.choices, default=DraftStatus.DRAFT)
    primary_keyword = models.CharField(max_length=200, blank=True, default="")
    meta = models.JSONField(default=dict, blank=True)
    schema = models.JSONField(default=dict, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    keyword_insights = models.JSONField(default=list, blank=True)
    model = models.CharField(max_length=100, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    run_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DraftStatus.values), name="contentdraft_status_valid"
            ),
            # One draft per run: a re-executed generate-draft run updates its draft instead of adding one.
            models.UniqueConstraint(
                fields=["organization", "run_id"],
                condition=models.Q(run_id__isnull=False),
                name="contentdraft_unique_org_run",
            ),
        ]
        indexes = [
            # An organization's drafts, newest first (admin list, later the drafts page).
            models.Index(fields=["organization", "-created_at"], name="draft_org_created"),
        ]

    def __str__(self) -> str:
        return self.title


class KnowledgeArticle(BaseModel):
    """An answer the SupportAgent may send; ranked by relevance to the customer's message."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="knowledge_articles"
    )
    title = models.CharField(max_length=300)
    body = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            # SupportAgent reply: the organization's active articles, ranked in Python.
            models.Index(fields=["organization", "active"], name="kb_org_active"),
        ]

    def __str__(self) -> str:
        return self.title


class ABTest(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="ab_tests"
    )
    campaign_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    variants = models.JSONField(default=list)
    metrics = models.JSONField(default=dict, blank=True)
    winner = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    run_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # A re-executed ab-test run finds its test instead of creating a second one.
            models.UniqueConstraint(
                fields=["organization", "run_id"],
                condition=models.Q(run_id__isnull=False),
                name="abtest_unique_org_run",
            ),
        ]
        indexes = [
            # A campaign's tests, newest first.
            models.Index(
                fields=["organization", "campaign_id", "-started_at"], name="abtest_org_campaign"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.campaign_id})"
