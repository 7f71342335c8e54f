"""What the agents keep: brands and their voice, drafts, the support knowledge base, A/B tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models

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


class ABTestStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    TESTING = "testing", "Sending the test share"
    WAITING = "waiting", "Waiting for the window to end"
    PICKING = "picking", "Waiting for you to pick a variant"
    SENDING = "sending", "Sending the winner"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


# An A/B test's settings' limits, one place for the services, forms, schemas and the agent.
SHARE_PERCENT_MIN, SHARE_PERCENT_MAX = 5, 50
WINDOW_HOURS_MIN, WINDOW_HOURS_MAX = 1, 168


class ABTestMetric(models.TextChoices):
    OPENS = "opens", "Open rate"
    CLICKS = "clicks", "Click rate"


class NoWinnerAction(models.TextChoices):
    LEADER = "leader", "Send the leading variant anyway"
    MANUAL = "manual", "Send nothing; I will pick"


class ABTest(BaseModel):
    """An email A/B test: a share of the audience gets the variants, the rest gets the winner.

    ``variants`` is ``[{"key": "A", "subject": ..., "body": ..., "template_id": ...}]``;
    ``split`` holds the counts of the snapshot taken at start (``abtests.ABTestRecipient``);
    ``result`` the numbers per variant and the significance at the decision.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="ab_tests"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ab_tests",
    )
    # The free-text campaign name older ab-test runs gave (kept; new tests use ``campaign``).
    campaign_label = models.CharField(max_length=100, blank=True, default="")
    name = models.CharField(max_length=200)
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_list = models.ForeignKey(
        "audience.ContactList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    variants = models.JSONField(default=list)
    metric = models.CharField(
        max_length=8, choices=ABTestMetric.choices, default=ABTestMetric.OPENS
    )
    share_percent = models.PositiveSmallIntegerField(default=20)
    window_hours = models.PositiveSmallIntegerField(default=4)
    confidence = models.PositiveSmallIntegerField(default=95)
    # The fewest delivered emails each variant needs before a winner can be called.
    min_sample = models.PositiveIntegerField(default=30)
    no_winner = models.CharField(
        max_length=8, choices=NoWinnerAction.choices, default=NoWinnerAction.LEADER
    )
    status = models.CharField(
        max_length=16, choices=ABTestStatus.choices, default=ABTestStatus.DRAFT
    )
    metrics = models.JSONField(default=dict, blank=True)
    split = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    winner = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    window_ends_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    run_id = models.UUIDField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A re-executed ab-test run finds its test instead of creating a second one.
            models.UniqueConstraint(
                fields=["organization", "run_id"],
                condition=models.Q(run_id__isnull=False),
                name="abtest_unique_org_run",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ABTestStatus.values), name="abtest_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(share_percent__gte=5, share_percent__lte=50),
                name="abtest_share_5_50",
            ),
        ]
        indexes = [
            # A campaign's tests, newest first (the campaign page's fragment).
            models.Index(
                fields=["organization", "campaign", "-created_at"], name="abtest_org_campaign_fk"
            ),
            # The minute task: tests whose window has ended.
            models.Index(fields=["status", "window_ends_at"], name="abtest_status_window"),
        ]

    def __str__(self) -> str:
        return self.name
