"""Campaigns: the runs, sends, posts and batches of one initiative, with its goal and budget.

A run names its campaign in ``AgentRun.campaign_id`` (a plain id, as its batch and schedule
are: ``runs`` sits below every app).  The emails a run sends carry it too
(``mail.EmailMessage.campaign``), so opens, clicks and bounces add up per campaign.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from neonhub.core.models import BaseModel, Organization


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


class Campaign(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(max_length=200)
    goal = models.CharField(max_length=500, blank=True, default="")
    # The channels it runs on: "email", "sms", "whatsapp", and the social platforms' slugs.
    channels = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # utm_campaign of its tracked links; blank means the name, slugified.
    utm_campaign = models.CharField(max_length=100, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="campaign_unique_org_name"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "-created_at"], name="campaign_org_status"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def utm_name(self) -> str:
        return self.utm_campaign or slugify(self.name)[:100] or str(self.pk)


# The channels a campaign can run on, with the words the pages show.
CHANNELS: dict[str, str] = {
    "email": "Email",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "facebook_page": "Facebook Page",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "reddit": "Reddit",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "google_ads": "Google Ads",
}


class ConversionSource(models.TextChoices):
    API = "api", "API"
    SHOPIFY = "shopify", "Shopify order"
    MANUAL = "manual", "Entered by hand"


class CampaignConversion(BaseModel):
    """One conversion (a purchase, a sign-up) counted for a campaign.

    ``source`` and ``reference`` name it where it came from (a Shopify order id, the caller's
    own id): the same pair is counted once however often it is reported.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaign_conversions"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="conversions")
    contact = models.ForeignKey(
        "audience.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_conversions",
    )
    value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=16, choices=ConversionSource.choices)
    reference = models.CharField(max_length=255)
    # The email whose click the conversion is attributed to, when there is one.
    message = models.ForeignKey(
        "mail.EmailMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversions",
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source", "reference"], name="conversion_unique_reference"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=ConversionSource.values),
                name="conversion_source_valid",
            ),
        ]
        indexes = [
            # The campaign page's totals and per-day series.
            models.Index(fields=["organization", "campaign", "at"], name="conversion_campaign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.value} {self.currency} for {self.campaign_id}"
