from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from neonhub.core.models import BaseModel, Organization


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    # Held before it is queued until a person approves it (``RunApproval``): neither in flight
    # nor finished; no worker claims it and the watchdog only expires it.
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})


class Trigger(models.TextChoices):
    API = "api", "API"
    UI = "ui", "UI"
    SCHEDULE = "schedule", "Schedule"
    WEBHOOK = "webhook", "Webhook"
    BATCH = "batch", "Batch"
    RETRY = "retry", "Retry"


class Origin(models.TextChoices):
    """Where a run came from, besides a person or an API call: see ``AgentRun.origin``."""

    BATCH = "batch", "Batch"
    SCHEDULE = "schedule", "Schedule"
    DELIVERY = "delivery", "Webhook delivery"
    PARENT = "parent", "Parent run"


class AgentRunQuerySet(models.QuerySet):
    """``scheduled`` and ``not_scheduled`` split the queued runs: a run is *scheduled* while it
    waits for a time someone chose (a social publish's ``publishAt``), not for a worker, and not
    for a retry's back-off.  See ``AgentRun.is_scheduled``."""

    def scheduled(self, *, now: datetime | None = None) -> AgentRunQuerySet:
        return self.filter(scheduled_condition(now or timezone.now()))

    def not_scheduled(self, *, now: datetime | None = None) -> AgentRunQuerySet:
        return self.exclude(scheduled_condition(now or timezone.now()))


def scheduled_condition(now: datetime) -> models.Q:
    # attempt 0: the run was never claimed, so its next_attempt_at is a chosen start time, not
    # a back-off (a retry's or a deferral's wait comes after a claim, which raises attempt).
    return models.Q(status=RunStatus.QUEUED, attempt=0, next_attempt_at__gt=now)


