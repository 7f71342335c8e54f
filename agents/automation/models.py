"""How runs start without a person: webhook triggers, recurring schedules and batches.

Every row carries its organization; reads go through ``selectors.py`` with it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from agents.audience.models import ContactList
from neonhub.core.models import BaseModel, Organization

# --- inbound webhooks -------------------------------------------------------------------------


class Trigger(BaseModel):
    """An event that starts a run: ``source`` happened, so run ``agent``/``intent``.

    The run's payload is ``defaults`` with ``mapping`` applied: each payload field takes the
    value at a dotted path of the event (``{"from": "From", "body": "Body"}``).  Provider
    sources may be tied to one connector (null: any connector of that provider in the
    organization).  A generic trigger has its own signing secret, encrypted at rest.

    ``source`` is "<provider>.<event>" or "generic", checked against the provider registry by
    the services (``agents.automation.sources``), never by choices or a constraint: a provider
    that adds an event needs no migration.  ``legacy_signatures_until``: until when a generic
    trigger made before Standard Webhooks still takes the old ``X-NeonHub-Signature`` scheme
    (null: never).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="triggers"
    )
    name = models.CharField(max_length=100)
    # "generic", or "<provider>.<event>": Shopify's topics run to 40 characters on their own.
    source = models.CharField(max_length=100)
    connector = models.ForeignKey(
        "connectors.Connector",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="triggers",
    )
    agent = models.CharField(max_length=64)
    intent = models.CharField(max_length=64)
    mapping = models.JSONField(default=dict, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    secret = models.TextField(blank=True, default="", editable=False)
    secret_mask = models.CharField(max_length=32, blank=True, default="", editable=False)
    legacy_signatures_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="trigger_unique_org_name"
            ),
        ]
        indexes = [
            # triggers_for_event(): an organization's enabled triggers of one source.
            models.Index(fields=["organization", "source", "enabled"], name="trigger_org_source"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.source} → {self.agent}/{self.intent})"


