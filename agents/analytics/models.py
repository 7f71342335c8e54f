"""Published posts and their numbers over time.

A ``TrackedPost`` is one post a publish run put on a platform (its connector, the id the
platform gave it, its address).  Each has four ``MetricsCollection`` rows, due 1 hour, 24
hours, 7 days and 30 days after publishing; a collection that went through has one
``PostMetric`` row per number the platform reported.  One row per number (not a JSON of
numbers per collection) so sums per channel and series per metric are plain SQL on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization

# Hours after publishing at which a post's numbers are read.
CHECKPOINTS: tuple[int, ...] = (1, 24, 24 * 7, 24 * 30)
CHECKPOINT_LABELS = {1: "1 hour", 24: "24 hours", 168: "7 days", 720: "30 days"}


class TrackedPost(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tracked_posts"
    )
    # Kept when the connector is deleted: the numbers collected so far stay readable.
    connector = models.ForeignKey(
        "connectors.Connector",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracked_posts",
    )
    platform = models.CharField(max_length=40)  # the provider slug: facebook_page, reddit, ...
    provider_post_id = models.CharField(max_length=255)
    url = models.URLField(max_length=2000, blank=True, default="")
    action = models.CharField(max_length=64, blank=True, default="")
    run = models.ForeignKey(
        "runs.AgentRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tracked_posts",
    )
    published_at = models.DateTimeField(default=timezone.now)
    sandbox = models.BooleanField(default=False)
    campaign_id = models.CharField(max_length=100, blank=True, default="")
    # The newest collection that went through: the post's current numbers.
    latest_collection = models.ForeignKey(
        "MetricsCollection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "provider_post_id"],
                name="trackedpost_org_platform_post_unique",
            )
        ]
        indexes = [
            # The posts list and the API, newest first, optionally per platform.
            models.Index(
                fields=["organization", "-published_at", "-id"], name="trackedpost_org_published"
            ),
            models.Index(
                fields=["organization", "platform", "-published_at"],
                name="trackedpost_org_platform",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.provider_post_id}"


class CollectionStatus(models.TextChoices):
    DUE = "due", "Due"
    COLLECTED = "collected", "Collected"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class MetricsCollection(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(TrackedPost, on_delete=models.CASCADE, related_name="collections")
    hours_after = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    # When the collector may try next: due_at at first, later after a wait or a claim.
    not_before = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=CollectionStatus.choices, default=CollectionStatus.DUE
    )
    attempts = models.PositiveIntegerField(default=0)
    collected_at = models.DateTimeField(null=True, blank=True)
    # Why it waits, was skipped or failed, in words; the calls' HTTP status and provider code.
    note = models.CharField(max_length=300, blank=True, default="")
    error_code = models.CharField(max_length=40, blank=True, default="")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    provider_error_code = models.CharField(max_length=64, blank=True, default="")
    calls = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["hours_after"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "hours_after"], name="metricscollection_post_hours_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=CollectionStatus.values),
                name="metricscollection_status_valid",
            ),
        ]
        indexes = [
            # The minute task's query: due collections whose time has come, oldest first.
            models.Index(
                fields=["not_before"],
                name="metricscollection_due",
                condition=models.Q(status="due"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post} at {self.label}"

    @property
    def label(self) -> str:
        return CHECKPOINT_LABELS.get(self.hours_after, f"{self.hours_after} hours")


class PostMetric(models.Model):
    """One number of one collection (``value`` is a count, or seconds for watch time)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(TrackedPost, on_delete=models.CASCADE, related_name="metrics")
    collection = models.ForeignKey(
        MetricsCollection, on_delete=models.CASCADE, related_name="metrics"
    )
    platform = models.CharField(max_length=40)
    name = models.CharField(max_length=32)
    value = models.FloatField()
    collected_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "name"], name="postmetric_collection_name_unique"
            )
        ]
        indexes = [
            # A post's series per metric, in time order.
            models.Index(fields=["post", "name", "collected_at"], name="postmetric_post_series"),
        ]

    def __str__(self) -> str:
        return f"{self.name} = {self.value:g}"