class AgentRun(BaseModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="runs")
    agent = models.CharField(max_length=64)
    intent = models.CharField(max_length=64)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)

    input = models.JSONField(default=dict)
    input_hash = models.CharField(max_length=64)
    output = models.JSONField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    error_code = models.CharField(max_length=32, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")
    error_context = models.JSONField(default=dict, blank=True)

    attempt = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # The run's origin in automation: the batch it is an input of, the recurring schedule that
    # started it, the webhook delivery that started it.  Plain UUIDs, not foreign keys: ``runs``
    # imports no app, and automation's rows (a batch, a pruned delivery) may go while the record
    # of what they started stays.  At most one is set; ``parent`` is the origin of retries and
    # scheduled publishes.
    batch_id = models.UUIDField(null=True, blank=True, editable=False)
    schedule_id = models.UUIDField(null=True, blank=True, editable=False)
    delivery_id = models.UUIDField(null=True, blank=True, editable=False)
    # The campaign the run belongs to (``campaigns.Campaign``), when it names one.
    campaign_id = models.UUIDField(null=True, blank=True)
    # The first run of this run's lineage: itself, unless the run is a person's Retry, which
    # continues the lineage of the run it retries.  Side effects are keyed by it (the outbox's
    # idempotency keys, see agents.context.RunContext.idempotency_key), so a Retry answers what
    # was already delivered from the outbox instead of sending it again, and completed steps
    # of the lineage can be reused.  "Run again with new input" starts a new lineage.  A plain
    # UUID like the origins: it is a key space, and it outlives a pruned first run.
    lineage_id = models.UUIDField(editable=False)
    # NULL, not "": the unique constraint below applies only to runs that have a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Money spent: the sum of the run's steps' costs (each a live call's price, as its outbox
    # row records it).  ``would_cost`` is the sum of what its sandbox calls would have cost
    # live: shown labelled as such, never counted as spent (the overview counts ``cost``).
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    would_cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))

    objects = AgentRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="agentrun_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(trigger__in=Trigger.values), name="agentrun_trigger_valid"
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="agentrun_unique_idempotency_key",
            ),
        ]
        indexes = [
            # GET /runs and the run page: newest first within an organization, keyset on (created_at, id).
            models.Index(fields=["organization", "-created_at", "-id"], name="run_org_created"),
            # The admin's list of every organization's runs, newest first, and its date filter.
            models.Index(fields=["-created_at", "-id"], name="run_created"),
            # The same list filtered by agent or by status.
            models.Index(
                fields=["organization", "agent", "-created_at", "-id"], name="run_org_agent_created"
            ),
            models.Index(
                fields=["organization", "status", "-created_at", "-id"],
                name="run_org_status_created",
            ),
            # The watchdog: running runs by heartbeat, queued runs by due time; both partial.
            models.Index(
                fields=["heartbeat_at"],
                name="run_running_heartbeat",
                condition=models.Q(status="running"),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="run_queued_due",
                condition=models.Q(status="queued"),
            ),
            # GET /runs?lineage_id=… (a run's retries, newest first) and the completed steps a
            # Retry reuses (runs.selectors.lineage_step_results).  Partial: a lineage's first run
            # is found by its primary key, so only retries are indexed here and the INSERT of a
            # new run (nearly every run) maintains no extra index (bench/run_throughput.py).
            models.Index(
                fields=["lineage_id", "-created_at", "-id"],
                name="run_lineage_retries",
                condition=~models.Q(lineage_id=models.F("id")),
            ),
            # Origins, each partial (most runs have none, and they pay nothing for these).  Each
            # list index ends in the list's order: without it SQLite (no statistics) preferred
            # run_org_created to skip the sort and read the organization's runs instead.
            # GET /runs?batch_id=…&status=… (a batch's failed runs, newest first) and
            # batch_cancel() (a batch's queued and running runs).
            models.Index(
                fields=["batch_id", "status", "-created_at", "-id"],
                name="run_batch_status",
                condition=models.Q(batch_id__isnull=False),
            ),
            # GET /runs?batch_id=… : a batch's runs, newest first.
            models.Index(
                fields=["batch_id", "-created_at", "-id"],
                name="run_batch_created",
                condition=models.Q(batch_id__isnull=False),
            ),
            # GET /runs?schedule_id=… : a schedule's last runs, newest first.
            models.Index(
                fields=["schedule_id", "-created_at", "-id"],
                name="run_schedule_created",
                condition=models.Q(schedule_id__isnull=False),
            ),
            # A campaign's runs, newest first (its page, and its cost).
            models.Index(
                fields=["campaign_id", "-created_at", "-id"],
                name="run_campaign_created",
                condition=models.Q(campaign_id__isnull=False),
            ),
            # GET /runs?delivery_id=… : the run a webhook delivery started.
            models.Index(
                fields=["delivery_id", "-created_at", "-id"],
                name="run_delivery_created",
                condition=models.Q(delivery_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent}/{self.intent} {self.id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        self.lineage_default()
        super().save(*args, **kwargs)

    def lineage_default(self) -> None:
        """A run starts its own lineage unless it was given one to continue (a Retry).  Called by
        ``save`` and by ``runs.services.run_create``, which INSERTs without it."""
        if self.lineage_id is None:
            self.lineage_id = self.id

    @property
    def is_lineage_root(self) -> bool:
        return self.lineage_id == self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_scheduled(self) -> bool:
        """Queued for a chosen time still to come (not a retry's back-off): "Scheduled for …",
        not in flight, not a retry.  ``AgentRunQuerySet.scheduled`` is the same rule in SQL."""
        return (
            self.status == RunStatus.QUEUED
            and self.attempt == 0
            and self.next_attempt_at is not None
            and self.next_attempt_at > timezone.now()
        )

    @property
    def scheduled_for(self) -> datetime | None:
        return self.next_attempt_at if self.is_scheduled else None

    @property
    def wait_ms(self) -> int | None:
        """Time queued before the last attempt started (``queued_at`` → ``started_at``): the
        queue, and for a run retried by the worker its earlier attempts and their backoff."""
        if self.started_at is None:
            return None
        return max(0, int((self.started_at - self.queued_at).total_seconds() * 1000))

    @property
    def running_ms(self) -> int | None:
        """The duration so far of a run that is running (``started_at`` → now); else None.

        A finished run's duration is ``duration_ms``: its last attempt's ``started_at`` →
        ``finished_at``, the one duration the list, the run page, the API and the overview show.
        """
        if self.status != RunStatus.RUNNING or self.started_at is None:
            return None
        return max(0, int((timezone.now() - self.started_at).total_seconds() * 1000))

    @property
    def origin(self) -> tuple[str, uuid.UUID] | None:
        """``(kind, id)`` of what started this run, or None when a person or an API call did."""
        for kind, value in (
            (Origin.BATCH, self.batch_id),
            (Origin.SCHEDULE, self.schedule_id),
            (Origin.DELIVERY, self.delivery_id),
            (Origin.PARENT, self.parent_id),
        ):
            if value is not None:
                return kind, value
        return None


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Awaiting a decision"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class RunApproval(BaseModel):
    """The approval a run waits for: what it will send (``preview``) and who decided, when.

    Created with the run when the organization's approval settings hold it back
    (``agents.approvals``); the run is ``awaiting_approval`` while ``state`` is pending.
    """

    run = models.OneToOneField(AgentRun, on_delete=models.CASCADE, related_name="approval")
    state = models.CharField(
        max_length=16, choices=ApprovalState.choices, default=ApprovalState.PENDING
    )
    reasons = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the record says who decided even after the user is deleted, and an
    # API key (no user) decides under its name.
    decided_by_name = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True, default="")
    # The input as it was asked for, when the approver edited it before approving.
    original_input = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ApprovalState.values),
                name="runapproval_state_valid",
            ),
        ]
        indexes = [
            # The watchdog's expiry: pending approvals by deadline; partial, decided ones cost nothing.
            models.Index(
                fields=["expires_at"],
                name="approval_pending_expires",
                condition=models.Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"approval of {self.run_id} ({self.state})"

    @property
    def edited(self) -> bool:
        return self.original_input is not None


class StepKind(models.TextChoices):
    STEP = "step", "Step"
    CALL = "call", "Outside call"
    LLM = "llm", "LLM call"


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class RunStep(models.Model):
    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=StepKind.choices, default=StepKind.STEP)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64, blank=True, default="")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    provider_error_code = models.CharField(max_length=64, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="runstep_unique_run_seq"),
            models.CheckConstraint(
                condition=models.Q(status__in=StepStatus.values), name="runstep_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seq}. {self.name} ({self.status})"


# Duration histogram of the hourly rollups: fixed log-spaced buckets, four per decade from
# 10 ms (10, 18, 32, 56, 100, 178, … ms) up to about 53 minutes, plus one open-ended bucket.
# Percentiles read from them are exact to the bucket (±33%) and interpolated inside it; that
# is what lets the overview answer p50/p95 without reading runs.
ROLLUP_BUCKET_BOUNDS_MS: tuple[int, ...] = tuple(round(10 ** (1 + i / 4)) for i in range(23))
ROLLUP_BUCKETS = len(ROLLUP_BUCKET_BOUNDS_MS) + 1
ROLLUP_BUCKET_FIELDS: tuple[str, ...] = tuple(f"h{i:02d}" for i in range(ROLLUP_BUCKETS))


def _bucket() -> models.PositiveIntegerField:
    return models.PositiveIntegerField(default=0)


class RunRollup(models.Model):
    """Finished runs counted per (organization, hour, agent, status, error code, connector).

    Kept current by ``runs.services`` in the transaction that finishes a run, rebuilt by
    ``manage.py rebuild_rollups``.  ``hour`` is the UTC hour the run finished in;
    ``connector`` is the provider a failure came from ("" otherwise).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    agent = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=RunStatus.choices)
    error_code = models.CharField(max_length=32, blank=True, default="")
    connector = models.CharField(max_length=64, blank=True, default="")
    count = models.PositiveIntegerField(default=0)
    duration_total_ms = models.BigIntegerField(default=0)
    # The fastest and slowest run counted here: percentiles estimated from the histogram are
    # clamped to them (runs.overview), so a p95 never exceeds the slowest run.
    duration_min_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_max_ms = models.PositiveIntegerField(null=True, blank=True)
    cost_total = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("0"))
    h00, h01, h02, h03, h04, h05 = _bucket(), _bucket(), _bucket(), _bucket(), _bucket(), _bucket()
    h06, h07, h08, h09, h10, h11 = _bucket(), _bucket(), _bucket(), _bucket(), _bucket(), _bucket()
    h12, h13, h14, h15, h16, h17 = _bucket(), _bucket(), _bucket(), _bucket(), _bucket(), _bucket()
    h18, h19, h20, h21, h22, h23 = _bucket(), _bucket(), _bucket(), _bucket(), _bucket(), _bucket()

    class Meta:
        constraints = [
            # Also the index of the overview: one organization's rows over a window of hours.
            models.UniqueConstraint(
                fields=["organization", "hour", "agent", "status", "error_code", "connector"],
                name="runrollup_unique_cell",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="runrollup_status_valid"
            ),
        ]
        indexes = [
            # /metrics: the newest hour counted (runs.metrics, rollup lag), from the index's end.
            models.Index(fields=["hour"], name="runrollup_hour"),
            # The overview filtered by agent: one agent's rows over a window of hours.
            models.Index(fields=["organization", "agent", "hour"], name="runrollup_org_agent_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.agent} {self.status} ×{self.count}"


class RetentionMark(models.Model):
    """How far back an organization's finished runs have been deleted by the retention job.

    ``pruned_before`` is a UTC midnight: every run deleted finished before it, so the rollup
    hours before it count runs that may no longer exist and are never recomputed from the runs
    (``runs.rollups.rollups_rebuild`` leaves them as they are).  It only moves forward.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    pruned_before = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.organization_id} pruned before {self.pruned_before:%Y-%m-%d}"