class DeliveryStatus(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class WebhookDelivery(BaseModel):
    """One event delivered to a webhook URL, accepted or rejected, with the reason.

    ``dedupe_key`` is the provider's event id, set only on the first delivery of an event:
    the unique constraint is what makes a repeated delivery start nothing.  Deliveries to
    unknown ids have no organization.
    """

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    source = models.CharField(max_length=100)
    connector = models.ForeignKey(
        "connectors.Connector", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.ForeignKey(
        Trigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices)
    http_status = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300, blank=True, default="")
    event_id = models.CharField(max_length=255, blank=True, default="")
    # NULL (not ""): only first deliveries of an event take part in the unique constraint.
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    run = models.ForeignKey(
        "runs.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    body_excerpt = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                name="delivery_unique_event",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
        ]
        indexes = [
            # The admin: every organization's deliveries, newest first.
            models.Index(fields=["-created_at"], name="delivery_created"),
            # delivery_page(): GET /triggers/deliveries, newest first on the keyset (created_at, id).
            models.Index(
                fields=["organization", "-created_at", "-id"], name="delivery_org_created"
            ),
            # delivery_page(trigger=...): GET /triggers/{id}/deliveries (with a status as well,
            # SQLite picks delivery_org_status: refused deliveries are the few).
            models.Index(fields=["trigger", "-created_at", "-id"], name="delivery_trigger_created"),
            # delivery_page(status=...): ?status=, and the Triggers page's refused deliveries.
            models.Index(
                fields=["organization", "status", "-created_at", "-id"],
                name="delivery_org_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.status} ({self.http_status})"


# --- schedules --------------------------------------------------------------------------------


class ScheduleKind(models.TextChoices):
    CRON = "cron", "Cron expression"
    INTERVAL = "interval", "Every N minutes"


class RecurringSchedule(BaseModel):
    """A run started again and again: from a cron expression or an interval, in ``timezone``.

    One django-q2 minute task (``agents.automation.tasks.schedules_due``) starts the due ones;
    ``next_run_at`` moves forward with a conditional UPDATE, so two workers never start the
    same occurrence, and it is computed from *now*, so downtime never piles runs up.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="schedules"
    )
    name = models.CharField(max_length=100)
    agent = models.CharField(max_length=64)
    intent = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=16, choices=ScheduleKind.choices, default=ScheduleKind.CRON)
    cron = models.CharField(max_length=120, blank=True, default="")
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    paused = models.BooleanField(default=False)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(
        "runs.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run_at = models.DateTimeField(null=True, blank=True)
    skipped = models.PositiveIntegerField(default=0)
    last_skip_reason = models.CharField(max_length=200, blank=True, default="")
    # The campaign its runs count for (they get it as ``AgentRun.campaign_id``).
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="schedule_unique_org_name"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ScheduleKind.values), name="schedule_kind_valid"
            ),
        ]
        indexes = [
            # schedules_due(): active schedules whose next time has come.
            models.Index(
                fields=["next_run_at"], name="schedule_due", condition=models.Q(paused=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agent}/{self.intent})"

    @property
    def expression(self) -> str:
        return self.cron if self.kind == ScheduleKind.CRON else f"every {self.interval_minutes} min"


# --- batches ----------------------------------------------------------------------------------


class BatchSource(models.TextChoices):
    JSON = "json", "JSON list"
    CSV = "csv", "CSV upload"
    CONTACT_LIST = "contact_list", "Contact list"
    # A segment's matches, frozen into a new contact list when the batch starts.
    SEGMENT = "segment", "Segment"


class BatchStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Batch(BaseModel):
    """One intent over many inputs; each input becomes a run linked through a ``BatchItem``.

    The feeder (``agents.automation.tasks.batch_feed``) reads inputs from ``feed_cursor`` (a
    byte offset into the CSV, the last list membership id, or the next JSON index), creates
    items and runs in chunks within the organization's in-flight limit, and moves the cursor
    in the same transaction, so a crash resumes where it stopped.  ``done``/``failed``/
    ``cancelled`` count finished items; ``rate_base_*`` is where the failure rate is measured
    from (reset on resume).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="batches")
    name = models.CharField(max_length=200)
    agent = models.CharField(max_length=64)
    intent = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=BatchSource.choices)
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.RUNNING
    )
    pause_reason = models.CharField(max_length=300, blank=True, default="")
    defaults = models.JSONField(default=dict, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    source_file = models.FileField(upload_to="batches/", null=True, blank=True)
    contact_list = models.ForeignKey(
        ContactList, null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    # The campaign its runs count for (they get it as ``AgentRun.campaign_id``).
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField(default=0)
    fed = models.PositiveIntegerField(default=0)
    feed_cursor = models.BigIntegerField(default=0)
    fed_all = models.BooleanField(default=False)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    rate_base_finished = models.PositiveIntegerField(default=0)
    rate_base_failed = models.PositiveIntegerField(default=0)
    feed_pending = models.BooleanField(default=False)
    feed_requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=BatchSource.values), name="batch_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=BatchStatus.values), name="batch_status_valid"
            ),
        ]
        indexes = [
            # batch_page(): the batch list, newest first on the keyset (created_at, id).
            models.Index(fields=["organization", "-created_at", "-id"], name="batch_org_created"),
            # The minute task: batches that are still going.
            models.Index(
                fields=["status"],
                name="batch_active",
                condition=models.Q(status__in=["running", "paused"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.agent}/{self.intent}, {self.status})"

    @property
    def finished_count(self) -> int:
        return self.done + self.failed + self.cancelled

    @property
    def is_active(self) -> bool:
        return self.status in (BatchStatus.RUNNING, BatchStatus.PAUSED)


class ItemStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BatchItem(models.Model):
    """One input of a batch and the run it became; unique per (batch, index), so an input runs once.

    An integer key: a batch can have hundreds of thousands, and they are reached through
    their batch, never by id.
    """

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    input = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.QUEUED)
    run = models.ForeignKey(
        "runs.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["batch", "index"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "index"], name="batchitem_unique_batch_index"),
            models.CheckConstraint(
                condition=models.Q(status__in=ItemStatus.values), name="batchitem_status_valid"
            ),
        ]
        indexes = [
            # batch_sync(): a batch's items still in flight; batch_item_page(status=...), keyset on
            # the index.  Without a status the unique (batch, index) constraint's index serves.
            models.Index(fields=["batch", "status", "index"], name="batchitem_batch_status"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.index} ({self.status})"


# --- the calendar feed ----------------------------------------------------------------------


class CalendarFeed(BaseModel):
    """An organization's iCalendar feed link: signed (``agents.automation.feed``) over the
    organization and ``nonce``; a new nonce ("Regenerate link") makes every old link a 404."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    nonce = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"Calendar feed of {self.organization_id}"


# --- commerce recipes -----------------------------------------------------------------------


class RecipeKind(models.TextChoices):
    ABANDONED_CHECKOUT = "abandoned_checkout", "Abandoned checkout follow-up"
    REVIEW_REQUEST = "review_request", "Review request"
    WELCOME_SEQUENCE = "welcome_sequence", "Welcome sequence"


class Recipe(BaseModel):
    """A ready-made automation a marketer switches on: one per kind per organization.

    ``options`` holds what the marketer chose (delay, channel, message text per step), checked
    by ``agents.automation.recipes.recipe_settings_validate``; ``connector`` is the Shopify
    connector it listens to (null: any Shopify connector of the organization).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="recipes")
    kind = models.CharField(max_length=32, choices=RecipeKind.choices)
    enabled = models.BooleanField(default=False)
    connector = models.ForeignKey(
        "connectors.Connector",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recipes",
    )
    options = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="recipe_unique_org_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=RecipeKind.values), name="recipe_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'on' if self.enabled else 'off'})"


class RecipeActionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Could not schedule"


class RecipeAction(BaseModel):
    """One message a recipe decided on for one shop event: scheduled as a run, or skipped.

    Unique per (recipe, subject, step): the checkout token, the order id or the customer id
    with the sequence step, so a checkout updated ten times is followed up once.  What became
    of a scheduled message (sent, refused by the sending rules) is read from its run.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="recipe_actions"
    )
    recipe = models.ForeignKey(Recipe, on_delete=models.CASCADE, related_name="actions")
    subject = models.CharField(max_length=255)
    # A second name of the subject: the checkout's numeric id (an order names either).
    reference = models.CharField(max_length=64, blank=True, default="")
    step = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RecipeActionStatus.choices)
    reason = models.CharField(max_length=300, blank=True, default="")
    channel = models.CharField(max_length=16, blank=True, default="")
    recipient = models.CharField(max_length=254, blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(
        "runs.AgentRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipe", "subject", "step"], name="recipeaction_unique_subject_step"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RecipeActionStatus.values),
                name="recipeaction_status_valid",
            ),
        ]
        indexes = [
            # The Recipes page: a recipe's newest actions.
            models.Index(fields=["recipe", "-created_at"], name="recipeaction_recipe_created"),
            # Cancel on order: an organization's scheduled follow-ups of one checkout.
            models.Index(fields=["organization", "subject"], name="recipeaction_org_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.recipe_id} {self.subject}#{self.step} ({self.status})"
