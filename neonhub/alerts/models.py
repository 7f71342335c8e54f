"""Alert rules, where they notify, and the log of every notification sent.

A rule watches one measure of an organization (its runs' error rate or p95 duration from the
hourly rollups, the cost of a day, whether runs came at all, connectors that need
reconnecting, batches that paused themselves), optionally narrowed to one agent, intent or
connector.  The minute task (``neonhub.alerts.tasks.alerts_tick``) evaluates it against a
warning and an alert level and keeps its state with when it changed; a change notifies the
rule's destinations (``AlertDelivery``), and so does a reminder while it stays breached.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class RuleKind(models.TextChoices):
    ERROR_RATE = "error_rate", "Error rate"
    P95_DURATION = "p95_duration", "Slow runs (p95 duration)"
    COST_PER_DAY = "cost_per_day", "Cost per day"
    NO_RUNS = "no_runs", "Too few runs"
    CONNECTOR_RECONNECT = "connector_reconnect", "Connector needs reconnecting"
    BATCH_PAUSED = "batch_paused", "Batch paused itself"


class AlertState(models.TextChoices):
    OK = "ok", "OK"
    WARNING = "warning", "Warning"
    ALERT = "alert", "Alert"


class DestinationKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class DeliveryEvent(models.TextChoices):
    BREACH = "breach", "Breached"
    RECOVERY = "recovery", "Recovered"
    REMINDER = "reminder", "Still breached"
    TEST = "test", "Test"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AlertDestination(BaseModel):
    """An email address or a webhook URL.  A webhook's Standard Webhooks secret (``whsec_``) is
    shown once, kept encrypted bound to the destination's id, and only its mask is shown."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_destinations"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=DestinationKind.choices)
    target = models.CharField(max_length=500)
    secret = models.TextField(blank=True, default="", editable=False)
    secret_mask = models.CharField(max_length=32, blank=True, default="", editable=False)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="alertdestination_unique_org_name"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=DestinationKind.values),
                name="alertdestination_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertRule(BaseModel):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_rules"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    agent = models.CharField(max_length=64, blank=True, default="")
    intent = models.CharField(max_length=64, blank=True, default="")
    connector = models.ForeignKey(
        "connectors.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Levels in the kind's unit (a fraction, milliseconds, currency, a count).  For "too few
    # runs" lower is worse: the state is breached at or below the level.
    warning_level = models.FloatField(null=True, blank=True)
    alert_level = models.FloatField()
    window_minutes = models.PositiveIntegerField(default=60)
    min_runs = models.PositiveIntegerField(default=10)
    renotify_minutes = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    destinations = models.ManyToManyField(AlertDestination, blank=True, related_name="rules")
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OK)
    state_changed_at = models.DateTimeField(default=timezone.now)
    value = models.FloatField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True, default="")
    evaluated_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="alertrule_unique_org_name"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=RuleKind.values), name="alertrule_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=AlertState.values), name="alertrule_state_valid"
            ),
        ]
        indexes = [
            # The minute task: every enabled rule, least recently evaluated first.
            models.Index(
                fields=["evaluated_at"],
                name="alertrule_enabled_evaluated",
                condition=models.Q(enabled=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(BaseModel):
    """One notification to one destination: what happened, and how sending it went."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(
        AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    destination = models.ForeignKey(
        AlertDestination, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=16, choices=DeliveryEvent.choices)
    state = models.CharField(max_length=16, choices=AlertState.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="alertdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(event__in=DeliveryEvent.values),
                name="alertdelivery_event_valid",
            ),
        ]
        indexes = [
            # The deliveries log, newest first on the keyset (created_at, id).
            models.Index(
                fields=["organization", "-created_at", "-id"], name="alertdelivery_org_created"
            ),
            # The minute task's pruning: the oldest deliveries first.
            models.Index(fields=["created_at"], name="alertdelivery_created"),
            # The minute task: pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                name="alertdelivery_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.destination_id} ({self.status})"
